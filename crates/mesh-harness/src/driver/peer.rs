//! A short-lived peer: a fresh identity that joins through the hub, subscribes to one topic,
//! publishes, lingers, ends its subscription and leaves, as its [`PeerPlan`] says, while its
//! gossip neighbours are followed for the ledger.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use p2panda_core::{PrivateKey, PublicKey};
use p2panda_net::{Network, NodeAddress, SystemEvent, ToNetwork, TopicId};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use super::counters::Counters;
use super::SHUTDOWN_TIMEOUT;
use crate::compat;
use crate::ledger::Ledger;
use crate::node::{build_node, NodeSpec, SharedTopicMap};
use crate::scenario::{gossip_payload, Ending, Leave, PeerPlan};
use crate::store::{append_operations, HarnessStore};
use crate::topic::MeshTopic;

/// How long a short-lived peer waits for its overlay before it gives up publishing.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a short-lived peer may take for its whole plan before it is dropped.
const PEER_DEADLINE: Duration = Duration::from_secs(60);
/// How long a peer that ends its subscription by dropping its handles keeps running without
/// them before it leaves.
const AFTER_DROPPING_HANDLES: Duration = Duration::from_millis(200);

/// What every short-lived peer of a run shares.
#[derive(Debug, Clone)]
pub(super) struct PeerContext {
    /// The address it joins through.
    pub hub: NodeAddress,
    /// Where it records its log for its topic while it lives.
    pub topic_map: SharedTopicMap,
    /// The run's tallies.
    pub counters: Arc<Counters>,
    /// Who counts as a long-lived gossip neighbour (see [`watch_neighbours`]).
    pub long_lived_keys: Arc<Vec<PublicKey>>,
}

/// Runs one short-lived peer's plan to its end, on topic `topic`.
pub(super) async fn run_peer(plan: PeerPlan, topic: MeshTopic, cx: &PeerContext) -> Result<()> {
    let key = PrivateKey::new();
    let author = key.public_key();
    let store = peer_store(&key, &plan).await?;
    cx.topic_map.add_author(&topic, author);
    // With RUST_LOG=mesh_harness=debug, a lost message's publisher (the ledger's cycle) can be
    // found in the nodes' own logs by its key.
    tracing::debug!(cycle = plan.cycle, topic = plan.topic, key = %author.to_hex(), "short-lived peer starts");
    // A peer that hangs (in a call to its own node, or waiting on the hub) is dropped at the
    // deadline, which is as abrupt a leave as any, and counted.
    let result =
        match tokio::time::timeout(PEER_DEADLINE, live(&plan, &topic, key, store, cx)).await {
            Ok(result) => result,
            Err(_) => {
                cx.counters.peer_stalls.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        };
    cx.topic_map.remove_author(&author);
    result
}

/// A fresh store holding the operations the peer offers for log sync.
async fn peer_store(key: &PrivateKey, plan: &PeerPlan) -> Result<HarnessStore> {
    let mut store = HarnessStore::new();
    let label = format!("cycle-{}", plan.cycle);
    append_operations(&mut store, key, plan.operations, &label).await?;
    Ok(store)
}

/// The peer's life: join, publish, linger, end its subscription, leave.
async fn live(
    plan: &PeerPlan,
    topic: &MeshTopic,
    key: PrivateKey,
    store: HarnessStore,
    cx: &PeerContext,
) -> Result<()> {
    let node = join(key, store, cx).await?;
    // Followed until the peer's life ends (a `JoinSet` aborts its tasks when dropped).
    let (neighbours, _watcher) = follow_neighbours(&node, topic, plan.cycle, cx).await?;
    let (mut subscription, ready) = Subscription::open(&node, topic).await?;
    let joined = matches!(tokio::time::timeout(JOIN_TIMEOUT, ready).await, Ok(Ok(())));
    if joined {
        publish(plan, &subscription, &neighbours, cx).await?;
    } else {
        cx.counters.join_timeouts.fetch_add(1, Ordering::Relaxed);
    }
    // Give gossip and sync time to happen.
    tokio::time::sleep(plan.linger).await;
    end_subscription(plan.ending, &node, topic, &mut subscription).await?;
    leave(plan.leave, node).await;
    // Handles kept until the node was gone (`Ending::Keep`) go now.
    subscription.close().await;
    Ok(())
}

/// Builds the peer's node and points it at the hub.
async fn join(
    key: PrivateKey,
    store: HarnessStore,
    cx: &PeerContext,
) -> Result<Network<MeshTopic>> {
    let node = build_node(NodeSpec {
        private_key: Some(key),
        bootstrap: false,
        store,
        topic_map: cx.topic_map.clone(),
        long_lived: None,
    })
    .await?;
    node.add_peer(cx.hub.clone()).await?;
    Ok(node)
}

/// Starts following the node's gossip neighbours in `topic` (see [`watch_neighbours`]) until the
/// returned set is dropped.
async fn follow_neighbours(
    node: &Network<MeshTopic>,
    topic: &MeshTopic,
    cycle: usize,
    cx: &PeerContext,
) -> Result<(Arc<Neighbours>, JoinSet<()>)> {
    let neighbours = Arc::new(Neighbours::default());
    let (events, topic_id, keys, current, counters) = (
        node.events().await?,
        topic.id(),
        cx.long_lived_keys.clone(),
        neighbours.clone(),
        cx.counters.clone(),
    );
    let mut watcher = JoinSet::new();
    watcher.spawn(async move {
        watch_neighbours(events, topic_id, &keys, &current, &counters.ledger, cycle).await
    });
    Ok((neighbours, watcher))
}

/// A short-lived peer's subscription: the sender it publishes with, and a task that reads what
/// arrives, as an application would, until it is stopped.
struct Subscription {
    sender: Option<mpsc::Sender<ToNetwork>>,
    reader: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Subscription {
    /// Subscribes `node` to `topic`; also returns what tells that the overlay is ready.
    async fn open(
        node: &Network<MeshTopic>,
        topic: &MeshTopic,
    ) -> Result<(Self, oneshot::Receiver<()>)> {
        let (sender, mut receiver, ready) = node.subscribe(topic.clone()).await?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let reader = tokio::spawn(async move {
            loop {
                tokio::select! {
                    message = receiver.recv() => if message.is_none() { break },
                    _ = &mut stopped => break,
                }
            }
        });
        let subscription = Self {
            sender: Some(sender),
            reader: Some((stop, reader)),
        };
        Ok((subscription, ready))
    }

    /// Drops the sender, then stops the reader and waits for it, which drops the receiver.
    /// Does nothing the second time.
    async fn close(&mut self) {
        drop(self.sender.take());
        if let Some((stop, task)) = self.reader.take() {
            let _ = stop.send(());
            let _ = task.await;
        }
    }
}

/// Publishes the plan's gossip messages, noting in the ledger what neighbours the peer had.
async fn publish(
    plan: &PeerPlan,
    subscription: &Subscription,
    neighbours: &Neighbours,
    cx: &PeerContext,
) -> Result<()> {
    let ledger = &cx.counters.ledger;
    ledger.published_with_neighbours(
        plan.cycle,
        neighbours.long_lived.load(Ordering::Relaxed) != 0,
        neighbours.count.load(Ordering::Relaxed),
    );
    let Some(sender) = &subscription.sender else {
        return Ok(());
    };
    let long_lived = cx.long_lived_keys.len() as u64;
    for seq in 0..plan.messages {
        let bytes = gossip_payload(plan.cycle, seq);
        sender
            .send(ToNetwork::Message { bytes })
            .await
            .context("publishing")?;
        ledger.published(plan.cycle, seq);
        cx.counters
            .expected
            .fetch_add(long_lived, Ordering::Relaxed);
    }
    Ok(())
}

/// Ends the subscription as planned; [`Ending::Keep`] keeps the handles until the peer has left.
async fn end_subscription(
    ending: Ending,
    node: &Network<MeshTopic>,
    topic: &MeshTopic,
    subscription: &mut Subscription,
) -> Result<()> {
    match ending {
        Ending::Unsubscribe => {
            compat::unsubscribe(node, topic).await?;
            subscription.close().await;
        }
        Ending::DropHandles => {
            subscription.close().await;
            tokio::time::sleep(AFTER_DROPPING_HANDLES).await;
        }
        Ending::Keep => {}
    }
    Ok(())
}

/// Leaves as planned: a clean shutdown (given up after [`SHUTDOWN_TIMEOUT`]), or the node dropped.
async fn leave(leave: Leave, node: Network<MeshTopic>) {
    match leave {
        Leave::Clean => {
            let _ = tokio::time::timeout(SHUTDOWN_TIMEOUT, node.shutdown()).await;
        }
        Leave::Abrupt => drop(node),
    }
}

/// A short-lived peer's gossip neighbours in its topic right now, as [`watch_neighbours`] follows
/// them.
#[derive(Debug, Default)]
struct Neighbours {
    /// One bit per long-lived node (index into the long-lived keys) that is a neighbour.
    long_lived: AtomicU64,
    /// How many neighbours it has, long-lived or not.
    count: AtomicUsize,
}

/// Follows a short-lived peer's gossip neighbours in its topic until its node's event channel
/// closes, into `current`; the ledger records when a long-lived node first was one (see
/// [`crate::ledger`]).
///
/// A set, not a count of ups less downs: the same neighbour can be reported twice (in
/// `GossipJoined` and as a `GossipNeighborUp`), and must still go when it goes down once.
async fn watch_neighbours(
    mut events: tokio::sync::broadcast::Receiver<SystemEvent<MeshTopic>>,
    topic_id: [u8; 32],
    long_lived_keys: &[PublicKey],
    current: &Neighbours,
    ledger: &Ledger,
    cycle: usize,
) {
    let bit = |peer: &PublicKey| {
        long_lived_keys
            .iter()
            .position(|key| key == peer)
            // Long-lived nodes past the 64th are not followed (the scenario has a few).
            .and_then(|i| 1u64.checked_shl(i as u32))
            .unwrap_or(0)
    };
    // Bounded by the topic's active view (a handful of peers).
    let mut neighbours = HashSet::new();
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        };
        let (up, down) = match event {
            SystemEvent::GossipJoined { topic_id: t, peers } if t == topic_id => (peers, vec![]),
            SystemEvent::GossipNeighborUp { topic_id: t, peer } if t == topic_id => {
                (vec![peer], vec![])
            }
            SystemEvent::GossipNeighborDown { topic_id: t, peer } if t == topic_id => {
                (vec![], vec![peer])
            }
            _ => continue,
        };
        let up_bits = up.iter().fold(0, |bits, peer| bits | bit(peer));
        let down_bits = down.iter().fold(0, |bits, peer| bits | bit(peer));
        neighbours.extend(up);
        for peer in &down {
            neighbours.remove(peer);
        }
        current.count.store(neighbours.len(), Ordering::Relaxed);
        if up_bits != 0 {
            current.long_lived.fetch_or(up_bits, Ordering::Relaxed);
            ledger.met_long_lived(cycle);
        }
        if down_bits != 0 {
            let before = current.long_lived.fetch_and(!down_bits, Ordering::Relaxed);
            if before != 0 && before & !down_bits == 0 {
                ledger.parted_long_lived(cycle);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{plan, ScenarioConfig};

    fn key() -> PublicKey {
        PrivateKey::new().public_key()
    }

    /// A neighbour reported twice and down once is gone; another topic's and short-lived peers'
    /// events change nothing; having had a long-lived neighbour is recorded.
    #[tokio::test]
    async fn watch_neighbours_follows_long_lived_neighbours_of_the_topic() {
        let (hub, witness, newcomer) = (key(), key(), key());
        // The witness first: its bit (0b01) differs from what a count of ups less downs (2) gives.
        let keys = vec![witness, hub];
        let (topic_id, other_topic) = ([1; 32], [2; 32]);
        let (tx, rx) = tokio::sync::broadcast::channel(16);
        let current = Neighbours::default();
        let ledger = Ledger::new(3, 1, 2);
        let sent: Vec<SystemEvent<MeshTopic>> = vec![
            SystemEvent::GossipNeighborUp {
                topic_id: other_topic,
                peer: hub,
            },
            SystemEvent::GossipNeighborUp {
                topic_id,
                peer: newcomer,
            },
            SystemEvent::GossipJoined {
                topic_id,
                peers: vec![hub, newcomer],
            },
            SystemEvent::GossipNeighborUp {
                topic_id,
                peer: hub,
            },
            SystemEvent::GossipNeighborUp {
                topic_id,
                peer: witness,
            },
            SystemEvent::GossipNeighborDown {
                topic_id,
                peer: hub,
            },
        ];
        for event in sent {
            tx.send(event).unwrap();
        }
        drop(tx);
        watch_neighbours(rx, topic_id, &keys, &current, &ledger, 1).await;
        assert_eq!(
            current.long_lived.load(Ordering::Relaxed),
            0b01,
            "only the witness is left"
        );
        assert_eq!(
            current.count.load(Ordering::Relaxed),
            2,
            "the newcomer and the witness"
        );

        let (tx, rx) = tokio::sync::broadcast::channel(4);
        let current = Neighbours::default();
        tx.send(SystemEvent::GossipNeighborUp {
            topic_id,
            peer: newcomer,
        })
        .unwrap();
        drop(tx);
        watch_neighbours(rx, topic_id, &keys, &current, &ledger, 0).await;
        assert_eq!(current.long_lived.load(Ordering::Relaxed), 0);
        assert_eq!(current.count.load(Ordering::Relaxed), 1);

        // Cycle 2 meets the hub and loses it: it is left with no long-lived neighbour.
        let (tx, rx) = tokio::sync::broadcast::channel(4);
        let current = Neighbours::default();
        for (up, peer) in [(true, hub), (true, newcomer), (false, hub)] {
            tx.send(match up {
                true => SystemEvent::GossipNeighborUp { topic_id, peer },
                false => SystemEvent::GossipNeighborDown { topic_id, peer },
            })
            .unwrap();
        }
        drop(tx);
        watch_neighbours(rx, topic_id, &keys, &current, &ledger, 2).await;
        assert_eq!(current.long_lived.load(Ordering::Relaxed), 0);

        // All publish and lose their message at both nodes: the table says who had met one, and
        // who then lost every long-lived neighbour (cycle 1 kept the witness).
        for cycle in 0..3 {
            ledger.published_with_neighbours(cycle, false, 0);
            ledger.published(cycle, 0);
        }
        let plans = plan(&ScenarioConfig {
            cycles: 3,
            messages_per_peer: 1,
            ..ScenarioConfig::default()
        });
        let missed = ledger.missed(&plans);
        let met: Vec<bool> = missed
            .iter()
            .map(|m| m.first_long_lived_neighbour_ms.is_some())
            .collect();
        assert_eq!(met, vec![false, true, true]);
        let parted: Vec<bool> = missed
            .iter()
            .map(|m| m.long_lived_neighbour_kept_ms.is_some())
            .collect();
        assert_eq!(parted, vec![false, false, true]);
    }
}
