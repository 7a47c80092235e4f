//! What the run's tasks tally while it goes: cycles done, gossip expected and delivered, join
//! timeouts, synced operations, stalls and unanswered calls, and the ledger of every message.

use std::sync::atomic::{AtomicU64, Ordering};

use super::Delivery;
use crate::ledger::Ledger;
use crate::scenario::{PeerPlan, ScenarioConfig};

/// The run's tallies, shared by every task of the run.
#[derive(Debug, Default)]
pub(super) struct Counters {
    /// Short-lived peers that completed their plan.
    pub cycles: AtomicU64,
    /// See [`Delivery::expected`].
    pub expected: AtomicU64,
    /// See [`Delivery::delivered`].
    pub delivered: AtomicU64,
    /// See [`Delivery::delivered_to_hub`].
    pub delivered_to_hub: AtomicU64,
    /// See [`Delivery::delivered_to_witnesses`].
    pub delivered_to_witnesses: Vec<AtomicU64>,
    /// See [`Delivery::join_timeouts`].
    pub join_timeouts: AtomicU64,
    /// See [`Delivery::synced_operations`].
    pub synced: AtomicU64,
    /// See [`Delivery::peer_stalls`].
    pub peer_stalls: AtomicU64,
    /// See [`Delivery::hub_unresponsive`].
    pub hub_unresponsive: AtomicU64,
    /// See [`Delivery::witness_unresponsive`].
    pub witness_unresponsive: AtomicU64,
    /// Which message reached which long-lived node.
    pub ledger: Ledger,
}

impl Counters {
    /// Zeroed tallies for `scenario`, with a ledger for every message it can publish.
    pub fn new(scenario: &ScenarioConfig) -> Self {
        Self {
            delivered_to_witnesses: (0..scenario.witnesses).map(|_| AtomicU64::new(0)).collect(),
            ledger: Ledger::new(
                scenario.cycles,
                scenario.messages_per_peer,
                1 + scenario.witnesses,
            ),
            ..Default::default()
        }
    }

    /// Records that long-lived node `node` (0: the hub, `1 + i`: witness `i`) received message
    /// `seq` of the peer of cycle `cycle`.
    pub fn received(&self, node: usize, cycle: usize, seq: usize) {
        self.ledger.received(node, cycle, seq);
        self.delivered.fetch_add(1, Ordering::Relaxed);
        let to_node = match node.checked_sub(1) {
            None => &self.delivered_to_hub,
            Some(witness) => &self.delivered_to_witnesses[witness],
        };
        to_node.fetch_add(1, Ordering::Relaxed);
    }

    /// The delivery so far, with the messages of `plans` that did not reach every long-lived
    /// node.
    pub fn delivery(&self, plans: &[PeerPlan]) -> Delivery {
        let load = |count: &AtomicU64| count.load(Ordering::Relaxed);
        Delivery {
            expected: load(&self.expected),
            delivered: load(&self.delivered),
            delivered_to_hub: load(&self.delivered_to_hub),
            delivered_to_witnesses: self.delivered_to_witnesses.iter().map(load).collect(),
            join_timeouts: load(&self.join_timeouts),
            synced_operations: load(&self.synced),
            peer_stalls: load(&self.peer_stalls),
            hub_unresponsive: load(&self.hub_unresponsive),
            witness_unresponsive: load(&self.witness_unresponsive),
            missed: self.ledger.missed(plans),
        }
    }
}
