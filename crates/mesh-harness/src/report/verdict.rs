//! What a run is held to ([`Criteria`]) and how each figure fared ([`Summary`], [`Verdict`]).

use super::figure_names;
use super::fit::{theil_sen, theil_sen_interval};
use crate::probe::{is_counter, Sample};

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
    "p2panda_net.address_book.stale_peers",
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
            // Upstream keeps tens of KB per churned peer between the settled samples. The fork's
            // tables still grow their capacity there, with bounded entries: a few KB per cycle
            // that stops at a bound (docs/soak.md, "Why a limit above zero").
            heap_bytes_per_cycle: 4096.0,
            // Upstream keeps about sixty blocks per churned peer between the settled samples.
            // What the fork's settled samples differ by is a few blocks per cycle, mostly state
            // still draining at a settled sample.
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
    let Some(window) = FitWindow::of(samples) else {
        return Vec::new();
    };
    figure_names(samples)
        .into_iter()
        .map(|name| summarize_figure(name, samples, &window, criteria))
        .collect()
}

/// The samples a figure's trend is fitted through, and the churn cycles they span.
struct FitWindow<'a> {
    /// The second half of the churn's samples: the quiet ones when there are at least three,
    /// never the settled ones.
    samples: Vec<&'a Sample>,
    /// Churn cycles from half-way to the last sample.
    span: f64,
}

impl<'a> FitWindow<'a> {
    /// The window of `samples`; `None` without samples.
    fn of(samples: &'a [Sample]) -> Option<Self> {
        let last = samples.last()?;
        let half = last.cycles / 2;
        // The trend is judged while peers churn: the quiet samples after the last cycle (all at
        // the same cycle count) would otherwise pull the fit down.
        let churn_end = samples
            .iter()
            .position(|s| s.cycles == last.cycles)
            .unwrap_or(samples.len() - 1);
        let mut second_half: Vec<&Sample> = samples[..=churn_end]
            .iter()
            .filter(|s| s.cycles >= half)
            .collect();
        // Between waves only the long-lived nodes hold memory: fit through those samples when a
        // run has them, so the band of peers alive at other moments does not drown the trend.
        // Settled samples hold less than any sample taken while peers churn (that is their
        // point), so they stay out of the fit; with two of them, they decide the verdicts
        // instead (see `verdict`).
        second_half.retain(|s| !s.settled);
        if second_half.iter().filter(|s| s.quiet).count() >= 3 {
            second_half.retain(|s| s.quiet);
        }
        Some(Self {
            samples: second_half,
            span: (last.cycles - half) as f64,
        })
    }
}

/// Summarises the figure `name` over `samples`.
fn summarize_figure(
    name: String,
    samples: &[Sample],
    window: &FitWindow,
    criteria: &Criteria,
) -> Summary {
    let values: Vec<(u64, Option<u64>)> = samples.iter().filter_map(|s| s.figure(&name)).collect();
    let points: Vec<(f64, f64)> = window
        .samples
        .iter()
        .filter_map(|s| s.figure(&name).map(|(v, _)| (s.cycles as f64, v as f64)))
        .collect();
    let settled = settled_change(samples, &name);
    let mut summary = Summary {
        start: values.first().map_or(0, |v| v.0),
        peak: values.iter().map(|v| v.0).max().unwrap_or(0),
        end: values.last().map_or(0, |v| v.0),
        bound: values.iter().filter_map(|v| v.1).max(),
        slope_per_cycle: theil_sen(&points),
        slope_interval: theil_sen_interval(&points),
        settled_per_cycle: settled.map(|(growth, _)| growth),
        verdict: Verdict::Info,
        name,
    };
    summary.verdict = verdict(&summary, settled, window.span, criteria);
    summary
}

/// The verdict on a summarised figure. `settled` is its growth per cycle between the settled
/// samples and the cycles between them; `span` the cycles its slope was fitted over.
fn verdict(
    summary: &Summary,
    settled: Option<(f64, f64)>,
    span: f64,
    criteria: &Criteria,
) -> Verdict {
    let name = summary.name.as_str();
    let grows_if = |grows: bool| if grows { Verdict::Grows } else { Verdict::Ok };
    if summary.bound.is_some_and(|b| summary.peak > b) {
        Verdict::OverBound
    } else if name == "process.rss_bytes" || is_counter(name) || summary.slope_per_cycle.is_none() {
        Verdict::Info
    } else if summary.bound.is_some() && criteria.fills_to_bound.iter().any(|n| n == name) {
        Verdict::Ok
    } else if let Some(limit) = criteria.heap_limit(name) {
        match summary.settled_per_cycle {
            // Two settled samples measure what the nodes keep for good directly; the fitted
            // slope carries the noise of departed peers' transient state.
            Some(growth) => grows_if(growth > limit),
            None => heap_verdict(summary.slope_per_cycle, summary.slope_interval, limit),
        }
    } else if let Some((growth, cycles)) = settled {
        // What the nodes keep for good, between the two settled samples.
        grows_if(growth * cycles > criteria.structure_growth)
    } else {
        grows_if(summary.slope_per_cycle.unwrap_or(0.0) * span > criteria.structure_growth)
    }
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
    let (a, _) = first.figure(name)?;
    let (b, _) = last.figure(name)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{BoundKind, Reading};
    use crate::report::table;
    use crate::report::test_samples::sample;

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
            s.structures = vec![Reading::bounded(
                "p2panda_store.operations",
                ops,
                400,
                BoundKind::Capacity,
            )];
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
                BoundKind::Limit,
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
}
