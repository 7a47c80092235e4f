//! A run's figures, per build: delivery, latency and hops, overhead by kind, and state against
//! peers ever met.

use std::collections::{HashMap, HashSet};
use std::time::Duration as WallDuration;

use crate::node::Build;
use crate::record::{self, Traffic};
use crate::scenario::Scenario;
use crate::sim::Sim;
use crate::wire::Kind;

/// Time after a partition heals before its broadcasts count as after the heal.
pub const HEAL_GRACE: n0_future::time::Duration = n0_future::time::Duration::from_secs(5);

/// One build's figures in one run.
#[derive(Clone, Debug)]
pub struct BuildOutcome {
    /// The build.
    pub build: Build,
    /// Its peers up at the end.
    pub nodes: usize,
    /// Deliveries due: each broadcast to each peer of this build that had joined before it was
    /// published and stayed up through its window (the publisher left out).
    pub expected: u64,
    /// Of those, delivered within the window.
    pub delivered: u64,
    /// Deliveries of a measured broadcast to a peer that had already been delivered it, until
    /// the end of the run (the application sees the message twice).
    pub duplicates: u64,
    /// With a partition: deliveries due and made of the broadcasts published at least
    /// [`HEAL_GRACE`] after it healed.
    pub after_heal: Option<(u64, u64)>,
    /// Time from publish to delivery, p50 and p99 (ms).
    pub latency_ms: (f64, f64),
    /// Hops from the publisher, p50 and p99.
    pub hops: (u16, u16),
    /// Messages sent per broadcast per peer of this build, by [`Kind::ALL`] position.
    pub msgs: [f64; 5],
    /// Wire bytes sent per broadcast per peer of this build, by [`Kind::ALL`] position.
    pub bytes: [f64; 5],
    /// Wire bytes received per broadcast per peer of this build.
    pub recv_bytes: f64,
    /// Heap bytes of the state, over the peers up at the end: p50, p99, max.
    pub state_bytes: (f64, f64, f64),
    /// Peer references in the state at the end: p50 and max.
    pub entries: (usize, usize),
    /// Peers ever met at the end: p50 and max.
    pub met: (usize, usize),
}

impl BuildOutcome {
    /// Delivered over due, 1 if nothing was due.
    pub fn delivery(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.delivered as f64 / self.expected as f64
        }
    }

    /// All messages sent per broadcast per peer.
    pub fn total_msgs(&self) -> f64 {
        self.msgs.iter().sum()
    }

    /// All bytes sent per broadcast per peer.
    pub fn total_bytes(&self) -> f64 {
        self.bytes.iter().sum()
    }
}

/// One peer's state at the end of a run.
#[derive(Clone, Copy, Debug)]
pub struct Profile {
    /// Its build.
    pub build: Build,
    /// Distinct peers it exchanged a message with.
    pub met: usize,
    /// Live heap bytes of its protocol state.
    pub bytes: i64,
    /// Peer references in its protocol state.
    pub entries: usize,
    /// Whether it was up before the first broadcast (so it holds what every such peer holds of
    /// the broadcasts, and differs from the others by the peers it met).
    pub settled: bool,
}

/// One run's figures.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// What was run.
    pub scenario: Scenario,
    /// Figures of each build present.
    pub builds: Vec<BuildOutcome>,
    /// The state of every peer up at the end.
    pub profiles: Vec<Profile>,
    /// Messages lost (to loss in drop mode, a peer that is gone, or a cut).
    pub lost: u64,
    /// Inputs a node could not decode (a wire incompatibility between the builds).
    pub decode_errors: u64,
    /// Peers that ever joined.
    pub peers_ever: usize,
    /// The latest delivery of a measured broadcast, from its publish (s): how long messages
    /// kept reaching peers.
    pub last_delivery_s: f64,
    /// Wall time of the run.
    pub wall: WallDuration,
}

impl RunOutcome {
    /// The figures of `build`, if the run had peers of it.
    pub fn of(&self, build: Build) -> Option<&BuildOutcome> {
        self.builds.iter().find(|b| b.build == build)
    }
}

/// The value at quantile `q` of sorted `v` (0 if empty).
pub fn quantile<T: Copy + Default>(v: &[T], q: f64) -> T {
    if v.is_empty() {
        return T::default();
    }
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Collects a finished simulation's figures.
pub fn collect(sim: Sim<'_>, scenario: &Scenario, wall: WallDuration) -> RunOutcome {
    let profiles = profiles(&sim, scenario);
    let builds = [Build::Fork, Build::Upstream]
        .into_iter()
        .filter_map(|b| build_outcome(&sim, scenario, b, &profiles))
        .collect();
    let decode_errors = sim
        .slots
        .iter()
        .filter_map(|s| s.node.as_ref())
        .map(|n| n.decode_errors)
        .sum();
    RunOutcome {
        scenario: scenario.clone(),
        builds,
        lost: sim.rec.lost,
        decode_errors,
        peers_ever: sim.slots.len(),
        last_delivery_s: last_delivery_s(&sim),
        profiles,
        wall,
    }
}

fn build_outcome(
    sim: &Sim<'_>,
    sc: &Scenario,
    build: Build,
    profiles: &[Profile],
) -> Option<BuildOutcome> {
    let up: Vec<usize> = (0..sim.slots.len())
        .filter(|i| sim.slots[*i].build == build && sim.slots[*i].node.is_some())
        .collect();
    if up.is_empty() {
        return None;
    }
    let (expected, delivered, mut latencies, mut hops) = deliveries(sim, sc, build, 0);
    let after_heal = sc.net.partition.map(|p| {
        let from = (p.start + p.duration + HEAL_GRACE).as_nanos() as u64;
        let (due, made, _, _) = deliveries(sim, sc, build, from);
        (due, made)
    });
    latencies.sort_by(f64::total_cmp);
    hops.sort_unstable();
    let per = per_broadcast_node(sim, build);
    let sent = &sim.rec.sent[record::slot(build)];
    let received = &sim.rec.received[record::slot(build)];
    let scale = |t: &Traffic, f: fn(&Traffic) -> [u64; 5]| f(t).map(|x| x as f64 * per);
    let mine: Vec<&Profile> = profiles.iter().filter(|p| p.build == build).collect();
    let mut state: Vec<f64> = mine.iter().map(|p| p.bytes as f64).collect();
    let mut entries: Vec<usize> = mine.iter().map(|p| p.entries).collect();
    let mut met: Vec<usize> = mine.iter().map(|p| p.met).collect();
    state.sort_by(f64::total_cmp);
    entries.sort_unstable();
    met.sort_unstable();
    Some(BuildOutcome {
        build,
        nodes: up.len(),
        expected,
        delivered,
        duplicates: duplicates(sim, build),
        after_heal,
        latency_ms: (quantile(&latencies, 0.5), quantile(&latencies, 0.99)),
        hops: (quantile(&hops, 0.5), quantile(&hops, 0.99)),
        msgs: scale(sent, |t| t.msgs),
        bytes: scale(sent, |t| t.bytes),
        recv_bytes: received.total_bytes() as f64 * per,
        state_bytes: (
            quantile(&state, 0.5),
            quantile(&state, 0.99),
            quantile(&state, 1.0),
        ),
        entries: (quantile(&entries, 0.5), quantile(&entries, 1.0)),
        met: (quantile(&met, 0.5), quantile(&met, 1.0)),
    })
}

/// The state of every peer up at the end.
fn profiles(sim: &Sim<'_>, sc: &Scenario) -> Vec<Profile> {
    let first = sc.first_broadcast().as_nanos() as u64;
    sim.slots
        .iter()
        .filter_map(|slot| {
            let node = slot.node.as_ref()?;
            Some(Profile {
                build: slot.build,
                met: slot.met.len(),
                bytes: node.state_bytes(),
                entries: node.census().entries,
                settled: slot.joined_ns <= first,
            })
        })
        .collect()
}

/// 1 / (broadcasts x mean live peers of `build` at the broadcasts), 0 without either.
fn per_broadcast_node(sim: &Sim<'_>, build: Build) -> f64 {
    let live: usize = sim.rec.live.iter().map(|l| l[record::slot(build)]).sum();
    if live == 0 {
        0.0
    } else {
        // sum over broadcasts of live = broadcasts x mean live
        1.0 / live as f64
    }
}

/// Deliveries due and made to peers of `build` of the broadcasts published from `from_ns` on,
/// with the latency (ms) and hops of those made.
fn deliveries(
    sim: &Sim<'_>,
    sc: &Scenario,
    build: Build,
    from_ns: u64,
) -> (u64, u64, Vec<f64>, Vec<u16>) {
    let window = sc.window.as_nanos() as u64;
    let (mut expected, mut delivered) = (0, 0);
    let (mut latencies, mut hops) = (Vec::new(), Vec::new());
    for b in sim.rec.broadcasts.iter().filter(|b| b.at_ns >= from_ns) {
        // the first delivery counts; a later one of the same message is a duplicate
        let mut got: HashMap<u32, (u64, u16)> = HashMap::new();
        for (n, at, h) in &sim.rec.deliveries[&b.tag] {
            got.entry(*n).or_insert((*at, *h));
        }
        for (i, slot) in sim.slots.iter().enumerate() {
            let due = slot.build == build
                && i as u32 != b.origin
                && slot.node.is_some() | slot.left_ns.is_some()
                && slot.joined_ns <= b.at_ns
                && slot.left_ns.is_none_or(|l| l >= b.at_ns + window);
            if !due {
                continue;
            }
            expected += 1;
            if let Some((at, h)) = got.get(&(i as u32)) {
                if *at - b.at_ns <= window {
                    delivered += 1;
                    latencies.push((*at - b.at_ns) as f64 / 1e6);
                    hops.push(*h);
                }
            }
        }
    }
    (expected, delivered, latencies, hops)
}

/// The latest delivery of any measured broadcast, from its publish (s).
fn last_delivery_s(sim: &Sim<'_>) -> f64 {
    sim.rec
        .broadcasts
        .iter()
        .flat_map(|b| {
            sim.rec.deliveries[&b.tag]
                .iter()
                .map(move |(_, at, _)| (at - b.at_ns) as f64 / 1e9)
        })
        .fold(0.0, f64::max)
}

/// Deliveries to peers of `build` of a message they had been delivered before.
fn duplicates(sim: &Sim<'_>, build: Build) -> u64 {
    let mut dups = 0;
    for list in sim.rec.deliveries.values() {
        let mut seen = HashSet::new();
        for (n, _, _) in list {
            if !seen.insert(*n) && sim.slots[*n as usize].build == build {
                dups += 1;
            }
        }
    }
    dups
}

/// The kinds' names, in the order of the per-kind arrays.
pub fn kind_names() -> [&'static str; 5] {
    Kind::ALL.map(Kind::name)
}
