//! Which gossip message reached which long-lived node, so that a run can name what it lost.
//!
//! The driver's counters say how many messages arrived; the ledger says which did not, and the
//! report prints each lost message with what its publisher did (how long it lingered, how it
//! ended its subscription and how it left) and whether it had a long-lived gossip neighbour in
//! its topic when it published, or ever: what tells a departure race or an island of newcomers
//! from a fault.
//!
//! Every flag is allocated when the run starts, for every message the plan can publish: the
//! ledger does not grow while the run is measured, so it cannot skew the heap figure.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::scenario::{Ending, Leave, PeerPlan};

/// Published and received flags for every message of a plan. The default ledger is empty (a
/// plan of no message).
#[derive(Debug, Default)]
pub struct Ledger {
    messages_per_peer: usize,
    published: Vec<AtomicBool>,
    /// One row per long-lived node: the hub first, then the witnesses in start order.
    received: Vec<Vec<AtomicBool>>,
    /// Per publisher: it had a long-lived gossip neighbour in its topic when it published.
    neighbour_at_publish: Vec<AtomicBool>,
    /// Per publisher: it had a long-lived gossip neighbour in its topic at some time.
    neighbour_met: Vec<AtomicBool>,
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
    /// The publisher had a long-lived gossip neighbour in its topic at some time while it lived.
    pub long_lived_neighbour_met: bool,
}

impl MissedMessage {
    /// The nodes it missed, by name ("hub", "witness 0", ...).
    pub fn missed_by_names(&self) -> Vec<String> {
        self.missed_by
            .iter()
            .map(|&node| match node {
                0 => "hub".to_string(),
                n => format!("witness {}", n - 1),
            })
            .collect()
    }
}

impl Ledger {
    /// A ledger for `cycles` publishers of `messages_per_peer` messages each, delivered to
    /// `long_lived` nodes.
    pub fn new(cycles: usize, messages_per_peer: usize, long_lived: usize) -> Self {
        let flags = |n: usize| (0..n).map(|_| AtomicBool::new(false)).collect::<Vec<_>>();
        let total = cycles * messages_per_peer;
        Self {
            messages_per_peer,
            published: flags(total),
            received: (0..long_lived).map(|_| flags(total)).collect(),
            neighbour_at_publish: flags(cycles),
            neighbour_met: flags(cycles),
        }
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

    /// Records whether the publisher of `cycle` had a long-lived gossip neighbour in its topic
    /// when it published.
    pub fn published_with_long_lived_neighbour(&self, cycle: usize, had: bool) {
        if let Some(flag) = self.neighbour_at_publish.get(cycle) {
            flag.store(had, Ordering::Relaxed);
        }
    }

    /// Records that the publisher of `cycle` had a long-lived gossip neighbour in its topic.
    pub fn met_long_lived(&self, cycle: usize) {
        if let Some(flag) = self.neighbour_met.get(cycle) {
            flag.store(true, Ordering::Relaxed);
        }
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
                        long_lived_neighbour_met: self.neighbour_met[plan.cycle]
                            .load(Ordering::Relaxed),
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
        ledger.met_long_lived(1);
        ledger.published_with_long_lived_neighbour(1, true);
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
        assert!(missed[0].long_lived_neighbour_at_publish && missed[0].long_lived_neighbour_met);
        assert!(!missed[1].long_lived_neighbour_at_publish && !missed[1].long_lived_neighbour_met);
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
