//! Loopback-only nodes: relay off, no mDNS, bound to 127.0.0.1 and ::1 on ephemeral ports, a
//! fresh key unless one is given, and log sync over an in-memory store.
//!
//! [`build_node_with`] binds another IPv4 address (a lab host's, inside a network namespace that
//! only has the lab's interfaces) and starts with known peers and resync.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use anyhow::{bail, Context, Result};
use async_trait::async_trait;
use p2panda_core::{PrivateKey, PublicKey};
use p2panda_net::{Network, NetworkBuilder, NodeAddress, ResyncConfiguration, SyncConfiguration};
use p2panda_sync::log_sync::{LogSyncProtocol, TopicLogMap};

use crate::compat;
use crate::scenario::PeerTtl;
use crate::topic::MeshTopic;

// The store a node syncs from, where callers of the node look for it.
pub use crate::store::{append_operations, HarnessStore, LOG_ID};

/// Log ids per author, as log sync's `TopicLogMap` returns them.
pub type Logs = HashMap<PublicKey, Vec<u64>>;

/// The network id every node of the harness uses.
pub const NETWORK_ID: [u8; 32] = *b"mesh-patches/harness/network-id!";

/// Which authors' logs belong to which topic, shared by every node of a run.
///
/// Authors are added when a short-lived peer starts and removed when it leaves, so this map
/// holds live peers only and does not grow with churn.
#[derive(Clone, Debug, Default)]
pub struct SharedTopicMap(Arc<RwLock<HashMap<MeshTopic, Logs>>>);

impl SharedTopicMap {
    /// Records that `author` writes log [`LOG_ID`] for `topic`.
    pub fn add_author(&self, topic: &MeshTopic, author: PublicKey) {
        let mut map = self.0.write().expect("topic map lock");
        map.entry(topic.clone())
            .or_default()
            .insert(author, vec![LOG_ID]);
    }

    /// Forgets `author` in every topic, and topics left with no author.
    pub fn remove_author(&self, author: &PublicKey) {
        let mut map = self.0.write().expect("topic map lock");
        map.retain(|_, logs| {
            logs.remove(author);
            !logs.is_empty()
        });
    }

    /// Authors recorded, summed over topics.
    pub fn len(&self) -> usize {
        let map = self.0.read().expect("topic map lock");
        map.values().map(HashMap::len).sum()
    }

    /// Whether no author is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl TopicLogMap<MeshTopic, u64> for SharedTopicMap {
    async fn get(&self, topic: &MeshTopic) -> Option<Logs> {
        let map = self.0.read().expect("topic map lock");
        map.get(topic).cloned()
    }
}

/// What a node is built from.
#[derive(Debug)]
pub struct NodeSpec {
    /// Its identity; `None` for a fresh one.
    pub private_key: Option<PrivateKey>,
    /// Whether it is a bootstrap node (joins overlays without knowing anyone yet).
    pub bootstrap: bool,
    /// The store its log sync reads from.
    pub store: HarnessStore,
    /// Which logs belong to which topic.
    pub topic_map: SharedTopicMap,
    /// `Some` for a node that lives for the whole run (hub, witnesses): such nodes get the
    /// settings a long-running mesh node would have, with this peer TTL (see
    /// [`crate::compat::long_lived_builder`]).
    pub long_lived: Option<PeerTtl>,
}

/// Where a node listens, whom it knows from the start and whether it resyncs: what
/// [`build_node_with`] adds to a [`NodeSpec`].
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// The IPv4 address its socket binds (IPv6 always binds `::1` on an ephemeral port).
    pub bind: Ipv4Addr,
    /// The IPv4 port (0: an ephemeral one).
    pub port: u16,
    /// Peers given to the builder as direct addresses (the forks pin them).
    pub peers: Vec<NodeAddress>,
    /// Log sync's resync settings; `None` syncs each peer and topic once.
    pub resync: Option<ResyncConfiguration>,
    /// Whether the node passes its recent gossip on to neighbours that come up later (fork
    /// only: iroh-gossip's catch-up, off in the fork by default; see
    /// [`crate::compat::with_catch_up`]).
    pub catch_up: bool,
    /// Direct neighbours below which a joined overlay takes announced peers (fork only:
    /// `TopicConfig::min_topic_neighbours`); `None` keeps the fork's default.
    pub min_topic_neighbours: Option<usize>,
    /// The address book's peer bound of a long-lived node (fork only:
    /// `AddressBookConfig::max_peers`); `None` keeps the fork's default. The attack suite's
    /// test sets a small one, so that its flood reaches it.
    pub max_peers: Option<usize>,
}

impl Default for NodeOptions {
    /// Loopback on an ephemeral port, no known peers, no resync, with the catch-up: what
    /// [`build_node`] uses. The soak and the churn tests judge gossip delivery to every
    /// long-lived node, and their short-lived publishers often leave before their first
    /// neighbours forwarded what they published; the catch-up is what delivers those messages.
    fn default() -> Self {
        Self {
            bind: Ipv4Addr::LOCALHOST,
            port: 0,
            peers: Vec::new(),
            resync: None,
            catch_up: true,
            min_topic_neighbours: None,
            max_peers: None,
        }
    }
}

/// Builds a node that can reach nothing but loopback.
pub async fn build_node(spec: NodeSpec) -> Result<Network<MeshTopic>> {
    build_node_with(spec, NodeOptions::default()).await
}

/// Builds a node bound as `options` say, knowing its peers from the start.
pub async fn build_node_with(spec: NodeSpec, options: NodeOptions) -> Result<Network<MeshTopic>> {
    let protocol = LogSyncProtocol::new(spec.topic_map, spec.store);
    let mut sync = SyncConfiguration::new(protocol);
    if let Some(resync) = options.resync {
        sync = sync.resync(resync);
    }
    let mut builder = NetworkBuilder::<MeshTopic>::new(NETWORK_ID)
        .bind_ip_v4(options.bind)
        .bind_port_v4(options.port)
        .bind_ip_v6(Ipv6Addr::LOCALHOST)
        .bind_port_v6(0)
        .sync(sync);
    for peer in options.peers {
        builder = builder.direct_address(peer.public_key, peer.direct_addresses, peer.relay_url);
    }
    if let Some(key) = spec.private_key {
        builder = builder.private_key(key);
    }
    if spec.bootstrap {
        builder = builder.bootstrap();
    }
    if let Some(peer_ttl) = spec.long_lived {
        builder = compat::long_lived_builder(builder, peer_ttl, options.max_peers);
    }
    if options.catch_up {
        builder = compat::with_catch_up(builder);
    }
    if let Some(min) = options.min_topic_neighbours {
        builder = compat::with_min_topic_neighbours(builder, min);
    }
    builder
        .build()
        .await
        .with_context(|| format!("building a node bound to {}", options.bind))
}

/// The address other nodes use to reach `node`: its key and its loopback sockets.
pub async fn address_of(node: &Network<MeshTopic>) -> Result<NodeAddress> {
    address_where(node, "loopback", |ip| ip.is_loopback()).await
}

/// The address other nodes use to reach `node` at `ip`: its key and its sockets on that IP (the
/// one it was bound to with [`NodeOptions::bind`]).
pub async fn address_at(node: &Network<MeshTopic>, ip: IpAddr) -> Result<NodeAddress> {
    address_where(node, &ip.to_string(), |addr| addr == ip).await
}

/// `node`'s key and the sockets whose IP passes `keep` (`what` names them in the error).
async fn address_where(
    node: &Network<MeshTopic>,
    what: &str,
    keep: impl Fn(IpAddr) -> bool,
) -> Result<NodeAddress> {
    let sockets: Vec<SocketAddr> = node
        .direct_addresses()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|addr| keep(addr.ip()))
        .collect();
    if sockets.is_empty() {
        bail!("node {} has no {what} address", node.node_id());
    }
    Ok(NodeAddress {
        public_key: node.node_id(),
        direct_addresses: sockets,
        relay_url: None,
    })
}
