//! What only our forks offer: the long-lived nodes' address-book settings and every structure
//! size the hub reports through the forks' stats APIs. Compiled with the `patched` feature only.

use anyhow::Result;
use p2panda_net::{AddressBookConfig, Network};

use super::LONG_LIVED_PEER_TTL;
use crate::probe::Reading;
use crate::scenario::PeerTtl;
use crate::store::HarnessStore;
use crate::topic::MeshTopic;

/// The address book of a long-lived node: the fork's defaults, with [`LONG_LIVED_PEER_TTL`]
/// unless the default TTL is asked for.
pub(super) fn long_lived_address_book(peer_ttl: PeerTtl) -> AddressBookConfig {
    match peer_ttl {
        PeerTtl::Short => AddressBookConfig::default().peer_ttl(LONG_LIVED_PEER_TTL),
        PeerTtl::Default => AddressBookConfig::default(),
    }
}

/// Every structure size the hub reports on our fork (see [`super::hub_readings`]).
pub(super) async fn hub_readings(
    node: &Network<MeshTopic>,
    store: &HarnessStore,
    peer_ttl: PeerTtl,
) -> Result<Vec<Reading>> {
    let mut readings = address_book_readings(node, peer_ttl).await?;
    readings.extend(topic_readings(node).await?);
    readings.extend(gossip_readings(node).await?);
    readings.extend(incoming_readings(node));
    readings.extend(store_readings(store));
    Ok(readings)
}

async fn address_book_readings(
    node: &Network<MeshTopic>,
    peer_ttl: PeerTtl,
) -> Result<Vec<Reading>> {
    let book = node.address_book_stats().await?;
    // The bounds the hub was built with (see `long_lived_address_book`).
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
            format!("{prefix}.stale_peers"),
            book.stale_peers as u64,
            max_peers,
        ),
        Reading::new(format!("{prefix}.stale_dials_total"), book.stale_dials),
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
