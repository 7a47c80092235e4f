//! The SVG chart of one or more runs against churn cycles, one panel per figure.
//!
//! Short-lived peers in flight swing the heap by tens of MiB from one sample to the next, on
//! both sides; what the long-lived nodes keep is a slope of a few KB per cycle under that band.
//! So each run's main line goes through its quiet samples (no short-lived peer alive), all its
//! samples are drawn faint behind it, and its settled samples are circled: a leak shows as a
//! quiet line and circles that climb. Axis labels are integers, bytes in the unit the panel's
//! title names.

use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result};
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
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

/// What the chart's title says about how to read it.
const HOW_TO_READ: &str = "against churn cycles.  Thick line: quiet samples (no short-lived peer alive).  Faint: every sample.  Circles: settled samples.";

/// The colour of each run, in order (colour-blind safe).
const COLOURS: [RGBColor; 3] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
];

/// Most labelled ticks on an axis.
const MAX_TICKS: usize = 8;

/// Width and height of the chart in pixels.
const SIZE: (u32, u32) = (1200, 1380);

/// The drawing area of one panel.
type Panel<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Draws one panel per figure of [`CHART_PANELS`] against churn cycles, one colour per run.
pub fn write_chart(path: &Path, runs: &[(&str, &[Sample])]) -> Result<()> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let labels: Vec<&str> = runs.iter().map(|(label, _)| *label).collect();
    let title = format!("{} {HOW_TO_READ}", labels.join(" and "));
    let body = root.titled(&title, ("sans-serif", 16))?;
    for (area, name) in body.split_evenly((3, 2)).iter().zip(CHART_PANELS) {
        draw_panel(area, name, runs)?;
    }
    root.present()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// One run's points of one figure, in the panel's unit.
struct RunSeries<'a> {
    label: &'a str,
    colour: RGBColor,
    /// Every sample.
    all: Vec<(f64, f64)>,
    /// The quiet samples but the settled ones (every sample when a run has fewer than two):
    /// a settled sample comes after a pause in which departed peers' state drained, so it sits
    /// below the quiet samples around it and would pull the line down to a spike.
    quiet: Vec<(f64, f64)>,
    /// The settled samples.
    settled: Vec<(f64, f64)>,
}

impl<'a> RunSeries<'a> {
    /// Run `label`'s points of figure `name`, divided by `scale`.
    fn of(label: &'a str, colour: RGBColor, samples: &[Sample], name: &str, scale: f64) -> Self {
        let points = |keep: fn(&Sample) -> bool| -> Vec<(f64, f64)> {
            samples
                .iter()
                .filter(|s| keep(s))
                .filter_map(|s| {
                    s.figure(name)
                        .map(|(v, _)| (s.cycles as f64, v as f64 / scale))
                })
                .collect()
        };
        let all = points(|_| true);
        let mut quiet = points(|s| s.quiet && !s.settled);
        if quiet.len() < 2 {
            quiet = all.clone();
        }
        Self {
            label,
            colour,
            all,
            quiet,
            settled: points(|s| s.settled),
        }
    }
}

/// The unit a figure is drawn in: bytes in MiB, KiB or B, whichever keeps its largest value
/// above 2; anything else as it is.
fn unit(name: &str, max: f64) -> (f64, &'static str) {
    const KIB: f64 = 1024.0;
    match name.ends_with("bytes") {
        true if max >= 2.0 * KIB * KIB => (KIB * KIB, " (MiB)"),
        true if max >= 2.0 * KIB => (KIB, " (KiB)"),
        true => (1.0, " (B)"),
        false => (1.0, ""),
    }
}

/// Tick positions from 0 to `max` at a round integer step (1, 2 or 5 times a power of ten), at
/// most [`MAX_TICKS`] of them.
fn ticks(max: f64) -> Vec<f64> {
    if !max.is_finite() || max < 1.0 {
        return vec![0.0];
    }
    let mut power = 1.0;
    let step = loop {
        let fits = [1.0, 2.0, 5.0]
            .map(|m| m * power)
            .into_iter()
            .find(|step| ((max / step).floor() as usize) < MAX_TICKS);
        if let Some(step) = fits {
            break step;
        }
        power *= 10.0;
    };
    (0..)
        .map(|i| i as f64 * step)
        .take_while(|tick| *tick <= max)
        .collect()
}

/// A linear axis from 0 whose labelled ticks are [`ticks`], labelled as integers.
struct IntegerAxis {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl IntegerAxis {
    /// The axis from 0 to `max`.
    fn up_to(max: f64) -> Self {
        Self {
            linear: (0.0..max).into(),
            ticks: ticks(max),
        }
    }
}

impl Ranged for IntegerAxis {
    type ValueType = f64;
    type FormatOption = NoDefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.linear.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // No light grid lines: the labelled ticks only.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
}

impl ValueFormatter<f64> for IntegerAxis {
    fn format(value: &f64) -> String {
        format!("{value:.0}")
    }
}

/// Draws figure `name` of every run on `area`.
fn draw_panel(area: &Panel, name: &str, runs: &[(&str, &[Sample])]) -> Result<()> {
    let raw_max = runs
        .iter()
        .flat_map(|(_, samples)| samples.iter().filter_map(|s| s.figure(name)))
        .map(|(v, _)| v as f64)
        .fold(0.0, f64::max);
    let (scale, unit) = unit(name, raw_max);
    let series: Vec<RunSeries> = runs
        .iter()
        .enumerate()
        .map(|(i, (label, samples))| {
            RunSeries::of(label, COLOURS[i % COLOURS.len()], samples, name, scale)
        })
        .collect();
    let mut chart = axes(area, &format!("{name}{unit}"), &series)?;
    draw_runs(&mut chart, &series)?;
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    Ok(())
}

/// A panel's chart with its caption and axes, from 0 to beyond the largest point of `series`.
fn axes<'a, 'b>(
    area: &'a Panel<'b>,
    caption: &str,
    series: &[RunSeries],
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<IntegerAxis, IntegerAxis>>> {
    let points = || series.iter().flat_map(|s| s.all.iter());
    let max_x = points().map(|p| p.0).fold(1.0, f64::max);
    let max_y = points().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(IntegerAxis::up_to(max_x), IntegerAxis::up_to(max_y))?;
    chart
        .configure_mesh()
        .x_desc("churn cycles")
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    Ok(chart)
}

/// Draws every run's faint lines of every sample first, then the quiet lines (with their
/// legend), then the settled circles, so no run's faint line hides another's quiet one.
fn draw_runs(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<IntegerAxis, IntegerAxis>>,
    series: &[RunSeries],
) -> Result<()> {
    for s in series {
        let faint = s.colour.mix(0.3).stroke_width(1);
        chart.draw_series(LineSeries::new(s.all.iter().copied(), faint))?;
    }
    for s in series {
        let line = s.colour.stroke_width(2);
        let label = if s.all.is_empty() {
            format!("{}: not recorded", s.label)
        } else {
            s.label.to_owned()
        };
        chart
            .draw_series(LineSeries::new(s.quiet.iter().copied(), line))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], line));
    }
    for s in series {
        let style = s.colour.stroke_width(2);
        chart.draw_series(s.settled.iter().map(|&p| Circle::new(p, 5, style)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_samples::sample;

    #[test]
    fn ticks_are_round_integers_and_few() {
        for max in [
            1.0, 1.1, 3.3, 7.9, 9.0, 10.5, 57.0, 110.0, 648.0, 41_120.0, 1.5e6,
        ] {
            let ticks = ticks(max);
            assert!(
                ticks.len() >= 2 && ticks.len() <= MAX_TICKS,
                "{max}: {ticks:?}"
            );
            assert_eq!(ticks[0], 0.0);
            assert!(
                ticks.iter().all(|t| t.fract() == 0.0 && *t <= max),
                "{max}: {ticks:?}"
            );
        }
        assert_eq!(
            ticks(600.0),
            vec![0.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0]
        );
        assert_eq!(ticks(0.5), vec![0.0]);
    }

    #[test]
    fn bytes_are_drawn_in_a_unit_that_keeps_them_above_two() {
        assert_eq!(unit("process.heap_bytes", 100.0 * 1048576.0).1, " (MiB)");
        assert_eq!(unit("process.heap_bytes", 3.0 * 1024.0).1, " (KiB)");
        assert_eq!(unit("p2panda_store.bytes", 100.0).1, " (B)");
        assert_eq!(unit("process.tokio_tasks", 1e9), (1.0, ""));
    }

    #[test]
    fn quiet_samples_are_the_main_line_and_settled_ones_are_circled() {
        let mut samples: Vec<Sample> = (0..=20).map(|c| sample(c, 100 + c, c)).collect();
        samples[10].settled = true;
        samples[20].settled = true;
        let series = RunSeries::of("fork", COLOURS[0], &samples, "process.heap_bytes", 1.0);
        assert_eq!(series.all.len(), 21);
        let quiet: Vec<f64> = series.quiet.iter().map(|p| p.0).collect();
        assert_eq!(quiet, vec![0.0, 5.0, 15.0]);
        assert_eq!(series.settled, vec![(10.0, 110.0), (20.0, 120.0)]);

        let dir = std::env::temp_dir().join(format!("mesh-harness-chart-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let svg = dir.join("c.svg");
        write_chart(&svg, &[("fork", &samples), ("upstream", &samples[..8])]).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("<svg") && text.contains("p2panda_net.address_book.peers"));
        assert!(text.contains("process.heap_bytes (B)"));
        assert!(text.contains("upstream: not recorded"));
        // Two settled samples in every panel but the gossip connection tasks, which the samples
        // lack.
        assert_eq!(
            text.matches("<circle").count(),
            2 * (CHART_PANELS.len() - 1)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
