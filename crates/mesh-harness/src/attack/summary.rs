//! The figures of one attack run, one row of the table, and its verdict.
//!
//! The verdict holds a run to: every bounded structure of the hub within its bound during and
//! after the attack; the heap after the attack within [`heap_margin`] of its level before; honest
//! delivery at least [`MIN_DELIVERY`] before and after the attack, and during it unless the
//! attack saturates the hub by design; a probe joining and syncing after the attack; no panic;
//! the hub answering every sample after the attack and a call at the end.

use serde::{Deserialize, Serialize};

use super::honest::ProbeResult;
use super::measure::{AttackSample, Phase};
use super::run::RunRecord;
use crate::probe::Reading;

/// Least share of honest messages that must arrive.
pub const MIN_DELIVERY: f64 = 0.99;
/// The heap's absolute slack after an attack, whatever its level before.
pub const HEAP_SLACK_BYTES: u64 = 1 << 20;
/// The heap's relative slack after an attack.
pub const HEAP_SLACK_FRACTION: f64 = 0.10;

const MIB: f64 = 1024.0 * 1024.0;

/// How far above its level before the attack the heap may stay after it: 10% or 1 MiB,
/// whichever is more.
pub fn heap_margin(before: u64) -> u64 {
    HEAP_SLACK_BYTES.max((before as f64 * HEAP_SLACK_FRACTION) as u64)
}

/// One row of the table: one attack against one build.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    /// The attack's name.
    pub attack: String,
    /// The build: `fork` or `upstream`.
    pub build: String,
    /// Median heap before the attack, MiB.
    pub heap_before_mib: f64,
    /// Largest heap during and after it, MiB.
    pub heap_peak_mib: f64,
    /// Heap at the last sample after it, MiB.
    pub heap_after_mib: f64,
    /// How far above `heap_before_mib` the heap may stay, MiB.
    pub heap_margin_mib: f64,
    /// Largest RSS during and after it, MiB.
    pub rss_peak_mib: f64,
    /// RSS at the last sample, MiB.
    pub rss_after_mib: f64,
    /// Each structure with a bound (or the address book, which upstream leaves unbounded):
    /// `name peak/bound (end N)`.
    pub structures: String,
    /// Structures whose peak went above their bound.
    pub over_bound: String,
    /// How many honest peers joined at the start, and their address books and sync sessions at
    /// the end, peer by peer (they run in the hub's process, learn what the hub relays, and
    /// count in its heap).
    pub peers_end: String,
    /// Honest delivery of messages published before, during and after the attack.
    pub delivery_before: f64,
    /// See `delivery_before`.
    pub delivery_during: f64,
    /// See `delivery_before`.
    pub delivery_after: f64,
    /// Probes that joined and synced, per phase: `before/during/after`, e.g. `1/1/1`.
    pub probes_synced: String,
    /// Slowest probe join, seconds (`-` none joined).
    pub join_max_s: String,
    /// CPU time of the hub's process during the attack and the settling after it, seconds.
    pub cpu_s: f64,
    /// Panics in the hub's process.
    pub panics: u64,
    /// Samples the hub did not answer, during / after.
    pub unanswered: String,
    /// What the attacker did.
    pub attacker: String,
    /// `ok`, or what failed.
    pub verdict: String,
}

impl Row {
    /// The row of a run of `attack` on `build` that did not complete, for `reason`: every figure
    /// empty, the verdict says why.
    pub fn failed(attack: &str, build: &str, reason: &str) -> Self {
        Self {
            attack: attack.to_owned(),
            build: build.to_owned(),
            heap_before_mib: 0.0,
            heap_peak_mib: 0.0,
            heap_after_mib: 0.0,
            heap_margin_mib: 0.0,
            rss_peak_mib: 0.0,
            rss_after_mib: 0.0,
            structures: String::new(),
            over_bound: String::new(),
            peers_end: String::new(),
            delivery_before: 0.0,
            delivery_during: 0.0,
            delivery_after: 0.0,
            probes_synced: String::new(),
            join_max_s: String::new(),
            cpu_s: 0.0,
            panics: 0,
            unanswered: String::new(),
            attacker: String::new(),
            verdict: format!("RUN FAILED: {reason}"),
        }
    }

    /// Whether the run passed.
    pub fn passed(&self) -> bool {
        self.verdict == "ok"
    }
}

/// The row of `record`, run on `build`.
pub fn row(record: &RunRecord, build: &str) -> Row {
    let s = &record.samples;
    let heap_before = median(phase(s, Phase::Before).map(|x| x.heap_bytes));
    let attacked = || {
        s.iter()
            .filter(|x| matches!(x.phase, Phase::During | Phase::After))
    };
    let last = s.last();
    let heap_after = last.map_or(0, |x| x.heap_bytes);
    let structures = bounded_peaks(attacked());
    let ratio = |(d, e): (u64, u64)| if e == 0 { 1.0 } else { d as f64 / e as f64 };
    let [before, during, after] = record.delivery.map(ratio);
    let cpu = |phase_: Phase| phase(s, phase_).last().map(|x| x.cpu);
    let cpu_s = match (cpu(Phase::Before), last) {
        (Some(start), Some(end)) => end.cpu.saturating_sub(start).as_secs_f64(),
        _ => 0.0,
    };
    let unanswered = |p| phase(s, p).filter(|x| x.structures.is_none()).count();
    let mut row = Row {
        attack: record.config.attack.name().to_owned(),
        build: build.to_owned(),
        heap_before_mib: heap_before as f64 / MIB,
        heap_peak_mib: attacked().map(|x| x.heap_bytes).max().unwrap_or(0) as f64 / MIB,
        heap_after_mib: heap_after as f64 / MIB,
        heap_margin_mib: heap_margin(heap_before) as f64 / MIB,
        rss_peak_mib: attacked().map(|x| x.rss_bytes).max().unwrap_or(0) as f64 / MIB,
        rss_after_mib: last.map_or(0, |x| x.rss_bytes) as f64 / MIB,
        structures: structures
            .iter()
            .map(Peak::describe)
            .collect::<Vec<_>>()
            .join("; "),
        peers_end: format!(
            "{}/{} joined at the start; {}",
            record.honest_joined.0,
            record.honest_joined.1,
            peers_end(&record.peers_end)
        ),
        over_bound: structures
            .iter()
            .filter(|p| p.over())
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        delivery_before: before,
        delivery_during: during,
        delivery_after: after,
        probes_synced: probes_synced(&record.probes),
        join_max_s: join_max(&record.probes),
        cpu_s,
        panics: record.panics,
        unanswered: format!("{}/{}", unanswered(Phase::During), unanswered(Phase::After)),
        attacker: attacker(record),
        verdict: String::new(),
    };
    row.verdict = verdict(
        record,
        &row,
        heap_before,
        heap_after,
        unanswered(Phase::After),
    );
    row
}

fn phase(samples: &[AttackSample], phase: Phase) -> impl Iterator<Item = &AttackSample> {
    samples.iter().filter(move |s| s.phase == phase)
}

fn median(values: impl Iterator<Item = u64>) -> u64 {
    let mut values: Vec<u64> = values.collect();
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

/// One structure over the attacked samples.
#[derive(Debug)]
struct Peak {
    name: String,
    peak: u64,
    end: u64,
    bound: Option<u64>,
}

impl Peak {
    fn over(&self) -> bool {
        self.bound.is_some_and(|b| self.peak > b)
    }

    fn describe(&self) -> String {
        let short = self
            .name
            .trim_start_matches("p2panda_net.")
            .trim_start_matches("iroh_quinn_proto.");
        let bound = self.bound.map_or("unbounded".to_owned(), |b| b.to_string());
        format!("{short} {}/{bound} (end {})", self.peak, self.end)
    }
}

/// Every reading with a bound, and the address book's size (which upstream reports without
/// one), with its peak over `samples` and its value at the last of them.
fn bounded_peaks<'a>(samples: impl Iterator<Item = &'a AttackSample>) -> Vec<Peak> {
    let mut peaks: Vec<Peak> = Vec::new();
    for readings in samples.filter_map(|s| s.structures.as_ref()) {
        for r in readings.iter().filter(|r| shown(r)) {
            let bound = r.bound.map(|b| b.value);
            match peaks.iter_mut().find(|p| p.name == r.name) {
                Some(p) => {
                    p.peak = p.peak.max(r.value);
                    p.end = r.value;
                    p.bound = bound;
                }
                None => peaks.push(Peak {
                    name: r.name.clone(),
                    peak: r.value,
                    end: r.value,
                    bound,
                }),
            }
        }
    }
    peaks
}

fn shown(reading: &Reading) -> bool {
    reading.bound.is_some() || reading.name == "p2panda_net.address_book.peers"
}

/// `book a+b+c, sync sessions a+b+c` of the honest peers at the end.
fn peers_end(peers: &[Vec<Reading>]) -> String {
    let values = |name: &str| {
        let each: Vec<String> = peers
            .iter()
            .map(|r| {
                r.iter()
                    .find(|r| r.name == name)
                    .map_or("-".to_owned(), |r| r.value.to_string())
            })
            .collect();
        each.join("+")
    };
    format!(
        "book {}, sync sessions {}",
        values("p2panda_net.address_book.peers"),
        values("p2panda_net.sync.sessions")
    )
}

fn probes_synced(probes: &[ProbeResult]) -> String {
    let ok = |p: Phase| {
        let of: Vec<_> = probes.iter().filter(|r| r.phase == p).collect();
        let good = of.iter().filter(|r| r.synced && r.join.is_some()).count();
        format!("{good}/{}", of.len())
    };
    format!(
        "{} {} {}",
        ok(Phase::Before),
        ok(Phase::During),
        ok(Phase::After)
    )
}

fn join_max(probes: &[ProbeResult]) -> String {
    let joins: Vec<f64> = probes
        .iter()
        .map(|p| p.join.map(|j| j.as_secs_f64()))
        .collect::<Option<_>>()
        .unwrap_or_default();
    match joins.iter().copied().reduce(f64::max) {
        Some(max) if joins.len() == probes.len() => format!("{max:.2}"),
        _ => "timeout".to_owned(),
    }
}

fn attacker(record: &RunRecord) -> String {
    match (&record.tally, &record.attacker_error) {
        (Some(t), _) => format!(
            "{} keys, {} msgs ({:.1} MiB), joins: {} taken, {} not, {} unwaited",
            t.identities,
            t.messages,
            t.bytes as f64 / MIB,
            t.joins,
            t.joins_refused,
            t.joins_unwaited
        ),
        (None, Some(err)) => format!("failed: {err}"),
        (None, None) => "failed".to_owned(),
    }
}

/// `ok`, or every criterion the run failed, `; `-separated.
fn verdict(
    record: &RunRecord,
    row: &Row,
    before: u64,
    after: u64,
    unanswered_after: usize,
) -> String {
    let mut failed = Vec::new();
    if record.tally.is_none() {
        failed.push("attacker failed: not judged".to_owned());
    }
    if !row.over_bound.is_empty() {
        failed.push(format!("OVER BOUND: {}", row.over_bound));
    }
    if after > before + heap_margin(before) {
        failed.push(format!(
            "HEAP: {:.2} MiB after, {:.2} before",
            row.heap_after_mib, row.heap_before_mib
        ));
    }
    let low = |d: f64| d < MIN_DELIVERY;
    if low(row.delivery_before)
        || low(row.delivery_after)
        || (!record.config.attack.saturates() && low(row.delivery_during))
    {
        failed.push("DELIVERY below 99%".to_owned());
    }
    let after_probe = record.probes.iter().rev().find(|p| p.phase == Phase::After);
    if !after_probe.is_some_and(|p| p.synced && p.join.is_some()) {
        failed.push("SYNC: the probe after the attack did not join and sync".to_owned());
    }
    if record.panics > 0 {
        failed.push(format!("PANICS: {}", record.panics));
    }
    if !record.hub_answers || unanswered_after > 0 {
        failed.push("UNANSWERED after the attack".to_owned());
    }
    if failed.is_empty() {
        "ok".to_owned()
    } else {
        failed.join("; ")
    }
}
