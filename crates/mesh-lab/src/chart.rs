//! The lab's chart: two panels of bars, one group per fault and one bar per mesh, each the
//! median over the cell's runs as the verdicts judge it. Top: the gossip delivered among the
//! nodes whose overlay joined. Bottom: the bytes the upstream nodes sent together, relative to
//! what the same nodes sent in the all-upstream mesh of the same fault, with the 1.2x limit drawn
//! across.

use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;

use crate::matrix::{Cell, Fault, Mesh};
use crate::outcome::CellOutcome;
use crate::verdict::{self, BURDEN_LIMIT};

/// One colour per mesh, in [`Mesh::ALL`] order (colour-blind safe).
const COLOURS: [RGBColor; 5] = [
    RGBColor(0, 0, 0),
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
];

/// Draws both panels for `outcomes` into an SVG at `path`.
pub fn write_chart(path: &Path, outcomes: &[CellOutcome]) -> Result<()> {
    let root = SVGBackend::new(path, (1100, 760)).into_drawing_area();
    root.fill(&WHITE)?;
    let legend: Vec<String> = Mesh::ALL.iter().map(ToString::to_string).collect();
    let title = format!("Lab matrix. Bars left to right: {}", legend.join(", "));
    let body = root.titled(&title, ("sans-serif", 15))?;
    let (top, bottom) = body.split_vertically(370);
    let cells = verdict::cells(outcomes);
    let delivery = |cell| verdict::median_delivery(outcomes, cell).map(|d| 100.0 * d);
    draw_panel(
        &top,
        "gossip delivered among joined nodes (%, median of runs)",
        0.0..105.0,
        None,
        &cells,
        delivery,
    )?;
    let burden = |cell| verdict::upstream_burden(outcomes, cell);
    let limit = Some(BURDEN_LIMIT);
    draw_panel(
        &bottom,
        "bytes the upstream nodes sent, against the same nodes among upstream (x, medians of runs)",
        0.0..2.5,
        limit,
        &cells,
        burden,
    )?;
    root.present()?;
    Ok(())
}

/// One panel: a group of bars per fault, `value` of each cell, and an optional limit line.
fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    range: std::ops::Range<f64>,
    limit: Option<f64>,
    cells: &[Cell],
    value: impl Fn(Cell) -> Option<f64>,
) -> Result<()> {
    let groups = Fault::ALL.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 14))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..groups, range)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(Fault::ALL.len() * 2 + 1)
        .x_label_formatter(&|x| fault_label(*x))
        .draw()?;
    for &cell in cells {
        let Some(v) = value(cell) else { continue };
        let group = Fault::ALL
            .iter()
            .position(|f| *f == cell.fault)
            .unwrap_or(0) as f64;
        let slot = Mesh::ALL.iter().position(|m| *m == cell.mesh).unwrap_or(0);
        let x0 = group + 0.1 + slot as f64 * 0.16;
        let colour = COLOURS[slot].filled();
        chart.draw_series([Rectangle::new([(x0, 0.0), (x0 + 0.14, v)], colour)])?;
    }
    if let Some(limit) = limit {
        let line = LineSeries::new([(0.0, limit), (groups, limit)], RED.stroke_width(2));
        chart.draw_series(line)?;
    }
    Ok(())
}

/// The fault under a group's middle, nothing elsewhere.
fn fault_label(x: f64) -> String {
    let centre = x - x.floor();
    match Fault::ALL.get(x.floor() as usize) {
        Some(fault) if (centre - 0.5).abs() < 0.05 => fault.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::fixture;

    fn outcome(mesh: Mesh, fault: Fault, delivered: usize, peer_sent: u64) -> CellOutcome {
        fixture::outcome(mesh, fault, 1, (delivered, 100), peer_sent)
    }

    #[test]
    fn bars_per_cell_and_the_burden_against_the_reference() {
        let outcomes = vec![
            outcome(Mesh::AllUpstream, Fault::Churn, 92, 1000),
            outcome(Mesh::ForkHub, Fault::Churn, 86, 1300),
            outcome(Mesh::AllFork, Fault::Churn, 97, 900),
        ];
        assert_eq!(
            verdict::upstream_burden(&outcomes, outcomes[1].cell),
            Some(1.3)
        );
        assert_eq!(
            verdict::upstream_burden(&outcomes, outcomes[2].cell),
            None,
            "no upstream node"
        );
        let path = std::env::temp_dir().join(format!("mesh-lab-chart-{}.svg", std::process::id()));
        write_chart(&path, &outcomes).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(svg.contains("churn"), "fault labels are drawn");
        // 3 delivery bars and 1 burden bar (the fork hub's).
        let filled = |c: RGBColor| format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2);
        let bars: usize = COLOURS
            .iter()
            .map(|c| svg.matches(&filled(*c)).count())
            .sum();
        assert!(bars >= 4, "{bars} bars in:\n{svg}");
    }
}
