//! Which gossip message reached which long-lived node, so that a run can name what it lost.
//!
//! The driver's counters say how many messages arrived; the ledger says which did not, and the
//! report prints each lost message with what its publisher did (how long it lingered, how it
//! ended its subscription and how it left), whether it had a long-lived gossip neighbour in its
//! topic when it published, and when it first had one: what tells a departure race or an island
//! of newcomers from a fault.
//!
//! Every flag is allocated when the run starts, for every message the plan can publish: the
//! ledger does not grow while the run is measured, so it cannot skew the heap figure.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::time::Instant;

use crate::scenario::{Ending, Leave, PeerPlan};

/// Published and received flags for every message of a plan. The default ledger is empty (a
/// plan of no message).
#[derive(Debug)]
pub struct Ledger {
    /// What the publishing and meeting times count from.
    epoch: Instant,
    messages_per_peer: usize,
    published: Vec<AtomicBool>,
    /// One row per long-lived node: the hub first, then the witnesses in start order.
    received: Vec<Vec<AtomicBool>>,
    /// Per publisher: it had a long-lived gossip neighbour in its topic when it published.
    neighbour_at_publish: Vec<AtomicBool>,
    /// Per publisher: how many gossip neighbours it had in its topic when it published.
    neighbours_at_publish: Vec<AtomicU8>,
    /// Per publisher: when it published, in milliseconds since `epoch` ([`NEVER`] if it did not).
    published_at_ms: Vec<AtomicU32>,
    /// Per publisher: when it first had a long-lived gossip neighbour in its topic, in
    /// milliseconds since `epoch` ([`NEVER`] if it never had one).
    first_met_at_ms: Vec<AtomicU32>,
    /// Per publisher: when it first was left with no long-lived gossip neighbour in its topic
    /// after having had one, in milliseconds since `epoch` ([`NEVER`] if that never happened).
    first_parted_at_ms: Vec<AtomicU32>,
}

/// A time that was never recorded.
const NEVER: u32 = u32::MAX;

impl Default for Ledger {
    fn default() -> Self {
        Self::new(0, 0, 0)
    }
}

/// A published message that did not reach every long-lived node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissedMessage {
    /// The publisher's churn cycle.
    pub cycle: usize,
    /// The message's sequence number at its publisher.
    pub seq: usize,
    /// The publisher's topic, an index into the topic set.
    pub topic: usize,
    /// The long-lived nodes it did not reach: 0 is the hub, `1 + i` witness `i`.
    pub missed_by: Vec<usize>,
    /// How long the publisher stayed after publishing, in milliseconds.
    pub linger_ms: u64,
    /// How the publisher ended its subscription.
    pub ending: Ending,
    /// How the publisher left.
    pub leave: Leave,
    /// The publisher had a long-lived gossip neighbour in its topic when it published.
    pub long_lived_neighbour_at_publish: bool,
    /// How many gossip neighbours the publisher had in its topic when it published (255: that
    /// many or more).
    pub neighbours_at_publish: u8,
    /// When the publisher first had a long-lived gossip neighbour in its topic, in milliseconds
    /// after it published (negative: before); `None` if it never had one.
    pub first_long_lived_neighbour_ms: Option<i64>,
    /// How long the publisher kept the long-lived gossip neighbours it first met before it had
    /// none, in milliseconds; `None` if it never had one, or kept one until it left.
    pub long_lived_neighbour_kept_ms: Option<u64>,
}

impl MissedMessage {
    /// The nodes it missed, by name ("hub", "witness 0", ...).
    pub fn missed_by_names(&self) -> Vec<String> {
        self.missed_by
            .iter()
            .map(|&node| long_lived_name(node))
            .collect()
    }
}

/// The name of long-lived node `node` in reports: 0 is the "hub", `1 + i` "witness i".
pub fn long_lived_name(node: usize) -> String {
    match node {
        0 => "hub".to_string(),
        n => format!("witness {}", n - 1),
    }
}

impl Ledger {
    /// A ledger for `cycles` publishers of `messages_per_peer` messages each, delivered to
    /// `long_lived` nodes.
    pub fn new(cycles: usize, messages_per_peer: usize, long_lived: usize) -> Self {
        let flags = |n: usize| (0..n).map(|_| AtomicBool::new(false)).collect::<Vec<_>>();
        let times = |n: usize| (0..n).map(|_| AtomicU32::new(NEVER)).collect::<Vec<_>>();
        let total = cycles * messages_per_peer;
        Self {
            epoch: Instant::now(),
            messages_per_peer,
            published: flags(total),
            received: (0..long_lived).map(|_| flags(total)).collect(),
            neighbour_at_publish: flags(cycles),
            neighbours_at_publish: (0..cycles).map(|_| AtomicU8::new(0)).collect(),
            published_at_ms: times(cycles),
            first_met_at_ms: times(cycles),
            first_parted_at_ms: times(cycles),
        }
    }

    fn now_ms(&self) -> u32 {
        u32::try_from(self.epoch.elapsed().as_millis()).unwrap_or(NEVER - 1)
    }

    fn index(&self, cycle: usize, seq: usize) -> Option<usize> {
        (seq < self.messages_per_peer)
            .then_some(cycle * self.messages_per_peer + seq)
            .filter(|&i| i < self.published.len())
    }

    /// Records that the publisher of `cycle` sent its message `seq`.
    pub fn published(&self, cycle: usize, seq: usize) {
        if let Some(i) = self.index(cycle, seq) {
            self.published[i].store(true, Ordering::Relaxed);
        }
    }

    /// Records that the publisher of `cycle` publishes now, whether it has a long-lived gossip
    /// neighbour in its topic, and how many neighbours it has there in all.
    pub fn published_with_neighbours(&self, cycle: usize, long_lived: bool, count: usize) {
        self.published_at(cycle, long_lived, count, self.now_ms());
    }

    fn published_at(&self, cycle: usize, long_lived: bool, count: usize, at_ms: u32) {
        if let (Some(flag), Some(neighbours), Some(at)) = (
            self.neighbour_at_publish.get(cycle),
            self.neighbours_at_publish.get(cycle),
            self.published_at_ms.get(cycle),
        ) {
            flag.store(long_lived, Ordering::Relaxed);
            neighbours.store(u8::try_from(count).unwrap_or(u8::MAX), Ordering::Relaxed);
            at.store(at_ms, Ordering::Relaxed);
        }
    }

    /// Records that the publisher of `cycle` has a long-lived gossip neighbour in its topic now;
    /// only the first time counts.
    pub fn met_long_lived(&self, cycle: usize) {
        self.met_long_lived_at(cycle, self.now_ms());
    }

    fn met_long_lived_at(&self, cycle: usize, at_ms: u32) {
        if let Some(at) = self.first_met_at_ms.get(cycle) {
            let _ = at.compare_exchange(NEVER, at_ms, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// Records that the publisher of `cycle` has no long-lived gossip neighbour in its topic any
    /// more; only the first time after it met one counts.
    pub fn parted_long_lived(&self, cycle: usize) {
        self.parted_long_lived_at(cycle, self.now_ms());
    }

    fn parted_long_lived_at(&self, cycle: usize, at_ms: u32) {
        let met = self.first_met_at_ms.get(cycle);
        if let (Some(met), Some(at)) = (met, self.first_parted_at_ms.get(cycle)) {
            if met.load(Ordering::Relaxed) != NEVER {
                let _ = at.compare_exchange(NEVER, at_ms, Ordering::Relaxed, Ordering::Relaxed);
            }
        }
    }

    /// How long the publisher of `cycle` kept the long-lived neighbours it first met.
    fn long_lived_kept_ms(&self, cycle: usize) -> Option<u64> {
        let met = self.first_met_at_ms.get(cycle)?.load(Ordering::Relaxed);
        let parted = self.first_parted_at_ms.get(cycle)?.load(Ordering::Relaxed);
        (met != NEVER && parted != NEVER).then(|| u64::from(parted.saturating_sub(met)))
    }

    /// When the publisher of `cycle` first had a long-lived neighbour, relative to publishing.
    fn first_met_after_publishing_ms(&self, cycle: usize) -> Option<i64> {
        let met = self.first_met_at_ms.get(cycle)?.load(Ordering::Relaxed);
        let published = self.published_at_ms.get(cycle)?.load(Ordering::Relaxed);
        (met != NEVER && published != NEVER).then(|| i64::from(met) - i64::from(published))
    }

    /// Records that long-lived node `node` (0 is the hub) received message `seq` of `cycle`.
    /// Messages outside the plan are ignored.
    pub fn received(&self, node: usize, cycle: usize, seq: usize) {
        if let (Some(i), Some(row)) = (self.index(cycle, seq), self.received.get(node)) {
            row[i].store(true, Ordering::Relaxed);
        }
    }

    /// Every published message that some long-lived node did not receive, in publishing order,
    /// with what its publisher did according to `plans`.
    pub fn missed(&self, plans: &[PeerPlan]) -> Vec<MissedMessage> {
        let mut missed = Vec::new();
        for plan in plans {
            for seq in 0..self.messages_per_peer {
                let Some(i) = self.index(plan.cycle, seq) else {
                    continue;
                };
                if !self.published[i].load(Ordering::Relaxed) {
                    continue;
                }
                let missed_by: Vec<usize> = (0..self.received.len())
                    .filter(|&node| !self.received[node][i].load(Ordering::Relaxed))
                    .collect();
                if !missed_by.is_empty() {
                    missed.push(MissedMessage {
                        cycle: plan.cycle,
                        seq,
                        topic: plan.topic,
                        missed_by,
                        linger_ms: plan.linger.as_millis() as u64,
                        ending: plan.ending,
                        leave: plan.leave,
                        long_lived_neighbour_at_publish: self.neighbour_at_publish[plan.cycle]
                            .load(Ordering::Relaxed),
                        neighbours_at_publish: self.neighbours_at_publish[plan.cycle]
                            .load(Ordering::Relaxed),
                        first_long_lived_neighbour_ms: self
                            .first_met_after_publishing_ms(plan.cycle),
                        long_lived_neighbour_kept_ms: self.long_lived_kept_ms(plan.cycle),
                    });
                }
            }
        }
        missed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{plan, ScenarioConfig};

    #[test]
    fn names_each_message_a_node_did_not_receive() {
        let config = ScenarioConfig {
            cycles: 3,
            messages_per_peer: 2,
            ..ScenarioConfig::default()
        };
        let plans = plan(&config);
        let ledger = Ledger::new(3, 2, 3);
        // Cycle 1 met a long-lived neighbour 20 ms before publishing, and again later; cycle 2
        // published at 1000 ms without one and met one 450 ms later; out of the plan: ignored.
        ledger.met_long_lived_at(1, 480);
        ledger.published_at(1, true, 3, 500);
        ledger.met_long_lived_at(1, 900);
        ledger.published_at(2, false, 1, 1000);
        // Parting before meeting is not recorded; cycle 2 keeps its first long-lived
        // neighbours for 60 ms, and a second parting does not count.
        ledger.parted_long_lived_at(2, 1200);
        ledger.met_long_lived_at(2, 1450);
        ledger.parted_long_lived_at(2, 1510);
        ledger.parted_long_lived_at(2, 1700);
        ledger.met_long_lived(9);
        for cycle in 0..3 {
            for seq in 0..2 {
                ledger.published(cycle, seq);
                for node in 0..3 {
                    // Witness 1 misses cycle 1's second message; nobody gets cycle 2's first.
                    let lost = (cycle == 1 && seq == 1 && node == 2) || (cycle == 2 && seq == 0);
                    if !lost {
                        ledger.received(node, cycle, seq);
                    }
                }
            }
        }
        let missed = ledger.missed(&plans);
        assert_eq!(
            missed
                .iter()
                .map(|m| (m.cycle, m.seq, m.missed_by.clone()))
                .collect::<Vec<_>>(),
            vec![(1, 1, vec![2]), (2, 0, vec![0, 1, 2])]
        );
        assert_eq!(missed[0].missed_by_names(), vec!["witness 1"]);
        assert_eq!(missed[1].linger_ms, plans[2].linger.as_millis() as u64);
        assert_eq!(missed[1].leave, plans[2].leave);
        assert_eq!(missed[1].topic, plans[2].topic);
        assert!(missed[0].long_lived_neighbour_at_publish);
        assert_eq!(missed[0].first_long_lived_neighbour_ms, Some(-20));
        assert!(!missed[1].long_lived_neighbour_at_publish);
        assert_eq!(missed[1].first_long_lived_neighbour_ms, Some(450));
        assert_eq!(
            missed[0].long_lived_neighbour_kept_ms, None,
            "kept until it left"
        );
        assert_eq!(missed[1].long_lived_neighbour_kept_ms, Some(60));
        assert_eq!(
            (
                missed[0].neighbours_at_publish,
                missed[1].neighbours_at_publish
            ),
            (3, 1)
        );
    }

    #[test]
    fn unpublished_and_out_of_plan_messages_are_not_missed() {
        let plans = plan(&ScenarioConfig {
            cycles: 2,
            messages_per_peer: 1,
            ..ScenarioConfig::default()
        });
        let ledger = Ledger::new(2, 1, 1);
        // Cycle 0 never published (its join timed out); cycle 1 did and was received.
        ledger.published(1, 0);
        ledger.received(0, 1, 0);
        // Out of the plan: ignored, no panic.
        ledger.received(0, 7, 0);
        ledger.received(5, 1, 0);
        ledger.published(1, 3);
        assert!(ledger.missed(&plans).is_empty());
    }
}
