//! The seam between the harness and the forks' additive APIs.
//!
//! With the `patched` feature (the default) the harness builds against our forks and reads
//! their stats and cleanup APIs here. Without it (`cargo xtask soak --baseline`, unpatched
//! upstream) the same functions fall back to what upstream offers: no stats, no caps, no
//! unsubscribe. Nothing outside this module knows which build it is.

use anyhow::Result;
use p2panda_net::{Network, NetworkBuilder};

use crate::node::HarnessStore;
use crate::probe::Reading;
use crate::scenario::PeerTtl;
use crate::topic::MeshTopic;

/// Operations a long-lived node's store keeps (fork only): small enough that a default soak
/// reaches it, so eviction is exercised and shown.
pub const LONG_LIVED_STORE_MAX_OPERATIONS: usize = 400;
/// Bytes a long-lived node's store keeps (fork only).
pub const LONG_LIVED_STORE_MAX_BYTES: usize = 256 * 1024;
/// How long a long-lived node remembers a peer that gave no sign of life (fork only).
///
/// Short-lived peers in the scenario live for a few seconds; the fork's default (30 minutes)
/// would make a two-minute soak show the book growing up to the TTL horizon. A short TTL lets
/// the default run reach the steady state the default TTL reaches after 30 minutes. Live peers
/// refresh their entry with every topic announcement, so only departed peers expire. What the
/// hub holds for a departed peer lasts about this TTL plus QUIC's 30 s handshake timeout (its
/// dials to the departed peer until then), so the churn test's second half starts after that.
pub const LONG_LIVED_PEER_TTL: std::time::Duration = std::time::Duration::from_secs(10);

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

/// Builder settings of a long-lived node (hub and witnesses): on our fork, an address book
/// with the given peer TTL; upstream has no setting to give.
pub fn long_lived_builder(
    builder: NetworkBuilder<MeshTopic>,
    peer_ttl: PeerTtl,
) -> NetworkBuilder<MeshTopic> {
    #[cfg(feature = "patched")]
    {
        builder.address_book(long_lived_address_book(peer_ttl))
    }
    #[cfg(not(feature = "patched"))]
    {
        let _ = peer_ttl;
        builder
    }
}

/// The address book of a long-lived node: the fork's defaults, with [`LONG_LIVED_PEER_TTL`]
/// unless the default TTL is asked for.
#[cfg(feature = "patched")]
fn long_lived_address_book(peer_ttl: PeerTtl) -> p2panda_net::AddressBookConfig {
    match peer_ttl {
        PeerTtl::Short => p2panda_net::AddressBookConfig::default().peer_ttl(LONG_LIVED_PEER_TTL),
        PeerTtl::Default => p2panda_net::AddressBookConfig::default(),
    }
}

/// Every structure size the hub can report: the address book, topic streams, gossip buffers,
/// the gossip actor's peers and connection tasks, QUIC's pending incoming attempts and the store
/// on our fork; only the number of known peers on upstream.
///
/// An error means the node did not answer (its engine is gone or stuck).
pub async fn hub_readings(
    node: &Network<MeshTopic>,
    store: &HarnessStore,
    peer_ttl: PeerTtl,
) -> Result<Vec<Reading>> {
    #[cfg(feature = "patched")]
    {
        let mut readings = address_book_readings(node, peer_ttl).await?;
        readings.extend(topic_readings(node).await?);
        readings.extend(gossip_readings(node).await?);
        readings.extend(incoming_readings(node));
        readings.extend(store_readings(store));
        Ok(readings)
    }
    #[cfg(not(feature = "patched"))]
    {
        let _ = (store, peer_ttl);
        let peers = node.known_peers().await?;
        Ok(vec![Reading::new(
            "p2panda_net.address_book.peers",
            peers.len() as u64,
        )])
    }
}

#[cfg(feature = "patched")]
async fn address_book_readings(
    node: &Network<MeshTopic>,
    peer_ttl: PeerTtl,
) -> Result<Vec<Reading>> {
    let book = node.address_book_stats().await?;
    // The bounds the hub was built with (see `long_lived_builder`).
    let config = long_lived_address_book(peer_ttl);
    let max_peers = config.get_max_peers() as u64;
    let prefix = "p2panda_net.address_book";
    Ok(vec![
        Reading::bounded(format!("{prefix}.peers"), book.peers as u64, max_peers),
        Reading::new(format!("{prefix}.pinned_peers"), book.pinned_peers as u64),
        Reading::bounded(
            format!("{prefix}.addresses"),
            book.addresses as u64,
            max_peers * config.get_max_addresses_per_peer() as u64,
        ),
        Reading::bounded(
            format!("{prefix}.topic_associations"),
            book.topic_associations as u64,
            max_peers * config.get_max_topics_per_peer() as u64,
        ),
        Reading::new(format!("{prefix}.evictions_ttl_total"), book.evicted_ttl),
        Reading::new(
            format!("{prefix}.evictions_capacity_total"),
            book.evicted_capacity,
        ),
        Reading::new(format!("{prefix}.removed_total"), book.removed),
        Reading::bounded(
            "p2panda_net.sync.sessions",
            book.sync_sessions as u64,
            config.get_max_sync_sessions() as u64,
        ),
        Reading::new("p2panda_net.sync.peers", book.sync_peers as u64),
        Reading::new("p2panda_net.sync.queued", book.sync_queued as u64),
        Reading::new("p2panda_net.sync.in_flight", book.sync_in_flight as u64),
        Reading::new("p2panda_net.sync.timed_out_total", book.sync_timed_out),
        Reading::new(
            "p2panda_net.sync.discoveries_dropped_total",
            book.sync_discoveries_dropped,
        ),
        Reading::new("p2panda_net.sync.backlog", book.sync_backlog as u64),
    ])
}

#[cfg(feature = "patched")]
async fn topic_readings(node: &Network<MeshTopic>) -> Result<Vec<Reading>> {
    let t = node.topic_stats().await?;
    let streams = "p2panda_net.topic_streams";
    let buffer = "p2panda_net.gossip_buffer";
    Ok(vec![
        Reading::new(format!("{streams}.streams"), t.streams as u64),
        Reading::new(format!("{streams}.tasks"), t.stream_tasks as u64),
        Reading::new(format!("{streams}.topics"), t.topics as u64),
        Reading::new(format!("{streams}.topic_ids"), t.topic_ids as u64),
        Reading::new(
            format!("{streams}.pending_overlays"),
            t.pending_overlays as u64,
        ),
        Reading::new(
            format!("{streams}.joined_overlays"),
            t.joined_overlays as u64,
        ),
        Reading::new(
            "p2panda_net.gossip.joined_overlays",
            t.gossip_joined_overlays as u64,
        ),
        Reading::new(
            "p2panda_net.gossip.pending_joins",
            t.gossip_pending_joins as u64,
        ),
        Reading::new(format!("{buffer}.entries"), t.gossip_buffer_entries as u64),
        Reading::new(format!("{buffer}.bytes"), t.gossip_buffered_bytes as u64),
        Reading::new(
            format!("{buffer}.overflows_total"),
            t.gossip_buffer_overflows,
        ),
        Reading::new(
            format!("{buffer}.forced_releases_total"),
            t.gossip_buffer_forced_releases,
        ),
        Reading::new(
            format!("{streams}.dropped_deliveries_total"),
            t.dropped_deliveries,
        ),
        Reading::new(
            "p2panda_net.gossip.commands_dropped_total",
            t.gossip_commands_dropped,
        ),
        Reading::new("p2panda_net.gossip.backlog", t.gossip_backlog as u64),
    ])
}

#[cfg(feature = "patched")]
async fn gossip_readings(node: &Network<MeshTopic>) -> Result<Vec<Reading>> {
    let g = node.gossip_stats().await?;
    Ok(vec![
        Reading::new("iroh_gossip.peers", g.peers as u64),
        Reading::new("iroh_gossip.pending_peers", g.pending_peers as u64),
        Reading::new("iroh_gossip.pending_dials", g.pending_dials as u64),
        Reading::new("iroh_gossip.queued_messages", g.queued_messages as u64),
        Reading::new(
            "iroh_gossip.pending_messages_dropped_total",
            g.pending_messages_dropped,
        ),
        Reading::new("iroh_gossip.connection_tasks", g.connection_tasks as u64),
        Reading::new("iroh_gossip.topics", g.topics as u64),
        Reading::new("iroh_gossip.protocol_topics", g.protocol_topics as u64),
        Reading::new(
            "iroh_gossip.protocol_peer_entries",
            g.protocol_peer_entries as u64,
        ),
    ])
}

/// QUIC's pending incoming connection attempts (iroh-quinn-proto, through `iroh::Endpoint`),
/// bounded by the endpoint's `max_incoming`.
#[cfg(feature = "patched")]
fn incoming_readings(node: &Network<MeshTopic>) -> Vec<Reading> {
    let stats = node.endpoint().incoming_stats();
    let pending = "iroh_quinn_proto.incoming.pending";
    vec![
        match stats.max_incoming {
            Some(max) => Reading::bounded(pending, stats.pending as u64, max as u64),
            None => Reading::new(pending, stats.pending as u64),
        },
        Reading::new(
            "iroh_quinn_proto.incoming.buffered_bytes",
            stats.buffered_bytes,
        ),
        Reading::new(
            "iroh_quinn_proto.incoming.orphans_reclaimed_total",
            stats.orphans_reclaimed,
        ),
        Reading::new(
            "iroh_quinn_proto.incoming.initials_dropped_at_saturation_total",
            stats.initials_dropped_at_saturation,
        ),
    ]
}

#[cfg(feature = "patched")]
fn store_readings(store: &HarnessStore) -> Vec<Reading> {
    let stats = store.stats();
    let capacity = store.capacity();
    vec![
        Reading::bounded(
            "p2panda_store.operations",
            stats.operations as u64,
            capacity.max_operations as u64,
        ),
        Reading::bounded(
            "p2panda_store.bytes",
            stats.bytes as u64,
            capacity.max_bytes as u64,
        ),
        // Every log holds at least one operation (the fork drops emptied logs).
        Reading::bounded(
            "p2panda_store.logs",
            stats.logs as u64,
            capacity.max_operations as u64,
        ),
        Reading::new("p2panda_store.evictions_total", stats.evictions),
        Reading::new("p2panda_store.rejections_total", stats.rejections),
    ]
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
