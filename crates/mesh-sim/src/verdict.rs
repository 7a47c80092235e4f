//! The two claims the simulation checks, from a set of runs.
//!
//! State: at the end of a run, among the peers of a build that were up before the first
//! broadcast (they hold the same broadcasts, and differ by the peers they met), the [`TOP`]
//! peers that met the most peers against the half that met the fewest. The fork is bounded if
//! the top's median state is within [`FLAT_LIMIT`] times the bottom half's; upstream is
//! reported.
//!
//! Upstream peers in a mixed mesh: their delivery and the bytes they send per broadcast, averaged
//! over seeds, against the all-upstream mesh of the same size, network, loss and churn. Judged
//! with [`BYTES_LIMIT`] and [`DELIVERY_SLACK`].

use std::collections::BTreeMap;

use crate::node::Build;
use crate::outcome::{quantile, Profile, RunOutcome};

/// How many of the peers that met the most are compared with the half that met the fewest (the
/// bootstrap peers every newcomer contacts are among them).
pub const TOP: usize = 3;
/// Most a fork node's state may grow from the bottom half to the top (the passive view and its
/// peer data fill up as a peer meets its first few dozen peers).
pub const FLAT_LIMIT: f64 = 2.0;

/// Most an upstream peer in a mixed mesh may send, against all upstream (mean over seeds).
pub const BYTES_LIMIT: f64 = 1.10;
/// Most an upstream peer's delivery in a mixed mesh may fall short of all upstream's.
pub const DELIVERY_SLACK: f64 = 0.005;

/// Median state per peers-met bin of the settled peers of `build`: (bin floor, peers, median
/// peers met, median bytes, median entries), bins by powers of two.
pub fn state_bins(run: &RunOutcome, build: Build) -> Vec<(usize, usize, usize, f64, usize)> {
    let mut bins: BTreeMap<usize, Vec<&Profile>> = BTreeMap::new();
    for p in settled(run, build) {
        let floor = if p.met == 0 { 0 } else { 1 << p.met.ilog2() };
        bins.entry(floor).or_default().push(p);
    }
    bins.into_iter()
        .map(|(floor, v)| {
            let (met, bytes, entries) = medians(&v);
            (floor, v.len(), met, bytes, entries)
        })
        .collect()
}

/// The settled peers of `build` in `run`, by peers met.
fn settled(run: &RunOutcome, build: Build) -> Vec<&Profile> {
    let mut v: Vec<&Profile> = run
        .profiles
        .iter()
        .filter(|p| p.build == build && p.settled)
        .collect();
    v.sort_by_key(|p| p.met);
    v
}

/// Medians of peers met, state bytes and entries.
fn medians(v: &[&Profile]) -> (usize, f64, usize) {
    let mut met: Vec<usize> = v.iter().map(|p| p.met).collect();
    let mut bytes: Vec<f64> = v.iter().map(|p| p.bytes as f64).collect();
    let mut entries: Vec<usize> = v.iter().map(|p| p.entries).collect();
    met.sort_unstable();
    bytes.sort_by(f64::total_cmp);
    entries.sort_unstable();
    (
        quantile(&met, 0.5),
        quantile(&bytes, 0.5),
        quantile(&entries, 0.5),
    )
}

/// Growth of a build's state from the peers that met the fewest to those that met the most.
#[derive(Clone, Copy, Debug)]
pub struct Growth {
    /// Median peers met of the fewest-met half and of the most-met top.
    pub met: (usize, usize),
    /// Median state bytes of the same two groups.
    pub bytes: (f64, f64),
    /// Median peer references of the same two groups.
    pub entries: (usize, usize),
}

impl Growth {
    /// The top's state over the bottom half's.
    pub fn ratio(&self) -> f64 {
        self.bytes.1 / self.bytes.0.max(1.0)
    }

    /// Whether the state is bounded: the top holds at most [`FLAT_LIMIT`] times the bottom half.
    pub fn bounded(&self) -> bool {
        self.ratio() <= FLAT_LIMIT
    }

    /// The top's peers met over the bottom half's.
    pub fn met_ratio(&self) -> f64 {
        self.met.1 as f64 / self.met.0.max(1) as f64
    }
}

/// The growth of `build`'s state in `run`, if it has at least twice [`TOP`] settled peers.
pub fn growth(run: &RunOutcome, build: Build) -> Option<Growth> {
    let v = settled(run, build);
    if v.len() < 2 * TOP {
        return None;
    }
    let (lo, hi) = (medians(&v[..v.len() / 2]), medians(&v[v.len() - TOP..]));
    Some(Growth {
        met: (lo.0, hi.0),
        bytes: (lo.1, hi.1),
        entries: (lo.2, hi.2),
    })
}

/// Upstream peers of the mixed meshes of one setting against the all-upstream mesh.
#[derive(Clone, Debug)]
pub struct MixCheck {
    /// Peers, network, loss, churn: what the meshes share.
    pub setting: String,
    /// Share of fork peers.
    pub fork_share: f64,
    /// Upstream peers' delivery: mixed, all upstream (means over seeds).
    pub delivery: (f64, f64),
    /// Upstream peers' bytes sent per broadcast: mixed, all upstream (means over seeds).
    pub bytes: (f64, f64),
    /// Seeds averaged.
    pub seeds: usize,
}

impl MixCheck {
    /// Whether the mixed mesh treats its upstream peers as well as the all-upstream mesh.
    pub fn passes(&self) -> bool {
        self.delivery.0 >= self.delivery.1 - DELIVERY_SLACK
            && self.bytes.0 <= self.bytes.1 * BYTES_LIMIT
    }
}

/// What meshes of one setting share (everything but the mix and the seed).
pub fn setting(run: &RunOutcome) -> String {
    let sc = &run.scenario;
    format!(
        "{} peers, {}, {}% loss ({:?}), {}% churn{}",
        sc.peers,
        sc.net.preset,
        100.0 * sc.net.loss,
        sc.net.loss_mode,
        100.0 * sc.churn,
        if sc.fork_catch_up {
            ", fork catch-up on"
        } else {
            ""
        }
    )
}

/// Every mixed mesh with upstream peers that has an all-upstream reference.
pub fn mix_checks(runs: &[RunOutcome]) -> Vec<MixCheck> {
    // (setting, fork share in permille) -> per seed (delivery, bytes) of upstream peers
    let mut by: BTreeMap<(String, u32), Vec<(f64, f64)>> = BTreeMap::new();
    for r in runs {
        if let Some(u) = r.of(Build::Upstream) {
            let key = (setting(r), (r.scenario.fork_share * 1000.0).round() as u32);
            by.entry(key)
                .or_default()
                .push((u.delivery(), u.total_bytes()));
        }
    }
    let mean = |v: &[(f64, f64)]| {
        let n = v.len() as f64;
        (
            v.iter().map(|x| x.0).sum::<f64>() / n,
            v.iter().map(|x| x.1).sum::<f64>() / n,
        )
    };
    let mut checks = Vec::new();
    for ((setting, share), v) in &by {
        if *share == 0 {
            continue;
        }
        let Some(reference) = by.get(&(setting.clone(), 0)) else {
            continue;
        };
        let (mixed, all) = (mean(v), mean(reference));
        checks.push(MixCheck {
            setting: setting.clone(),
            fork_share: *share as f64 / 1000.0,
            delivery: (mixed.0, all.0),
            bytes: (mixed.1, all.1),
            seeds: v.len().min(reference.len()),
        });
    }
    checks
}
