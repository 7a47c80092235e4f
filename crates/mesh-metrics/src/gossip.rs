//! The iroh-gossip actor under the node (`Network::gossip_stats`, i.e. `Gossip::stats`).

use crate::reading::BoundKind::Capacity;
#[cfg(feature = "patched")]
use crate::reading::{BoundKind, Reading};
use crate::series::Series;

const STATS: &str = "Network::gossip_stats";

/// The area's series.
pub(crate) const SERIES: &[Series] = &[
    Series::fork(
        "iroh_gossip.peers",
        "peers",
        STATS,
        "Peers the gossip actor keeps state for (connected or being dialed)",
    ),
    Series::fork(
        "iroh_gossip.pending_peers",
        "peers",
        STATS,
        "Of those, peers being dialed",
    ),
    Series::fork(
        "iroh_gossip.pending_dials",
        "dials",
        STATS,
        "Dials in progress",
    ),
    Series::fork(
        "iroh_gossip.queued_messages",
        "messages",
        STATS,
        "Messages queued for peers being dialed",
    ),
    Series::fork(
        "iroh_gossip.pending_messages_dropped_total",
        "messages",
        STATS,
        "Messages dropped at a pending peer's full queue",
    ),
    Series::fork(
        "iroh_gossip.dial_failed_messages_dropped_total",
        "messages",
        STATS,
        "Messages dropped with the queue of a peer whose dial failed",
    ),
    Series::fork(
        "iroh_gossip.connection_tasks",
        "tasks",
        STATS,
        "Live connection tasks, each owning one QUIC connection",
    ),
    Series::fork(
        "iroh_gossip.topics",
        "topics",
        STATS,
        "Topics with a subscriber or publisher",
    ),
    Series::fork(
        "iroh_gossip.protocol_topics",
        "topics",
        STATS,
        "Topics in the protocol state",
    ),
    Series::fork(
        "iroh_gossip.protocol_peer_entries",
        "entries",
        STATS,
        "Per-peer entries of the protocol state (bounded by the view sizes)",
    ),
    Series::fork(
        "iroh_gossip.cached_messages",
        "messages",
        STATS,
        "Message payloads cached to answer grafts, over all topics",
    )
    .bounded(Capacity, "CacheLimits::max_messages × protocol topics"),
    Series::fork(
        "iroh_gossip.cached_message_ids",
        "ids",
        STATS,
        "Ids of received messages kept to recognise duplicates, over all topics",
    )
    .bounded(Capacity, "CacheLimits::max_message_ids × protocol topics"),
    Series::fork(
        "iroh_gossip.cache_evictions_total",
        "entries",
        STATS,
        "Cached payloads and ids evicted at their limits before their retention ended",
    ),
];

/// The readings of `g`.
#[cfg(feature = "patched")]
pub(crate) fn readings(g: &iroh_gossip::net::GossipStats) -> Vec<Reading> {
    vec![
        Reading::new("iroh_gossip.peers", g.peers as u64),
        Reading::new("iroh_gossip.pending_peers", g.pending_peers as u64),
        Reading::new("iroh_gossip.pending_dials", g.pending_dials as u64),
        Reading::new("iroh_gossip.queued_messages", g.queued_messages as u64),
        Reading::new(
            "iroh_gossip.pending_messages_dropped_total",
            g.pending_messages_dropped,
        ),
        Reading::new(
            "iroh_gossip.dial_failed_messages_dropped_total",
            g.dial_failed_messages_dropped,
        ),
        Reading::new("iroh_gossip.connection_tasks", g.connection_tasks as u64),
        Reading::new("iroh_gossip.topics", g.topics as u64),
        Reading::new("iroh_gossip.protocol_topics", g.protocol_topics as u64),
        Reading::new(
            "iroh_gossip.protocol_peer_entries",
            g.protocol_peer_entries as u64,
        ),
        cache_reading(
            "iroh_gossip.cached_messages",
            g.cached_messages,
            g.cache_limits.max_messages,
            g.protocol_topics,
        ),
        cache_reading(
            "iroh_gossip.cached_message_ids",
            g.cached_message_ids,
            g.cache_limits.max_message_ids,
            g.protocol_topics,
        ),
        Reading::new("iroh_gossip.cache_evictions_total", g.cache_evictions),
    ]
}

/// A cache's size over all topics, against its per-topic limit times the topics. A capacity,
/// not a limit: a busy topic fills its caches to the limit by design and then evicts (counted
/// in `iroh_gossip.cache_evictions_total`, the figure that shows a flood).
#[cfg(feature = "patched")]
fn cache_reading(name: &str, size: usize, per_topic: usize, topics: usize) -> Reading {
    let bound = per_topic.saturating_mul(topics);
    Reading::bounded(name, size as u64, bound as u64, BoundKind::Capacity)
}
