//! The hub and its honest peers: long-lived nodes on the honest topic that publish twice a
//! second, with every delivery noted by phase, and short-lived probes that join through the hub
//! and sync two operations to it, timed.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use mesh_metrics::Sources;
use p2panda_core::{Header, PrivateKey, PublicKey};
use p2panda_net::{FromNetwork, Network, NodeAddress, ToNetwork};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::measure::Phase;
use super::target::honest_topic;
use crate::compat;
use crate::node::{address_of, build_node, build_node_with, NodeOptions, NodeSpec, SharedTopicMap};
use crate::probe::Reading;
use crate::scenario::PeerTtl;
use crate::store::{append_operations, ingest, HarnessStore};
use crate::topic::MeshTopic;

/// How often each honest peer publishes.
const PUBLISH_EVERY: Duration = Duration::from_millis(500);
/// How long an honest long-lived peer may take to join through the hub at the start.
const PEER_JOIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a probe waits for its overlay.
const PROBE_JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a probe waits for the hub to have its operations.
const PROBE_SYNC_TIMEOUT: Duration = Duration::from_secs(15);
/// Operations a probe offers.
const PROBE_OPERATIONS: usize = 2;

/// Who published which honest message in which phase, and who got it.
#[derive(Debug, Default)]
struct Ledger {
    /// (publisher, seq) → phase it was published in.
    published: Mutex<HashMap<(u8, u32), Phase>>,
    /// (receiver, publisher, seq) received.
    received: Mutex<HashSet<(u8, u8, u32)>>,
    /// Operations the hub received through sync, by author.
    synced: Mutex<HashMap<PublicKey, u64>>,
}

/// What one probe saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeResult {
    /// The phase it ran in.
    pub phase: Phase,
    /// How long its overlay took to come up; `None`: not within the timeout.
    pub join: Option<Duration>,
    /// Whether the hub had its operations within the timeout.
    pub synced: bool,
}

/// The hub and the honest peers of one attack run.
pub struct HonestMesh {
    /// The hub.
    pub hub: Network<MeshTopic>,
    /// The hub's store.
    pub hub_store: HarnessStore,
    /// Where peers (and attackers) reach the hub.
    pub hub_address: NodeAddress,
    peers: Vec<Network<MeshTopic>>,
    topic_map: SharedTopicMap,
    phase: Arc<AtomicU8>,
    ledger: Arc<Ledger>,
    joined: usize,
    tasks: JoinSet<()>,
    _senders: Vec<mpsc::Sender<ToNetwork>>,
}

impl HonestMesh {
    /// Starts the hub (with `peer_ttl` and, on the fork, the peer bound `max_peers`) and `peers`
    /// honest peers joined through it, every node with iroh-gossip's catch-up if `catch_up`
    /// (fork only).
    pub async fn start(
        peer_ttl: PeerTtl,
        max_peers: Option<usize>,
        peers: usize,
        catch_up: bool,
    ) -> Result<Self> {
        let topic_map = SharedTopicMap::default();
        let hub_store = compat::long_lived_store();
        let spec = NodeSpec {
            private_key: None,
            bootstrap: true,
            store: hub_store.clone(),
            topic_map: topic_map.clone(),
            long_lived: Some(peer_ttl),
        };
        let options = NodeOptions {
            max_peers,
            catch_up,
            ..NodeOptions::default()
        };
        let hub = build_node_with(spec, options).await?;
        let hub_address = address_of(&hub).await?;
        let mut mesh = Self {
            hub,
            hub_store,
            hub_address,
            peers: Vec::new(),
            topic_map,
            phase: Arc::new(AtomicU8::new(Phase::Warmup as u8)),
            ledger: Arc::default(),
            joined: 0,
            tasks: JoinSet::new(),
            _senders: Vec::new(),
        };
        let hub = mesh.hub.clone();
        mesh.subscribe(&hub, 0).await?;
        let mut ready = Vec::new();
        for index in 1..=peers {
            ready.push(mesh.start_peer(index as u8, catch_up).await?);
        }
        // A peer whose overlay does not come up (upstream p2panda-net tries a join once) stays
        // in the run and is counted: what it misses counts against delivery.
        let until = Instant::now() + PEER_JOIN_TIMEOUT;
        for joined in ready {
            if let Ok(Ok(())) = tokio::time::timeout_at(until, joined).await {
                mesh.joined += 1;
            }
        }
        Ok(mesh)
    }

    /// Honest peers whose overlay came up within 30 s of the start, and honest peers.
    pub fn joined(&self) -> (usize, usize) {
        (self.joined, self.peers.len())
    }

    /// The phase the run is in, as deliveries and probes note it.
    pub fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Relaxed);
    }

    /// Starts honest peer `index`, publishing; the receiver tells when its overlay is up.
    async fn start_peer(&mut self, index: u8, catch_up: bool) -> Result<oneshot::Receiver<()>> {
        let spec = NodeSpec {
            private_key: None,
            bootstrap: false,
            store: HarnessStore::new(),
            topic_map: self.topic_map.clone(),
            long_lived: Some(PeerTtl::Short),
        };
        let options = NodeOptions {
            catch_up,
            ..NodeOptions::default()
        };
        let node = build_node_with(spec, options).await?;
        node.add_peer(self.hub_address.clone()).await?;
        let (sender, ready) = self.subscribe(&node, index).await?;
        let (phase, ledger) = (self.phase.clone(), self.ledger.clone());
        self.tasks.spawn(publish(index, sender, phase, ledger));
        self.peers.push(node);
        Ok(ready)
    }

    /// Subscribes `node` (index `index`: 0 the hub) to the honest topic, reading what arrives.
    async fn subscribe(
        &mut self,
        node: &Network<MeshTopic>,
        index: u8,
    ) -> Result<(mpsc::Sender<ToNetwork>, oneshot::Receiver<()>)> {
        let (tx, rx, ready) = node.subscribe(honest_topic()).await?;
        let store = self.hub_store.clone();
        self.tasks
            .spawn(receive(index, rx, store, self.ledger.clone()));
        self._senders.push(tx.clone());
        Ok((tx, ready))
    }

    /// Delivered and expected honest messages published in `phase`: each is expected at every
    /// honest node but its publisher, the hub included.
    pub fn delivery(&self, phase: Phase) -> (u64, u64) {
        let published = self.ledger.published.lock().expect("ledger");
        let received = self.ledger.received.lock().expect("ledger");
        let in_phase = |key: &(u8, u32)| published.get(key) == Some(&phase);
        let expected = published.values().filter(|p| **p == phase).count() * self.peers.len();
        let delivered = received
            .iter()
            .filter(|(receiver, publisher, seq)| {
                receiver != publisher && in_phase(&(*publisher, *seq))
            })
            .count();
        (delivered as u64, expected as u64)
    }

    /// A fresh honest peer joins through the hub, offers two operations and leaves once the hub
    /// has them (or the timeouts passed).
    pub async fn probe(&self) -> Result<ProbeResult> {
        let phase = Phase::from_u8(self.phase.load(Ordering::Relaxed));
        let key = PrivateKey::new();
        let author = key.public_key();
        let mut store = HarnessStore::new();
        append_operations(&mut store, &key, PROBE_OPERATIONS, "probe").await?;
        self.topic_map.add_author(&honest_topic(), author);
        let started = Instant::now();
        let node = build_node(NodeSpec {
            private_key: Some(key),
            bootstrap: false,
            store,
            topic_map: self.topic_map.clone(),
            long_lived: None,
        })
        .await?;
        node.add_peer(self.hub_address.clone()).await?;
        let (_tx, _rx, ready) = node.subscribe(honest_topic()).await?;
        let joined = tokio::time::timeout(PROBE_JOIN_TIMEOUT, ready).await;
        let join = matches!(joined, Ok(Ok(()))).then(|| started.elapsed());
        let synced = self.wait_synced(&author).await;
        let _ = tokio::time::timeout(Duration::from_secs(10), node.shutdown()).await;
        self.topic_map.remove_author(&author);
        self.ledger.synced.lock().expect("ledger").remove(&author);
        Ok(ProbeResult {
            phase,
            join,
            synced,
        })
    }

    async fn wait_synced(&self, author: &PublicKey) -> bool {
        let until = Instant::now() + PROBE_SYNC_TIMEOUT;
        while Instant::now() < until {
            let got = self
                .ledger
                .synced
                .lock()
                .expect("ledger")
                .get(author)
                .copied();
            if got.unwrap_or(0) >= PROBE_OPERATIONS as u64 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Each honest peer's structures now, as the collector reads them (an empty list for a peer
    /// that did not answer): they live in the hub's process and learn what the hub relays.
    pub async fn peer_readings(&self) -> Vec<Vec<Reading>> {
        let mut out = Vec::new();
        for peer in &self.peers {
            out.push(Sources::new(peer).structures().await.unwrap_or_default());
        }
        out
    }

    /// Whether the hub answers a call of its engine within 5 s.
    pub async fn hub_answers(&self) -> bool {
        let answer = tokio::time::timeout(Duration::from_secs(5), self.hub.known_peers()).await;
        matches!(answer, Ok(Ok(_)))
    }

    /// Stops publishing and shuts every node down (each given 10 s).
    pub async fn shutdown(mut self) {
        self.tasks.abort_all();
        for node in self.peers.into_iter().chain([self.hub]) {
            let _ = tokio::time::timeout(Duration::from_secs(10), node.shutdown()).await;
        }
    }
}

/// Publishes `attack-honest/<index>/<seq>` every [`PUBLISH_EVERY`], noting the phase.
async fn publish(
    index: u8,
    tx: mpsc::Sender<ToNetwork>,
    phase: Arc<AtomicU8>,
    ledger: Arc<Ledger>,
) {
    let mut ticker = tokio::time::interval(PUBLISH_EVERY);
    for seq in 0u32.. {
        ticker.tick().await;
        let now = Phase::from_u8(phase.load(Ordering::Relaxed));
        ledger
            .published
            .lock()
            .expect("ledger")
            .insert((index, seq), now);
        let bytes = format!("attack-honest/{index}/{seq}").into_bytes();
        if tx.send(ToNetwork::Message { bytes }).await.is_err() {
            break;
        }
    }
}

/// Reads what node `index` receives: honest messages into the ledger; at the hub, synced
/// operations into its store and the ledger.
async fn receive(
    index: u8,
    mut rx: mpsc::Receiver<FromNetwork>,
    mut store: HarnessStore,
    ledger: Arc<Ledger>,
) {
    while let Some(message) = rx.recv().await {
        match message {
            FromNetwork::GossipMessage { bytes, .. } => {
                if let Some((publisher, seq)) = parse(&bytes) {
                    ledger
                        .received
                        .lock()
                        .expect("ledger")
                        .insert((index, publisher, seq));
                }
            }
            FromNetwork::SyncMessage {
                header, payload, ..
            } if index == 0 => {
                let author = p2panda_core::cbor::decode_cbor::<Header<()>, _>(&header[..])
                    .map(|h| h.public_key);
                if ingest(&mut store, &header, payload).await.is_ok() {
                    if let Ok(author) = author {
                        *ledger
                            .synced
                            .lock()
                            .expect("ledger")
                            .entry(author)
                            .or_default() += 1;
                    }
                }
            }
            FromNetwork::SyncMessage { .. } => {}
        }
    }
}

fn parse(bytes: &[u8]) -> Option<(u8, u32)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let (publisher, seq) = text.strip_prefix("attack-honest/")?.split_once('/')?;
    Some((publisher.parse().ok()?, seq.parse().ok()?))
}
