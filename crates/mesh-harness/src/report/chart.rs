//! The SVG chart of one or more runs against churn cycles, one panel per figure.

use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;

use crate::probe::Sample;

/// The figures the chart shows, one panel each, in this order.
pub const CHART_PANELS: [&str; 6] = [
    "process.heap_bytes",
    "process.heap_blocks",
    "p2panda_net.address_book.peers",
    "iroh_gossip.connection_tasks",
    "process.tokio_tasks",
    "process.open_fds",
];

/// Draws one panel per figure of [`CHART_PANELS`] against churn cycles, one line per run.
pub fn write_chart(path: &Path, runs: &[(&str, &[Sample])]) -> Result<()> {
    let root = SVGBackend::new(path, (1200, 1350)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((3, 2));
    let colours = [
        RGBColor(0, 114, 178),
        RGBColor(213, 94, 0),
        RGBColor(0, 158, 115),
    ];
    for (area, name) in panels.iter().zip(CHART_PANELS) {
        let scale = if name.ends_with("bytes") {
            1024.0 * 1024.0
        } else {
            1.0
        };
        let series: Vec<(&str, Vec<(f64, f64)>)> = runs
            .iter()
            .map(|(label, samples)| {
                let points = samples
                    .iter()
                    .filter_map(|s| {
                        s.figure(name)
                            .map(|(v, _)| (s.cycles as f64, v as f64 / scale))
                    })
                    .collect();
                (*label, points)
            })
            .collect();
        let max_x = series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|q| q.0))
            .fold(1.0, f64::max);
        let max_y = series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|q| q.1))
            .fold(1.0, f64::max)
            * 1.1;
        let unit = if scale > 1.0 { " (MiB)" } else { "" };
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{name}{unit}"), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..max_x, 0.0..max_y)?;
        chart
            .configure_mesh()
            .x_desc("churn cycles")
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for (i, (label, points)) in series.into_iter().enumerate() {
            let colour = colours[i % colours.len()];
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
    }
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
