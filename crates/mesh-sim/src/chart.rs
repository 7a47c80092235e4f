//! The charts: state per node against peers ever met, and upstream and fork peers' delivery and
//! bytes sent against the mix.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;

use crate::node::Build;
use crate::outcome::RunOutcome;
use crate::verdict;

/// Colour of a build (colour-blind safe).
fn colour(build: Build) -> RGBColor {
    match build {
        Build::Fork => RGBColor(0, 114, 178),
        Build::Upstream => RGBColor(213, 94, 0),
    }
}

/// Median state (KiB) per peers-met bin, one line per run and build, of the runs with the
/// lowest seed (one line per setting); log-scaled peers met.
pub fn write_state_chart(path: &Path, runs: &[RunOutcome]) -> Result<()> {
    let seed = runs.iter().map(|r| r.scenario.net.seed).min().unwrap_or(0);
    let mut lines = Vec::new();
    for r in runs.iter().filter(|r| r.scenario.net.seed == seed) {
        for b in &r.builds {
            let points: Vec<(f64, f64)> = verdict::state_bins(r, b.build)
                .into_iter()
                .filter(|bin| bin.2 > 0)
                .map(|bin| (bin.2 as f64, bin.3 / 1024.0))
                .collect();
            let label = format!(
                "{} ({} peers, {:.0}% fork, seed {})",
                b.build,
                r.scenario.peers,
                100.0 * r.scenario.fork_share,
                r.scenario.net.seed
            );
            lines.push((b.build, label, points));
        }
    }
    let max_x = lines
        .iter()
        .flat_map(|l| l.2.iter().map(|p| p.0))
        .fold(2.0, f64::max);
    let max_y = lines
        .iter()
        .flat_map(|l| l.2.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let root = SVGBackend::new(path, (1000, 620)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "State per node at the end against peers ever met (peers up before the first broadcast; median per power-of-two bin)",
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((1.0..max_x * 1.5).log_scale(), 0.0..max_y * 1.1)?;
    chart
        .configure_mesh()
        .x_desc("peers ever met")
        .y_desc("protocol state (KiB of heap)")
        .draw()?;
    for (i, (build, label, points)) in lines.into_iter().enumerate() {
        let style = ShapeStyle::from(&colour(build)).stroke_width(1 + (i % 3) as u32);
        chart
            .draw_series(LineSeries::new(points.clone(), style))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, colour(build).filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Means over seeds of (delivery %, bytes sent per broadcast per peer), per setting, build and
/// fork share (%).
type MixPoints = BTreeMap<(String, Build), BTreeMap<u32, Vec<(f64, f64)>>>;

fn mix_points(runs: &[RunOutcome]) -> MixPoints {
    let mut points: MixPoints = BTreeMap::new();
    for r in runs {
        for b in &r.builds {
            let share = (100.0 * r.scenario.fork_share).round() as u32;
            points
                .entry((verdict::setting(r), b.build))
                .or_default()
                .entry(share)
                .or_default()
                .push((100.0 * b.delivery(), b.total_bytes()));
        }
    }
    points
}

/// Two panels against the share of fork peers: delivery (%) and bytes sent per broadcast per
/// peer, one line per setting and build (means over seeds).
pub fn write_mix_chart(path: &Path, runs: &[RunOutcome]) -> Result<()> {
    let points = mix_points(runs);
    let root = SVGBackend::new(path, (1000, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(400);
    let min_delivery = points
        .values()
        .flat_map(|m| m.values().flatten().map(|p| p.0))
        .fold(100.0, f64::min);
    let max_bytes = points
        .values()
        .flat_map(|m| m.values().flatten().map(|p| p.1))
        .fold(1.0, f64::max);
    draw_mix_panel(
        &top,
        "delivered to live subscribers (%)",
        (min_delivery - 1.0).max(0.0)..100.5,
        &points,
        |p| p.0,
    )?;
    draw_mix_panel(
        &bottom,
        "bytes sent per broadcast per peer",
        0.0..max_bytes * 1.15,
        &points,
        |p| p.1,
    )?;
    root.present()?;
    Ok(())
}

fn draw_mix_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    range: std::ops::Range<f64>,
    points: &MixPoints,
    value: fn(&(f64, f64)) -> f64,
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..100.0, range)?;
    chart.configure_mesh().x_desc("fork peers (%)").draw()?;
    for (i, ((setting, build), by_share)) in points.iter().enumerate() {
        let line: Vec<(f64, f64)> = by_share
            .iter()
            .map(|(share, v)| {
                let mean = v.iter().map(value).sum::<f64>() / v.len() as f64;
                (*share as f64, mean)
            })
            .collect();
        let style = ShapeStyle::from(&colour(*build)).stroke_width(1 + (i % 4) as u32);
        chart
            .draw_series(LineSeries::new(line.clone(), style))?
            .label(format!("{build}: {setting}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        chart.draw_series(
            line.into_iter()
                .map(|p| Circle::new(p, 3, colour(*build).filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
