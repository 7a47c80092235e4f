//! The seam between the harness and the forks' additive APIs: the one module that knows whether
//! it builds against our forks or against upstream.
//!
//! With the `patched` feature (the default) the harness builds against our forks and uses their
//! settings, stats and cleanup APIs here. Without it (the soak's upstream build) the same
//! functions fall back to what upstream offers: no settings, no stats but the known peers, no
//! store cap, no unsubscribe. Every `#[cfg(feature = "patched")]` of the library is in this
//! module; the rest of the harness calls it and does not know which build it is.

use std::time::Duration;

use anyhow::Result;
use mesh_metrics::Sources;
use p2panda_net::{Network, NetworkBuilder};

use crate::scenario::PeerTtl;
use crate::store::HarnessStore;
use crate::topic::MeshTopic;

/// What a run is called when nobody names it: `fork` against our forks, `upstream` without.
pub const BUILD_LABEL: &str = if cfg!(feature = "patched") {
    "fork"
} else {
    "upstream"
};

/// Operations a long-lived node's store keeps (fork only): small enough that a default soak
/// reaches it, so eviction is exercised and shown.
pub const LONG_LIVED_STORE_MAX_OPERATIONS: usize = 400;
/// Bytes a long-lived node's store keeps (fork only).
pub const LONG_LIVED_STORE_MAX_BYTES: usize = 256 * 1024;
/// How long a long-lived node remembers a peer that gave no sign of life (fork only), with
/// [`PeerTtl::Short`].
///
/// Short-lived peers in the scenario live for a few seconds; with the fork's default (30
/// minutes) the book would keep every peer that left during a run and show it growing up to the
/// TTL horizon. A short TTL lets a run reach the steady state the default TTL reaches after 30
/// minutes. Live peers refresh their entry with every topic announcement, so only departed peers
/// expire. What the hub holds for a departed peer lasts about this TTL plus QUIC's 30 s
/// handshake timeout (its dials to the departed peer until then), so the churn test's second
/// half starts after that.
pub const LONG_LIVED_PEER_TTL: Duration = Duration::from_secs(10);

/// The store of a long-lived node: capped on our fork (evicting the oldest operations),
/// unbounded on upstream, which has no cap.
pub fn long_lived_store() -> HarnessStore {
    #[cfg(feature = "patched")]
    {
        HarnessStore::capped(p2panda_store::memory::Capacity::new(
            LONG_LIVED_STORE_MAX_OPERATIONS,
            LONG_LIVED_STORE_MAX_BYTES,
        ))
    }
    #[cfg(not(feature = "patched"))]
    {
        HarnessStore::new()
    }
}

/// The address book of a long-lived node (fork only): the fork's defaults, with
/// [`LONG_LIVED_PEER_TTL`] unless the default TTL is asked for, and `max_peers` if given.
#[cfg(feature = "patched")]
fn long_lived_address_book(
    peer_ttl: PeerTtl,
    max_peers: Option<usize>,
) -> p2panda_net::AddressBookConfig {
    let mut config = p2panda_net::AddressBookConfig::default();
    if let Some(max) = max_peers {
        config = config.max_peers(max);
    }
    match peer_ttl {
        PeerTtl::Short => config.peer_ttl(LONG_LIVED_PEER_TTL),
        PeerTtl::Default => config,
        PeerTtl::Long => config.peer_ttl(crate::scenario::LONG_PEER_TTL),
    }
}

/// Builder settings of a long-lived node (hub and witnesses): on our fork, an address book
/// with the given peer TTL and peer bound (`None`: the fork's default); upstream has no setting
/// to give.
pub fn long_lived_builder(
    builder: NetworkBuilder<MeshTopic>,
    peer_ttl: PeerTtl,
    max_peers: Option<usize>,
) -> NetworkBuilder<MeshTopic> {
    #[cfg(feature = "patched")]
    {
        builder.address_book(long_lived_address_book(peer_ttl, max_peers))
    }
    #[cfg(not(feature = "patched"))]
    {
        let _ = (peer_ttl, max_peers);
        builder
    }
}

/// On our fork, iroh-gossip's recommended catch-up (a neighbour that comes up later is passed
/// the node's recent broadcasts and told of the messages it relayed); upstream has no such
/// behaviour.
pub fn with_catch_up(builder: NetworkBuilder<MeshTopic>) -> NetworkBuilder<MeshTopic> {
    #[cfg(feature = "patched")]
    {
        builder.gossip_catch_up(p2panda_net::GossipCatchUp::RECOMMENDED)
    }
    #[cfg(not(feature = "patched"))]
    {
        builder
    }
}

/// On our fork, the neighbour count below which a joined overlay takes announced peers (0: never,
/// as upstream); upstream has no such behaviour.
pub fn with_min_topic_neighbours(
    builder: NetworkBuilder<MeshTopic>,
    min: usize,
) -> NetworkBuilder<MeshTopic> {
    #[cfg(feature = "patched")]
    {
        builder.topics(p2panda_net::TopicConfig::default().min_topic_neighbours(min))
    }
    #[cfg(not(feature = "patched"))]
    {
        let _ = min;
        builder
    }
}

/// What the hub's samples read, through the collector a controller uses (mesh-metrics): every
/// structure size with the bounds the hub was built with on our fork (address book, topic
/// streams, gossip buffers, the gossip actor's peers and connection tasks, QUIC's pending
/// incoming attempts, the store); only the number of known peers on upstream.
pub fn hub_sources(node: &Network<MeshTopic>, store: &HarnessStore, peer_ttl: PeerTtl) -> Sources {
    hub_sources_bounded(node, store, peer_ttl, None)
}

/// [`hub_sources`] of a hub built with the peer bound `max_peers` (see
/// [`crate::node::NodeOptions::max_peers`]).
pub fn hub_sources_bounded(
    node: &Network<MeshTopic>,
    store: &HarnessStore,
    peer_ttl: PeerTtl,
    max_peers: Option<usize>,
) -> Sources {
    let sources = Sources::new(node).store(store);
    #[cfg(feature = "patched")]
    {
        sources.address_book(&long_lived_address_book(peer_ttl, max_peers))
    }
    #[cfg(not(feature = "patched"))]
    {
        let _ = (peer_ttl, max_peers);
        sources
    }
}

/// Ends the node's subscription to `topic` explicitly. Upstream has no such call: there the
/// caller's dropping of the handles is all that happens.
pub async fn unsubscribe(node: &Network<MeshTopic>, topic: &MeshTopic) -> Result<()> {
    #[cfg(feature = "patched")]
    {
        node.unsubscribe(topic).await
    }
    #[cfg(not(feature = "patched"))]
    {
        let _ = (node, topic);
        Ok(())
    }
}
