//! Gossip accounting: every message a node published, to whom it should have come (the live
//! subscribers it could reach when it was sent), and to whom it came, when.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::node::Event;

/// When in a cell a message was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The steady round before the fault.
    Before,
    /// During a partition (expected only on the publisher's side).
    Partitioned,
    /// The round right after the partition healed (judged against a 10 s limit).
    Healed,
    /// Sent by the peers until the restarted hub has heard from each (its rejoin).
    Rejoin,
    /// During churn.
    Churn,
    /// The steady round after the fault.
    After,
}

/// One published message and what became of it.
#[derive(Debug, Clone)]
pub struct Message {
    /// Its payload, unique in the run.
    pub id: String,
    /// Index of the node that published it.
    pub from: usize,
    /// When the publish command was sent.
    pub sent: Instant,
    /// The phase it was published in.
    pub phase: Phase,
    /// Indexes of the nodes it should reach.
    pub expected: Vec<usize>,
    /// When it reached each node it did reach (index to the driver's reading time).
    pub received: BTreeMap<usize, Instant>,
}

impl Message {
    /// Whether it reached every node it should have.
    pub fn complete(&self) -> bool {
        self.expected.iter().all(|i| self.received.contains_key(i))
    }

    /// Whether it reached every node it should have within `limit` of being sent.
    pub fn complete_within(&self, limit: Duration) -> bool {
        self.expected.iter().all(|i| {
            self.received
                .get(i)
                .is_some_and(|at| at.duration_since(self.sent) <= limit)
        })
    }

    /// The message among the long-lived nodes whose overlay joined: `None` if its publisher is
    /// one of the `islanded` (its gossip reaches nobody, whatever the mesh does), else without
    /// the islanded receivers.
    pub fn among_joined(&self, islanded: &[usize]) -> Option<Message> {
        if islanded.contains(&self.from) {
            return None;
        }
        let mut message = self.clone();
        message.expected.retain(|i| !islanded.contains(i));
        Some(message)
    }

    /// Latency to each node it reached, in milliseconds.
    pub fn latencies_ms(&self) -> impl Iterator<Item = f64> + '_ {
        self.expected.iter().filter_map(|i| {
            self.received
                .get(i)
                .map(|at| at.duration_since(self.sent).as_secs_f64() * 1e3)
        })
    }
}

/// Every message of a cell.
#[derive(Debug, Default)]
pub struct Ledger {
    /// In the order they were sent.
    pub messages: Vec<Message>,
}

impl Ledger {
    /// Records a message just sent.
    pub fn sent(&mut self, id: String, from: usize, phase: Phase, expected: Vec<usize>) {
        self.messages.push(Message {
            id,
            from,
            sent: Instant::now(),
            phase,
            expected,
            received: BTreeMap::new(),
        });
    }

    /// Records what node `index` received, from its events.
    pub fn read(&mut self, index: usize, events: &[Event]) {
        for event in events.iter().filter(|e| e.name() == "received") {
            let Some(payload) = event.body["payload"].as_str() else {
                continue;
            };
            if let Some(message) = self.messages.iter_mut().find(|m| m.id == payload) {
                message.received.entry(index).or_insert(event.at);
            }
        }
    }

    /// Whether every message of `phase` is complete.
    pub fn phase_complete(&self, phase: Phase) -> bool {
        self.of(phase).all(Message::complete)
    }

    /// The messages of `phase`.
    pub fn of(&self, phase: Phase) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(move |m| m.phase == phase)
    }

    /// Deliveries made and expected, over messages `judged` accepts.
    pub fn delivered(&self, judged: impl Fn(&Message) -> bool) -> (usize, usize) {
        tally(self.messages.iter().filter(|m| judged(m)))
    }
}

/// Deliveries made and expected over `messages`.
pub fn tally<'a>(messages: impl Iterator<Item = &'a Message>) -> (usize, usize) {
    messages.fold((0, 0), |(made, expected), m| {
        let made_here = m.expected.iter().filter(|i| m.received.contains_key(i));
        (made + made_here.count(), expected + m.expected.len())
    })
}

/// The `q` quantile (0..=1) of `values`, nearest rank; `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn received(payload: &str, at: Instant) -> Event {
        Event {
            at,
            body: json!({"event": "received", "topic": "lab", "payload": payload}),
        }
    }

    #[test]
    fn deliveries_are_counted_against_the_expected_receivers() {
        let mut ledger = Ledger::default();
        ledger.sent("m1".into(), 0, Phase::Before, vec![1, 2]);
        ledger.sent("m2".into(), 1, Phase::After, vec![0]);
        let later = Instant::now() + Duration::from_millis(40);
        ledger.read(1, &[received("m1", later), received("m1", later)]);
        ledger.read(2, &[received("other", later)]);
        assert!(!ledger.phase_complete(Phase::Before));
        assert_eq!(ledger.delivered(|_| true), (1, 3));
        ledger.read(2, &[received("m1", later)]);
        assert!(ledger.phase_complete(Phase::Before));
        assert!(ledger.messages[0].complete_within(Duration::from_secs(1)));
        assert!(!ledger.messages[0].complete_within(Duration::from_millis(1)));
    }

    #[test]
    fn islanded_nodes_are_left_out_as_publishers_and_as_receivers() {
        let mut ledger = Ledger::default();
        ledger.sent("m1".into(), 0, Phase::Before, vec![1, 2]);
        ledger.sent("m2".into(), 2, Phase::Before, vec![0, 1]);
        ledger.read(1, &[received("m1", Instant::now())]);
        assert!(!ledger.messages[0].complete());
        let m1 = ledger.messages[0].among_joined(&[2]).unwrap();
        assert_eq!(m1.expected, vec![1]);
        assert!(m1.complete());
        assert!(ledger.messages[1].among_joined(&[2]).is_none());
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let values = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(quantile(&values, 0.5), Some(3.0));
        assert_eq!(quantile(&values, 0.99), Some(5.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
