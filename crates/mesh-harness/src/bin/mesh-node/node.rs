//! The node a `mesh-node` process runs, and what each command does to it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use mesh_harness::compat;
use mesh_harness::node::{address_at, build_node_with, NodeOptions, NodeSpec, SharedTopicMap};
use mesh_harness::scenario::PeerTtl;
use mesh_harness::store::{append_operations, ingest, log_height, HarnessStore};
use mesh_harness::topic::MeshTopic;
use mesh_metrics::Sources;
use p2panda_core::{Header, PrivateKey, PublicKey};
use p2panda_net::{FromNetwork, Network, ToNetwork};
use p2panda_store::OperationStore;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::control::{Command, Events};

/// How long a clean shutdown may take before the process gives up on it.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// What the node is built with.
pub struct Setup {
    /// Its identity.
    pub key: PrivateKey,
    /// Whether it is a bootstrap node.
    pub bootstrap: bool,
    /// Its address book's peer TTL (fork only).
    pub peer_ttl: PeerTtl,
    /// Where it binds, whom it knows, how it resyncs.
    pub options: NodeOptions,
}

/// Whether the process goes on reading commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next command.
    Continue,
    /// The node has stopped: exit, successfully or not.
    Stop {
        /// Whether the node shut down within [`SHUTDOWN_TIMEOUT`] and without error.
        clean: bool,
    },
}

/// A running node, its store and topic map, and its subscriptions by topic name.
pub struct MeshNode {
    network: Network<MeshTopic>,
    key: PrivateKey,
    store: HarnessStore,
    topic_map: SharedTopicMap,
    sources: Sources,
    topics: HashMap<String, Joined>,
    events: Events,
}

/// One subscription: the sender the node publishes with, and the tasks that report what arrives
/// and when the overlay is joined (aborted when this is dropped).
struct Joined {
    sender: mpsc::Sender<ToNetwork>,
    _tasks: JoinSet<()>,
}

impl MeshNode {
    /// Builds the node and emits `ready` with its address.
    pub async fn start(setup: Setup, events: Events) -> Result<Self> {
        let (store, topic_map) = (HarnessStore::new(), SharedTopicMap::default());
        let bind = IpAddr::V4(setup.options.bind);
        let spec = NodeSpec {
            private_key: Some(setup.key.clone()),
            bootstrap: setup.bootstrap,
            store: store.clone(),
            topic_map: topic_map.clone(),
            long_lived: Some(setup.peer_ttl),
        };
        let network = build_node_with(spec, setup.options).await?;
        let node = Self {
            sources: compat::hub_sources(&network, &store, setup.peer_ttl),
            network,
            key: setup.key,
            store,
            topic_map,
            topics: HashMap::new(),
            events,
        };
        node.ready(bind).await?;
        Ok(node)
    }

    /// Emits `ready`: the node id and the `NODEID@IP:PORT` other nodes give as `--peer`.
    async fn ready(&self, bind: IpAddr) -> Result<()> {
        let address = address_at(&self.network, bind).await?;
        let socket = address.direct_addresses[0];
        let node_id = address.public_key.to_hex();
        let addr = format!("{node_id}@{socket}");
        self.events
            .emit("ready", json!({ "node_id": node_id, "addr": addr }));
        Ok(())
    }

    /// Carries out `command`; a failed one is reported as an `error` event, never fatal.
    pub async fn handle(&mut self, command: Command) -> Flow {
        let name = command.name();
        match self.run(command).await {
            Ok(flow) => flow,
            Err(err) => {
                self.events.error(name, format!("{err:#}"));
                Flow::Continue
            }
        }
    }

    /// Carries out `command`.
    async fn run(&mut self, command: Command) -> Result<Flow> {
        match command {
            Command::Author { topic, author } => {
                self.topic_map.add_author(&MeshTopic::new(&topic), author);
            }
            Command::Join(topic) => self.join(topic).await?,
            Command::Publish { topic, text } => self.publish(&topic, text).await?,
            Command::Write { topic, count } => self.write(&topic, count).await?,
            Command::Leave(topic) => self.leave(topic).await?,
            Command::Stats => self.stats().await?,
            Command::Peers => {
                let count = self.network.known_peers().await?.len();
                self.events.emit("peers", json!({ "count": count }));
            }
            Command::Shutdown => return Ok(self.shutdown().await),
        }
        Ok(Flow::Continue)
    }

    /// Subscribes to `name`, recording the node as an author of it, and starts reporting what
    /// arrives (`received`, `synced`) and when the overlay is joined (`joined`).
    async fn join(&mut self, name: String) -> Result<()> {
        if self.topics.contains_key(&name) {
            bail!("already joined {name:?}");
        }
        let topic = MeshTopic::new(&name);
        self.topic_map.add_author(&topic, self.key.public_key());
        let (sender, receiver, ready) = self.network.subscribe(topic).await?;
        let mut tasks = JoinSet::new();
        tasks.spawn(report_joined(name.clone(), ready, self.events));
        let reader = Reader {
            topic: name.clone(),
            store: self.store.clone(),
            events: self.events,
        };
        tasks.spawn(reader.run(receiver));
        let joined = Joined {
            sender,
            _tasks: tasks,
        };
        self.topics.insert(name, joined);
        Ok(())
    }

    /// Gossips `text` on a joined topic.
    async fn publish(&self, name: &str, text: String) -> Result<()> {
        let joined = self.joined(name)?;
        let bytes = text.into_bytes();
        joined
            .sender
            .send(ToNetwork::Message { bytes })
            .await
            .context("the topic's stream has ended")
    }

    /// Appends `count` operations to the node's own log and emits `written` with its height.
    async fn write(&mut self, name: &str, count: usize) -> Result<()> {
        let author = self.key.public_key();
        self.topic_map.add_author(&MeshTopic::new(name), author);
        let label = format!("{}/{name}", author.to_hex());
        let height = append_operations(&mut self.store, &self.key, count, &label).await?;
        self.events.emit(
            "written",
            json!({ "topic": name, "count": count, "height": height }),
        );
        Ok(())
    }

    /// Ends the subscription to `name` (explicitly on the forks; upstream by dropping the
    /// handles) and emits `left`.
    async fn leave(&mut self, name: String) -> Result<()> {
        self.joined(&name)?;
        compat::unsubscribe(&self.network, &MeshTopic::new(&name)).await?;
        self.topics.remove(&name);
        self.events.emit("left", json!({ "topic": name }));
        Ok(())
    }

    /// Emits `stats`: every reading of the node, by name.
    async fn stats(&self) -> Result<()> {
        let readings = self.sources.read().await?;
        let readings: serde_json::Map<String, serde_json::Value> = readings
            .into_iter()
            .map(|reading| (reading.name, reading.value.into()))
            .collect();
        self.events.emit("stats", json!({ "readings": readings }));
        Ok(())
    }

    /// Shuts the node down (given up after [`SHUTDOWN_TIMEOUT`]) and emits `stopped`.
    pub async fn shutdown(&mut self) -> Flow {
        self.topics.clear();
        let outcome = tokio::time::timeout(SHUTDOWN_TIMEOUT, self.network.clone().shutdown()).await;
        let clean = match outcome {
            Ok(Ok(())) => true,
            Ok(Err(err)) => {
                self.events.error("shutdown", format!("{err:#}"));
                false
            }
            Err(_) => {
                let secs = SHUTDOWN_TIMEOUT.as_secs();
                self.events
                    .error("shutdown", format!("not done within {secs} s"));
                false
            }
        };
        self.events.emit("stopped", json!({ "clean": clean }));
        Flow::Stop { clean }
    }

    /// The subscription to `name`, or an error saying it is not joined.
    fn joined(&self, name: &str) -> Result<&Joined> {
        self.topics
            .get(name)
            .with_context(|| format!("not joined to {name:?}"))
    }
}

/// Emits `joined` once the topic's gossip overlay is joined.
async fn report_joined(topic: String, ready: oneshot::Receiver<()>, events: Events) {
    if ready.await.is_ok() {
        events.emit("joined", json!({ "topic": topic }));
    }
}

/// Reads what arrives on one topic and reports it.
struct Reader {
    topic: String,
    store: HarnessStore,
    events: Events,
}

impl Reader {
    /// Reports each message until the subscription ends.
    async fn run(mut self, mut receiver: mpsc::Receiver<FromNetwork>) {
        while let Some(message) = receiver.recv().await {
            match message {
                FromNetwork::GossipMessage {
                    bytes,
                    delivered_from,
                } => self.received(&bytes, delivered_from),
                FromNetwork::SyncMessage {
                    header, payload, ..
                } => {
                    if let Err(err) = self.synced(&header, payload).await {
                        self.events.error("sync", format!("{err:#}"));
                    }
                }
            }
        }
    }

    /// Emits `received` for a gossip message.
    fn received(&self, bytes: &[u8], from: PublicKey) {
        let fields = json!({
            "topic": self.topic,
            "from": from.to_hex(),
            "payload": String::from_utf8_lossy(bytes),
            "bytes": bytes.len(),
        });
        self.events.emit("received", fields);
    }

    /// Stores an operation received through sync and emits `synced` with its author's log
    /// height in the store, and whether the store did not hold it yet (upstream can deliver an
    /// operation more than once).
    async fn synced(&mut self, header: &[u8], payload: Option<Vec<u8>>) -> Result<()> {
        let decoded: Header<()> = p2panda_core::cbor::decode_cbor(header)?;
        let author = decoded.public_key;
        let held = self.store.has_operation(decoded.hash()).await;
        let new = !held.map_err(|err| anyhow::anyhow!("{err}"))?;
        ingest(&mut self.store, header, payload).await?;
        let ops = log_height(&self.store, &author).await?;
        let fields = json!({
            "topic": self.topic,
            "author": author.to_hex(),
            "ops": ops,
            "new": new,
        });
        self.events.emit("synced", fields);
        Ok(())
    }
}
