//! The long-lived nodes: the hub every short-lived peer joins through (the mesh-controller's
//! role) and the witnesses, each subscribed to every topic for the whole run, counting what they
//! receive.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use p2panda_core::PublicKey;
use p2panda_net::{FromNetwork, Network, NodeAddress, ToNetwork};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::counters::Counters;
use super::{CALL_TIMEOUT, SHUTDOWN_TIMEOUT};
use crate::compat;
use crate::ledger::long_lived_name;
use crate::node::{address_of, build_node, NodeSpec, SharedTopicMap};
use crate::scenario::{parse_gossip_payload, PeerTtl, ScenarioConfig};
use crate::store::{ingest, HarnessStore};
use crate::topic::MeshTopic;

/// Which long-lived node a node is.
#[derive(Debug, Clone, Copy)]
enum Role {
    /// The bootstrap node every short-lived peer joins through.
    Hub,
    /// The witness with this index.
    Witness(usize),
}

impl Role {
    /// The node's index among the long-lived nodes, as the ledger counts them: 0 for the hub,
    /// `1 + i` for witness `i`.
    fn index(self) -> usize {
        match self {
            Role::Hub => 0,
            Role::Witness(index) => 1 + index,
        }
    }
}

/// A long-lived node and what it holds.
pub(super) struct LongLived {
    /// The node.
    pub node: Network<MeshTopic>,
    /// The store its log sync reads from and received operations go to.
    pub store: HarnessStore,
    // Keeps the subscriptions open for the whole run.
    _senders: Vec<mpsc::Sender<ToNetwork>>,
}

/// What every long-lived node of a run is started with.
struct Setup<'a> {
    topics: &'a [MeshTopic],
    topic_map: &'a SharedTopicMap,
    peer_ttl: PeerTtl,
    counters: &'a Arc<Counters>,
}

/// The hub and the witnesses of a run, and the tasks that read what they receive.
pub(super) struct LongLivedNodes {
    /// The hub.
    pub hub: LongLived,
    /// The address short-lived peers and witnesses join through.
    pub hub_address: NodeAddress,
    /// The witnesses, in start order.
    pub witnesses: Vec<LongLived>,
    /// The hub's key and the witnesses', in that order: who counts as a long-lived gossip
    /// neighbour of a short-lived peer (see [`super::peer`]).
    pub keys: Arc<Vec<PublicKey>>,
    /// One task per node and topic, reading what arrives.
    receivers: JoinSet<()>,
}

impl LongLivedNodes {
    /// Starts the hub, then the witnesses through it, each subscribed to every topic.
    pub async fn start(
        scenario: &ScenarioConfig,
        topics: &[MeshTopic],
        topic_map: &SharedTopicMap,
        counters: &Arc<Counters>,
    ) -> Result<Self> {
        let setup = Setup {
            topics,
            topic_map,
            peer_ttl: scenario.peer_ttl,
            counters,
        };
        let mut receivers = JoinSet::new();
        let hub = start_long_lived(Role::Hub, None, &setup, &mut receivers).await?;
        let hub_address = address_of(&hub.node).await?;
        let mut witnesses = Vec::new();
        for index in 0..scenario.witnesses {
            let role = Role::Witness(index);
            witnesses
                .push(start_long_lived(role, Some(&hub_address), &setup, &mut receivers).await?);
        }
        let mut keys = vec![hub_address.public_key];
        for witness in &witnesses {
            keys.push(address_of(&witness.node).await?.public_key);
        }
        for (i, key) in keys.iter().enumerate() {
            tracing::debug!(node = %long_lived_name(i), key = %key.to_hex(), "long-lived node");
        }
        Ok(Self {
            hub,
            hub_address,
            witnesses,
            keys: Arc::new(keys),
            receivers,
        })
    }

    /// Checks each witness every `every`, each by a task of its own, with a call its engine
    /// answers itself, and counts the checks not answered in time: a node whose engine stopped
    /// (as with the sync deadlock fixed by p2panda-net 0014) fails it. The checks run beside the
    /// sampling, so a witness that does not answer never holds the samples or the churn up.
    /// They end when the returned set is dropped or aborted.
    pub fn check_witnesses(&self, counters: &Arc<Counters>, every: Duration) -> JoinSet<()> {
        let mut checks = JoinSet::new();
        for witness in &self.witnesses {
            let node = witness.node.clone();
            let counters = counters.clone();
            checks.spawn(async move {
                let mut ticker = tokio::time::interval(every);
                ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticker.tick().await;
                    let answered = tokio::time::timeout(CALL_TIMEOUT, node.known_peers()).await;
                    if !matches!(answered, Ok(Ok(_))) {
                        counters
                            .witness_unresponsive
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        checks
    }

    /// Shuts the witnesses and then the hub down, and stops reading what they receive.
    ///
    /// A node that does not stop within [`SHUTDOWN_TIMEOUT`] is left behind, said so, and the run
    /// still ends: its figures are taken by then, and upstream p2panda-net can deadlock in
    /// `shutdown` (p2panda-net 0010 fixes it).
    pub async fn shutdown(mut self) {
        let nodes = self
            .witnesses
            .into_iter()
            .map(|w| ("witness", w.node))
            .chain(std::iter::once(("hub", self.hub.node)));
        for (role, node) in nodes {
            if tokio::time::timeout(SHUTDOWN_TIMEOUT, node.shutdown())
                .await
                .is_err()
            {
                eprintln!(
                    "mesh-harness: the {role} did not shut down within {}s (left running)",
                    SHUTDOWN_TIMEOUT.as_secs()
                );
            }
        }
        self.receivers.abort_all();
    }
}

/// Starts one long-lived node: through `hub` unless it is the hub, with the settings a
/// long-running mesh node has (see [`compat::long_lived_builder`]), subscribed to every topic,
/// with a task per topic in `receivers` counting what arrives.
async fn start_long_lived(
    role: Role,
    hub: Option<&NodeAddress>,
    setup: &Setup<'_>,
    receivers: &mut JoinSet<()>,
) -> Result<LongLived> {
    let store = compat::long_lived_store();
    let node = build_node(NodeSpec {
        private_key: None,
        bootstrap: matches!(role, Role::Hub),
        store: store.clone(),
        topic_map: setup.topic_map.clone(),
        // Only the hub runs with the run's peer TTL: witnesses keep the short one, so that the
        // heap per remembered peer is the hub's alone and the hub always has live peers.
        long_lived: Some(match role {
            Role::Hub => setup.peer_ttl,
            Role::Witness(_) => PeerTtl::Short,
        }),
    })
    .await?;
    if let Some(hub) = hub {
        node.add_peer(hub.clone()).await?;
    }
    let mut senders = Vec::new();
    for topic in setup.topics {
        let (tx, rx, _ready) = node.subscribe(topic.clone()).await?;
        senders.push(tx);
        receivers.spawn(receive(role, rx, store.clone(), setup.counters.clone()));
    }
    Ok(LongLived {
        node,
        store,
        _senders: senders,
    })
}

/// Reads what a long-lived node receives on one topic until the subscription ends: gossip is
/// counted as delivered, operations are stored (and, at the hub, counted as synced).
async fn receive(
    role: Role,
    mut rx: mpsc::Receiver<FromNetwork>,
    mut store: HarnessStore,
    counters: Arc<Counters>,
) {
    while let Some(message) = rx.recv().await {
        match message {
            FromNetwork::GossipMessage { bytes, .. } => {
                if let Some((cycle, seq)) = parse_gossip_payload(&bytes) {
                    counters.received(role.index(), cycle, seq);
                }
            }
            FromNetwork::SyncMessage {
                header, payload, ..
            } => {
                let stored = ingest(&mut store, &header, payload).await.is_ok();
                if stored && matches!(role, Role::Hub) {
                    counters.synced.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}
