//! Turning samples into verdicts a person can read: per-figure tables, the heap slope per churn
//! cycle, a CSV of every sample and an SVG chart, fork and upstream side by side.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use plotters::prelude::*;

use crate::ledger::MissedMessage;
use crate::probe::{is_counter, Reading, Sample};

/// A least-squares line through points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Change of y per unit of x.
    pub slope: f64,
    /// y at x = 0.
    pub intercept: f64,
    /// Coefficient of determination (1.0 for a perfect line, 0.0 for none).
    pub r2: f64,
}

/// The Theil–Sen slope through `points`: the median of the slopes between every pair with
/// distinct x. Robust to outliers (up to about 29% of the points), which a heap series has: a
/// sample taken while a late peer still holds memory is one point far off the line, and least
/// squares lets such a point decide the verdict. `None` with fewer than two distinct x values.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    let slopes = pairwise_slopes(points);
    if slopes.is_empty() {
        return None;
    }
    let mid = slopes.len() / 2;
    Some(if slopes.len().is_multiple_of(2) {
        (slopes[mid - 1] + slopes[mid]) / 2.0
    } else {
        slopes[mid]
    })
}

/// The slopes between every pair of `points` with distinct x, sorted.
fn pairwise_slopes(points: &[(f64, f64)]) -> Vec<f64> {
    let mut slopes = Vec::new();
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            if b.0 != a.0 {
                slopes.push((b.1 - a.1) / (b.0 - a.0));
            }
        }
    }
    slopes.sort_by(f64::total_cmp);
    slopes
}

/// The 95% confidence interval of the Theil–Sen slope through `points` (Sen 1968): the pairwise
/// slopes ranked, and the ranks `(N ∓ C) / 2` around the median with
/// `C = 1.96 · sqrt(n (n - 1) (2n + 5) / 18)` (Kendall's tau under no trend, ties ignored).
///
/// It says what a run can tell: a heap sampled between waves still varies by megabytes (the
/// state of peers that left seconds ago), so a short run may fit a slope whose interval spans
/// far more than the threshold. `None` with fewer than three distinct x values.
pub fn theil_sen_interval(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    let slopes = pairwise_slopes(points);
    if slopes.len() < 3 {
        return None;
    }
    let pairs = slopes.len() as f64;
    let c = 1.96 * (n * (n - 1.0) * (2.0 * n + 5.0) / 18.0).sqrt();
    // Ranks are 1-based: the lower bound is the M1-th slope, the upper the (M2 + 1)-th.
    let lower_rank = ((pairs - c) / 2.0).floor().max(1.0) as usize;
    let upper_rank = (((pairs + c) / 2.0).ceil() as usize + 1).min(slopes.len());
    Some((slopes[lower_rank - 1], slopes[upper_rank - 1]))
}

/// Fits a line through `points`; `None` with fewer than two distinct x values.
pub fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    let slope = sxy / sxx;
    let r2 = if syy == 0.0 {
        1.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    Some(Fit {
        slope,
        intercept: mean_y - slope * mean_x,
        r2,
    })
}

/// What a run is held to.
#[derive(Debug, Clone, PartialEq)]
pub struct Criteria {
    /// Highest acceptable growth of live heap, in bytes per churn cycle, over the second half of
    /// the run.
    pub heap_bytes_per_cycle: f64,
    /// Highest acceptable growth of live heap blocks per churn cycle, judged like
    /// `heap_bytes_per_cycle`. A structure that keeps one allocation per departed peer grows it by
    /// one per cycle, however few its bytes; a table growing its capacity does not move it.
    pub heap_blocks_per_cycle: f64,
    /// Highest acceptable growth of a structure (entries, tasks, descriptors) over the second
    /// half of the run, fitted, in absolute units.
    pub structure_growth: f64,
    /// Structures that fill up to their bound by design and are judged by that bound alone: a
    /// capped store keeps what it is given until it must evict, so its growth up to the cap is
    /// not a leak (its evictions are counted instead).
    pub fills_to_bound: Vec<String>,
}

/// The harness's structures that fill up to their cap by design: the hub's capped store.
pub const FILLS_TO_BOUND: &[&str] = &[
    "p2panda_store.operations",
    "p2panda_store.bytes",
    "p2panda_store.logs",
];

/// The address book's figures, which grow by one peer per churn cycle by design while every
/// departed peer is within the peer TTL (the fork's default of 30 minutes outlasts a soak).
pub const REMEMBERED_WITHIN_TTL: &[&str] = &[
    "p2panda_net.address_book.peers",
    "p2panda_net.address_book.addresses",
    "p2panda_net.address_book.topic_associations",
];

/// Highest acceptable heap a hub with default settings keeps per departed peer it still
/// remembers: its address-book record (addresses, topics, last-seen) and nothing of the
/// connection, gossip, sync or dial state only a connected peer needs.
pub const REMEMBERED_PEER_HEAP_BYTES: f64 = 2048.0;

impl Criteria {
    /// The criteria of a run whose long-lived nodes remember every departed peer (the fork's
    /// default peer TTL): the address book fills up to its bound by design, and the heap per
    /// churn cycle, which is then the heap per remembered peer, is held to
    /// [`REMEMBERED_PEER_HEAP_BYTES`].
    pub fn remembering_peers() -> Self {
        let mut criteria = Self {
            heap_bytes_per_cycle: REMEMBERED_PEER_HEAP_BYTES,
            ..Self::default()
        };
        criteria
            .fills_to_bound
            .extend(REMEMBERED_WITHIN_TTL.iter().map(|s| (*s).to_owned()));
        criteria
    }

    /// The growth limit per churn cycle of a whole-process heap figure, `None` for any other.
    pub fn heap_limit(&self, name: &str) -> Option<f64> {
        match name {
            "process.heap_bytes" => Some(self.heap_bytes_per_cycle),
            "process.heap_blocks" => Some(self.heap_blocks_per_cycle),
            _ => None,
        }
    }
}

impl Default for Criteria {
    fn default() -> Self {
        Self {
            // Upstream keeps about 50 KB per churned peer between the default run's settled
            // samples (cycles about 300 and 600). The fork's tables are still growing their
            // capacity there, with bounded entries: +1.0 to +2.3 KB per cycle over eleven runs,
            // +0.9 KB between cycles 904 and 1800 with 37 more live blocks in all (docs/soak.md).
            heap_bytes_per_cycle: 4096.0,
            // Upstream keeps 57-65 blocks per churned peer between the default run's settled
            // samples; the fork's settled samples differed by 3.5-5.0 per cycle over three runs
            // (6.6 at 24 peers at a time), mostly what is still draining at a settled sample:
            // dhat's settled profiles of the same window differ by 43 blocks in all
            // (docs/soak.md).
            heap_blocks_per_cycle: 16.0,
            // The short-lived peers alive at one moment come and go: allow a band of that order.
            structure_growth: 32.0,
            fills_to_bound: FILLS_TO_BOUND.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// How a figure fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within its bound and flat over the second half.
    Ok,
    /// Went above its configured bound.
    OverBound,
    /// Kept growing over the second half.
    Grows,
    /// The run cannot tell whether it stays within its limit: the heap slope's 95% interval
    /// spans the limit (too few or too noisy samples; run longer).
    Unresolved,
    /// Shown for information, not judged (RSS, which allocators keep; sizes without cycles).
    Info,
}

impl Verdict {
    /// Short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::OverBound => "OVER BOUND",
            Verdict::Grows => "GROWS",
            Verdict::Unresolved => "UNRESOLVED",
            Verdict::Info => "-",
        }
    }

    /// Whether the verdict fails a run.
    pub fn fails(self) -> bool {
        matches!(
            self,
            Verdict::OverBound | Verdict::Grows | Verdict::Unresolved
        )
    }
}

/// One figure over a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Figure name (`process.heap_bytes`, `address_book.peers`, ...).
    pub name: String,
    /// First sample.
    pub start: u64,
    /// Largest sample.
    pub peak: u64,
    /// Last sample.
    pub end: u64,
    /// Configured bound, if any.
    pub bound: Option<u64>,
    /// Growth per churn cycle over the second half of the run: the Theil–Sen slope through the
    /// quiet samples (see [`theil_sen`]).
    pub slope_per_cycle: Option<f64>,
    /// 95% confidence interval of that slope (see [`theil_sen_interval`]).
    pub slope_interval: Option<(f64, f64)>,
    /// Growth per churn cycle between the first and the last settled sample, when the run took
    /// two at different cycle counts (`RunOptions::settled_pause`).
    pub settled_per_cycle: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
}

/// Summarises every figure of a run's samples.
pub fn summarize(samples: &[Sample], criteria: &Criteria) -> Vec<Summary> {
    let Some(last) = samples.last() else {
        return Vec::new();
    };
    let half = last.cycles / 2;
    // The trend is judged while peers churn: the quiet samples after the last cycle (all at the
    // same cycle count) would otherwise pull the fit down.
    let churn_end = samples
        .iter()
        .position(|s| s.cycles == last.cycles)
        .unwrap_or(samples.len() - 1);
    let mut second_half: Vec<&Sample> = samples[..=churn_end]
        .iter()
        .filter(|s| s.cycles >= half)
        .collect();
    // Between waves only the long-lived nodes hold memory: fit through those samples when a run
    // has them, so the band of peers alive at other moments does not drown the trend.
    // Settled samples hold less than any sample taken while peers churn (that is their point),
    // so they stay out of the fit; with two of them, they decide the verdicts instead (below).
    second_half.retain(|s| !s.settled);
    if second_half.iter().filter(|s| s.quiet).count() >= 3 {
        second_half.retain(|s| s.quiet);
    }
    let span = (last.cycles - half) as f64;
    names(samples)
        .into_iter()
        .map(|name| {
            let values: Vec<(u64, u64, Option<u64>)> = samples
                .iter()
                .filter_map(|s| figure(s, &name).map(|(v, b)| (s.cycles, v, b)))
                .collect();
            let start = values.first().map_or(0, |v| v.1);
            let end = values.last().map_or(0, |v| v.1);
            let peak = values.iter().map(|v| v.1).max().unwrap_or(0);
            let bound = values.iter().filter_map(|v| v.2).max();
            let points: Vec<(f64, f64)> = second_half
                .iter()
                .filter_map(|s| figure(s, &name).map(|(v, _)| (s.cycles as f64, v as f64)))
                .collect();
            let slope = theil_sen(&points);
            let slope_interval = theil_sen_interval(&points);
            let settled = settled_change(samples, &name);
            let settled_per_cycle = settled.map(|(growth, _)| growth);
            let verdict = if bound.is_some_and(|b| peak > b) {
                Verdict::OverBound
            } else if name == "process.rss_bytes" || is_counter(&name) || slope.is_none() {
                Verdict::Info
            } else if bound.is_some() && criteria.fills_to_bound.contains(&name) {
                Verdict::Ok
            } else if let Some(limit) = criteria.heap_limit(&name) {
                match settled_per_cycle {
                    // Two settled samples measure what the nodes keep for good directly; the
                    // fitted slope carries the noise of departed peers' transient state.
                    Some(growth) if growth > limit => Verdict::Grows,
                    Some(_) => Verdict::Ok,
                    None => heap_verdict(slope, slope_interval, limit),
                }
            } else if let Some((growth, cycles)) = settled {
                // What the nodes keep for good, between the two settled samples.
                if growth * cycles > criteria.structure_growth {
                    Verdict::Grows
                } else {
                    Verdict::Ok
                }
            } else if slope.unwrap_or(0.0) * span > criteria.structure_growth {
                Verdict::Grows
            } else {
                Verdict::Ok
            };
            Summary {
                name,
                start,
                peak,
                end,
                bound,
                slope_per_cycle: slope,
                slope_interval,
                settled_per_cycle,
                verdict,
            }
        })
        .collect()
}

/// Growth of figure `name` per churn cycle from the first to the last settled sample, and the
/// cycles between them, when the run took two at different cycle counts
/// (`RunOptions::settled_pause`).
fn settled_change(samples: &[Sample], name: &str) -> Option<(f64, f64)> {
    let settled: Vec<&Sample> = samples.iter().filter(|s| s.settled).collect();
    let (first, last) = (settled.first()?, settled.last()?);
    if last.cycles <= first.cycles {
        return None;
    }
    let (a, _) = figure(first, name)?;
    let (b, _) = figure(last, name)?;
    let cycles = (last.cycles - first.cycles) as f64;
    Some(((b as f64 - a as f64) / cycles, cycles))
}

/// Heap bytes per remembered peer: the change of the heap between the first and the last
/// settled sample over the change of the hub's known peers, when that grew.
pub fn heap_per_remembered_peer(samples: &[Sample]) -> Option<f64> {
    let (heap, cycles) = settled_change(samples, "process.heap_bytes")?;
    let (peers, _) = settled_change(samples, "p2panda_net.address_book.peers")?;
    (peers * cycles >= 1.0).then(|| heap / peers)
}

/// The heap's verdict from its slope and the slope's 95% interval: growth beyond `limit` is
/// shown when the whole interval is above it, and the heap is shown within it when the whole
/// interval is below it. A run whose interval spans the limit cannot tell: `Unresolved`, which
/// fails like `Grows` (a run that cannot show the heap within its limit is not a pass). With too
/// few points for an interval the slope alone decides.
fn heap_verdict(slope: Option<f64>, interval: Option<(f64, f64)>, limit: f64) -> Verdict {
    match (slope, interval) {
        (_, Some((lo, _))) if lo > limit => Verdict::Grows,
        (_, Some((_, hi))) if hi > limit => Verdict::Unresolved,
        (_, Some(_)) => Verdict::Ok,
        (Some(slope), None) if slope > limit => Verdict::Grows,
        _ => Verdict::Ok,
    }
}

fn names(samples: &[Sample]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for sample in samples {
        for (name, _, _) in sample.figures() {
            if seen.insert(name.clone()) {
                out.push(name);
            }
        }
    }
    out
}

fn figure(sample: &Sample, name: &str) -> Option<(u64, Option<u64>)> {
    sample
        .figures()
        .into_iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, v, b)| (v, b))
}

fn human(name: &str, value: u64) -> String {
    if name.ends_with("bytes") {
        format!("{:.1} MiB", value as f64 / (1024.0 * 1024.0))
    } else {
        value.to_string()
    }
}

fn human_slope(name: &str, slope: Option<f64>) -> String {
    match slope {
        None => "-".to_owned(),
        Some(s) if name.ends_with("bytes") => format!("{:+.0} B", s),
        Some(s) => format!("{:+.3}", s),
    }
}

/// A table with one row per figure and one group of columns per run (e.g. fork, upstream).
pub fn table(runs: &[(&str, &[Summary])]) -> String {
    let mut rows: Vec<String> = Vec::new();
    for (_, summaries) in runs {
        for s in *summaries {
            if !rows.contains(&s.name) {
                rows.push(s.name.clone());
            }
        }
    }
    let mut header = vec!["figure".to_owned()];
    for (label, _) in runs {
        for col in [
            "start",
            "peak",
            "end",
            "bound",
            "per cycle (2nd half) [95% CI]; settled",
            "verdict",
        ] {
            header.push(format!("{label}: {col}"));
        }
    }
    let mut body: Vec<Vec<String>> = Vec::new();
    for name in &rows {
        let mut row = vec![name.clone()];
        for (_, summaries) in runs {
            match summaries.iter().find(|s| &s.name == name) {
                Some(s) => {
                    row.push(human(name, s.start));
                    row.push(human(name, s.peak));
                    row.push(human(name, s.end));
                    row.push(s.bound.map_or("-".to_owned(), |b| human(name, b)));
                    let mut slope = human_slope(name, s.slope_per_cycle);
                    // The heap's verdicts are the ones noise can decide: show what the run can
                    // tell.
                    match (name.as_str(), s.slope_interval) {
                        ("process.heap_bytes", Some((lo, hi))) => {
                            slope.push_str(&format!(" [{lo:+.0}, {hi:+.0}]"));
                        }
                        ("process.heap_blocks", Some((lo, hi))) => {
                            slope.push_str(&format!(" [{lo:+.2}, {hi:+.2}]"));
                        }
                        _ => {}
                    }
                    match (name.as_str(), s.settled_per_cycle) {
                        ("process.heap_bytes", Some(growth)) => {
                            slope.push_str(&format!("; settled {growth:+.0} B"));
                        }
                        ("process.heap_blocks", Some(growth)) => {
                            slope.push_str(&format!("; settled {growth:+.3}"));
                        }
                        _ => {}
                    }
                    row.push(slope);
                    row.push(s.verdict.label().to_owned());
                }
                None => row.extend(std::iter::repeat_n("n/a".to_owned(), 6)),
            }
        }
        body.push(row);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            body.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "| {} |", padded.join(" | "));
    };
    line(&header, &mut out);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule, &mut out);
    for row in &body {
        line(row, &mut out);
    }
    out
}

fn yes_no(flag: bool) -> &'static str {
    if flag {
        "yes"
    } else {
        "no"
    }
}

/// Most lost messages [`missed_table`] lists; the rest are counted.
pub const MAX_MISSED_ROWS: usize = 30;

/// A table of the messages a run lost (see [`crate::ledger`]): which long-lived nodes each one
/// missed and what its publisher did. Empty when nothing was lost.
pub fn missed_table(missed: &[MissedMessage]) -> String {
    if missed.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "| lost message (cycle/seq) | topic | missed by | publisher lingered | subscription ended | publisher left | neighbours at publish | long-lived neighbour at publish / first met / kept for |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for m in missed.iter().take(MAX_MISSED_ROWS) {
        let _ = writeln!(
            out,
            "| {}/{} | {} | {} | {} ms | {:?} | {:?} | {} | {} / {} / {} |",
            m.cycle,
            m.seq,
            m.topic,
            m.missed_by_names().join(", "),
            m.linger_ms,
            m.ending,
            m.leave,
            m.neighbours_at_publish,
            yes_no(m.long_lived_neighbour_at_publish),
            match m.first_long_lived_neighbour_ms {
                Some(ms) => format!("{ms:+} ms"),
                None => "never".to_string(),
            },
            match (
                m.first_long_lived_neighbour_ms,
                m.long_lived_neighbour_kept_ms
            ) {
                (None, _) => "-".to_string(),
                (Some(_), Some(ms)) => format!("{ms} ms"),
                (Some(_), None) => "until it left".to_string(),
            }
        );
    }
    if missed.len() > MAX_MISSED_ROWS {
        let _ = writeln!(out, "\n... and {} more", missed.len() - MAX_MISSED_ROWS);
    }
    out
}

/// Writes every sample as CSV: `elapsed_s,cycles`, then one column per figure.
pub fn write_csv(path: &Path, samples: &[Sample]) -> Result<()> {
    let names = names(samples);
    let mut out = String::from("elapsed_s,cycles,quiet,settled");
    for name in &names {
        out.push(',');
        out.push_str(name);
    }
    out.push('\n');
    for s in samples {
        let _ = write!(
            out,
            "{:.3},{},{},{}",
            s.elapsed.as_secs_f64(),
            s.cycles,
            u8::from(s.quiet),
            u8::from(s.settled)
        );
        for name in &names {
            out.push(',');
            if let Some((v, _)) = figure(s, name) {
                let _ = write!(out, "{v}");
            }
        }
        out.push('\n');
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

/// Reads samples back from [`write_csv`]'s format (bounds are not kept in the CSV).
pub fn read_csv(path: &Path) -> Result<Vec<Sample>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().context("empty CSV")?.split(',').collect();
    if header.get(..3) != Some(&["elapsed_s", "cycles", "quiet"]) {
        bail!("{} is not a soak CSV", path.display());
    }
    // CSVs written before settled samples existed have no `settled` column.
    let fixed = if header.get(3) == Some(&"settled") {
        4
    } else {
        3
    };
    let mut samples = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let mut sample = Sample {
            elapsed: Duration::from_secs_f64(cells[0].parse()?),
            cycles: cells[1].parse()?,
            quiet: cells[2] == "1",
            settled: fixed == 4 && cells[3] == "1",
            heap_bytes: 0,
            heap_blocks: None,
            rss_bytes: 0,
            fds: 0,
            tasks: 0,
            structures: Vec::new(),
        };
        for (name, cell) in header.iter().zip(&cells).skip(fixed) {
            if cell.is_empty() {
                continue;
            }
            let value: u64 = cell.parse()?;
            match *name {
                "process.heap_bytes" => sample.heap_bytes = value,
                "process.heap_blocks" => sample.heap_blocks = Some(value),
                "process.rss_bytes" => sample.rss_bytes = value,
                "process.open_fds" => sample.fds = value,
                "process.tokio_tasks" => sample.tasks = value,
                other => sample.structures.push(Reading::new(other, value)),
            }
        }
        samples.push(sample);
    }
    Ok(samples)
}

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
                        figure(s, name).map(|(v, _)| (s.cycles as f64, v as f64 / scale))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(cycles: u64, heap: u64, peers: u64) -> Sample {
        Sample {
            elapsed: Duration::from_secs(cycles),
            cycles,
            quiet: cycles.is_multiple_of(5),
            settled: false,
            heap_bytes: heap,
            heap_blocks: Some(0),
            rss_bytes: heap * 2,
            fds: 10,
            tasks: 5,
            structures: vec![Reading::bounded(
                "p2panda_net.address_book.peers",
                peers,
                100,
            )],
        }
    }

    /// The verdict on `name` after judging `samples` with `criteria`.
    fn verdict_of(samples: &[Sample], criteria: &Criteria, name: &str) -> Verdict {
        summary_of(samples, criteria, name).verdict
    }

    /// The summary of `name` after judging `samples` with `criteria`.
    fn summary_of(samples: &[Sample], criteria: &Criteria, name: &str) -> Summary {
        summarize(samples, criteria)
            .into_iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no figure {name}"))
    }

    #[test]
    fn a_capped_store_may_fill_to_its_bound_but_not_beyond() {
        let store = |c: u64, ops: u64| {
            let mut s = sample(c, 1_000_000, 20);
            s.structures = vec![Reading::bounded("p2panda_store.operations", ops, 400)];
            s
        };
        let ops = "p2panda_store.operations";
        let filling: Vec<Sample> = (0..=100).map(|c| store(c, (c * 4).min(400))).collect();
        assert_eq!(verdict_of(&filling, &Criteria::default(), ops), Verdict::Ok);

        let overflowing: Vec<Sample> = (0..=100).map(|c| store(c, c * 5)).collect();
        assert_eq!(
            verdict_of(&overflowing, &Criteria::default(), ops),
            Verdict::OverBound
        );

        // Any other bounded structure that climbs steadily is still a leak below its bound.
        let criteria = Criteria {
            fills_to_bound: Vec::new(),
            ..Criteria::default()
        };
        assert_eq!(verdict_of(&filling, &criteria, ops), Verdict::Grows);
    }

    #[test]
    fn theil_sen_ignores_an_outlier_least_squares_follows() {
        let mut points: Vec<(f64, f64)> = (0..14).map(|x| (x as f64, 100.0)).collect();
        points[10].1 = 1_000.0;
        assert_eq!(theil_sen(&points), Some(0.0));
        assert!(least_squares(&points).unwrap().slope > 10.0);
        let line: Vec<(f64, f64)> = (0..10).map(|x| (x as f64, 3.0 * x as f64 + 1.0)).collect();
        assert_eq!(theil_sen(&line), Some(3.0));
        assert_eq!(theil_sen(&[(1.0, 1.0), (1.0, 5.0)]), None);
    }

    #[test]
    fn slope_interval_holds_the_slope_and_narrows_with_less_noise() {
        // A line with scrambled noise of ±300: the interval brackets the slope.
        let noise = |x: u64| ((x * 37) % 11) as f64 * 60.0 - 300.0;
        let noisy: Vec<(f64, f64)> = (0..40)
            .map(|x| (x as f64, 5.0 * x as f64 + noise(x)))
            .collect();
        let (lo, hi) = theil_sen_interval(&noisy).unwrap();
        assert!(lo < 5.0 && 5.0 < hi, "[{lo}, {hi}]");
        let quieter: Vec<(f64, f64)> = noisy
            .iter()
            .map(|&(x, y)| (x, 5.0 * x + (y - 5.0 * x) / 10.0))
            .collect();
        let (qlo, qhi) = theil_sen_interval(&quieter).unwrap();
        assert!(qlo < 5.0 && 5.0 < qhi, "[{qlo}, {qhi}]");
        assert!(
            qhi - qlo < (hi - lo) / 5.0,
            "[{qlo}, {qhi}] vs [{lo}, {hi}]"
        );
        // An exact line has a zero-width interval; two points have none.
        let line: Vec<(f64, f64)> = (0..10).map(|x| (x as f64, 3.0 * x as f64)).collect();
        assert_eq!(theil_sen_interval(&line), Some((3.0, 3.0)));
        assert_eq!(theil_sen_interval(&[(0.0, 0.0), (1.0, 1.0)]), None);
    }

    #[test]
    fn heap_verdict_follows_the_interval() {
        assert_eq!(
            heap_verdict(Some(5e3), Some((3e3, 7e3)), 2048.0),
            Verdict::Grows
        );
        assert_eq!(
            heap_verdict(Some(1e3), Some((-9e3, 12e3)), 2048.0),
            Verdict::Unresolved
        );
        assert_eq!(
            heap_verdict(Some(20e3), Some((-9e3, 40e3)), 2048.0),
            Verdict::Unresolved
        );
        assert_eq!(
            heap_verdict(Some(1e3), Some((-1e3, 2e3)), 2048.0),
            Verdict::Ok
        );
        assert_eq!(heap_verdict(Some(3e3), None, 2048.0), Verdict::Grows);
        assert_eq!(heap_verdict(None, None, 2048.0), Verdict::Ok);
        assert!(Verdict::Unresolved.fails());
    }

    #[test]
    fn settled_samples_decide_the_heap() {
        // Noisy quiet samples (±8 MB) whose interval spans the limit, and two settled samples
        // 100 cycles apart.
        let run = |settled_growth: u64| -> Vec<Sample> {
            let mut samples: Vec<Sample> = (0..=200)
                .map(|c| {
                    let noise = if c % 2 == 0 { 8_000_000 } else { 0 };
                    sample(c, 30_000_000 + noise, 5)
                })
                .collect();
            samples[100].settled = true;
            samples[100].heap_bytes = 25_000_000;
            samples[200].settled = true;
            samples[200].heap_bytes = 25_000_000 + settled_growth * 100;
            samples
        };
        let heap =
            |samples: &[Sample]| summary_of(samples, &Criteria::default(), "process.heap_bytes");

        let flat = heap(&run(1_000));
        assert_eq!(flat.settled_per_cycle, Some(1_000.0));
        assert_eq!(flat.verdict, Verdict::Ok);
        let growing = heap(&run(6_000));
        assert_eq!(growing.settled_per_cycle, Some(6_000.0));
        assert_eq!(growing.verdict, Verdict::Grows);

        // Structures are judged by the settled samples too: 100 cycles apart, 40 more peers is
        // growth beyond the 32 allowed, whatever the samples between them say.
        let mut book = run(1_000);
        for (i, s) in book.iter_mut().enumerate() {
            let peers = if s.settled { 5 + 2 * i as u64 / 5 } else { 5 };
            s.structures = vec![Reading::bounded(
                "p2panda_net.address_book.peers",
                peers,
                10_000,
            )];
        }
        let peers = summarize(&book, &Criteria::default())
            .into_iter()
            .find(|s| s.name == "p2panda_net.address_book.peers")
            .unwrap();
        assert_eq!(peers.verdict, Verdict::Grows);

        // Without settled samples the interval decides, as before.
        let mut unsettled = run(1_000);
        unsettled.iter_mut().for_each(|s| s.settled = false);
        assert_eq!(heap(&unsettled).settled_per_cycle, None);
    }

    #[test]
    fn live_blocks_are_judged_by_their_own_limit() {
        // Flat bytes (a table that grew its capacity would look the same) and settled samples
        // 100 cycles apart whose blocks grow by `blocks_per_100`.
        let run = |blocks_per_100: u64| -> Vec<Sample> {
            let mut samples: Vec<Sample> = (0..=200)
                .map(|c| {
                    let mut s = sample(c, 30_000_000, 5);
                    s.heap_blocks = Some(50_000 + (c % 3) * 40);
                    s
                })
                .collect();
            samples[100].settled = true;
            samples[100].heap_blocks = Some(40_000);
            samples[200].settled = true;
            samples[200].heap_blocks = Some(40_000 + blocks_per_100);
            samples
        };
        let blocks =
            |samples: &[Sample]| summary_of(samples, &Criteria::default(), "process.heap_blocks");
        // About what the fork's settled samples differ by: within the default limit.
        let fixed = blocks(&run(450));
        assert_eq!(fixed.settled_per_cycle, Some(4.5));
        assert_eq!(fixed.verdict, Verdict::Ok);
        // About what upstream keeps per churned peer: a leak, whatever its bytes.
        let leaking = blocks(&run(5_700));
        assert_eq!(leaking.settled_per_cycle, Some(57.0));
        assert_eq!(leaking.verdict, Verdict::Grows);
        let t = table(&[("fork", &summarize(&run(5_700), &Criteria::default()))]);
        assert!(t.contains("settled +57.000"), "{t}");
        // A stricter limit (`--heap-blocks-limit 0.25`) fails one allocation kept per peer.
        let strict = Criteria {
            heap_blocks_per_cycle: 0.25,
            ..Criteria::default()
        };
        assert_eq!(
            verdict_of(&run(100), &strict, "process.heap_blocks"),
            Verdict::Grows
        );
    }

    #[test]
    fn fits_a_line() {
        let fit = least_squares(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]).unwrap();
        assert!((fit.slope - 2.0).abs() < 1e-9);
        assert!((fit.intercept - 1.0).abs() < 1e-9);
        assert!((fit.r2 - 1.0).abs() < 1e-9);
        assert!(least_squares(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
    }

    #[test]
    fn growth_and_bounds_are_judged() {
        let leaking: Vec<Sample> = (0..=100)
            .map(|c| sample(c, 1_000_000 + c * 18_000, c * 2))
            .collect();
        let summaries = summarize(&leaking, &Criteria::default());
        let heap = summaries
            .iter()
            .find(|s| s.name == "process.heap_bytes")
            .unwrap();
        assert_eq!(heap.verdict, Verdict::Grows);
        assert!((heap.slope_per_cycle.unwrap() - 18_000.0).abs() < 1.0);
        let peers = summaries
            .iter()
            .find(|s| s.name == "p2panda_net.address_book.peers")
            .unwrap();
        assert_eq!(peers.verdict, Verdict::OverBound);

        let flat: Vec<Sample> = (0..=100)
            .map(|c| sample(c, 1_000_000 + (c % 3) * 100, 20))
            .collect();
        let summaries = summarize(&flat, &Criteria::default());
        assert!(
            summaries.iter().all(|s| !s.verdict.fails()),
            "{summaries:?}"
        );
    }

    /// A CSV written before live blocks were counted has no block column: its runs show "n/a"
    /// for blocks, not a flat 0 judged "ok".
    #[test]
    fn csv_without_a_block_column_reads_back_as_not_recorded() {
        let dir = std::env::temp_dir().join(format!("mesh-harness-old-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let samples: Vec<Sample> = (0..=100).map(|c| sample(c, 1_000 + c, 20)).collect();
        let csv = dir.join("old.csv");
        write_csv(&csv, &samples).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        let column = text
            .lines()
            .next()
            .unwrap()
            .split(',')
            .position(|name| name == "process.heap_blocks")
            .expect("a block column to drop");
        let old: Vec<String> = text
            .lines()
            .map(|line| {
                let mut cells: Vec<&str> = line.split(',').collect();
                cells.remove(column);
                cells.join(",")
            })
            .collect();
        std::fs::write(&csv, old.join("\n")).unwrap();

        let back = read_csv(&csv).unwrap();
        assert_eq!(back.len(), samples.len());
        assert!(back.iter().all(|s| s.heap_blocks.is_none()));
        assert_eq!(back[100].heap_bytes, 1_100);
        let old_summary = summarize(&back, &Criteria::default());
        assert!(old_summary.iter().all(|s| s.name != "process.heap_blocks"));
        let new_summary = summarize(&samples, &Criteria::default());
        let t = table(&[("fork", &new_summary), ("old", &old_summary)]);
        let row = t
            .lines()
            .find(|l| l.starts_with("| process.heap_blocks "))
            .expect("a block row for the run that has blocks");
        assert_eq!(row.matches("n/a").count(), 6, "{row}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn csv_round_trips_and_chart_is_written() {
        let dir = std::env::temp_dir().join(format!("mesh-harness-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut samples: Vec<Sample> = (0..5).map(|c| sample(c, 100 + c, c)).collect();
        samples[0].settled = true;
        let csv = dir.join("s.csv");
        write_csv(&csv, &samples).unwrap();
        let back = read_csv(&csv).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back[3].heap_bytes, 103);
        assert!(back[0].quiet && !back[3].quiet);
        assert!(back[0].settled && !back[1].settled);
        assert_eq!(back[3].structures[0].value, 3);
        let svg = dir.join("c.svg");
        write_chart(&svg, &[("fork", &samples), ("upstream", &back)]).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains("<svg") && text.contains("p2panda_net.address_book.peers"));
        let t = table(&[("fork", &summarize(&samples, &Criteria::default()))]);
        assert!(t.contains("process.heap_bytes"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missed_table_names_each_lost_message_and_counts_the_rest() {
        use crate::scenario::{Ending, Leave};
        assert_eq!(missed_table(&[]), "");
        let lost = |cycle| MissedMessage {
            cycle,
            seq: 1,
            topic: 3,
            missed_by: vec![0, 2],
            linger_ms: 312,
            ending: Ending::Unsubscribe,
            leave: Leave::Abrupt,
            long_lived_neighbour_at_publish: false,
            neighbours_at_publish: 2,
            first_long_lived_neighbour_ms: Some(412),
            long_lived_neighbour_kept_ms: Some(35),
        };
        let t = missed_table(&[lost(57)]);
        assert!(
            t.contains(
                "| 57/1 | 3 | hub, witness 1 | 312 ms | Unsubscribe | Abrupt | 2 | no / +412 ms / 35 ms |"
            ),
            "{t}"
        );
        let kept = MissedMessage {
            long_lived_neighbour_kept_ms: None,
            ..lost(59)
        };
        assert!(missed_table(&[kept]).contains("| no / +412 ms / until it left |"));
        let never = MissedMessage {
            first_long_lived_neighbour_ms: None,
            long_lived_neighbour_kept_ms: None,
            ..lost(58)
        };
        assert!(missed_table(&[never]).contains("| no / never / - |"));
        let many: Vec<_> = (0..MAX_MISSED_ROWS + 3).map(lost).collect();
        let t = missed_table(&many);
        assert_eq!(t.matches(" ms | Unsubscribe |").count(), MAX_MISSED_ROWS);
        assert!(t.contains("... and 3 more"), "{t}");
    }
}
