//! The address book and the sync state that follows it (`Network::address_book_stats`), with
//! the bounds of the node's own `AddressBookConfig`.

use crate::reading::BoundKind::Limit;
#[cfg(feature = "patched")]
use crate::reading::{BoundKind, Reading};
use crate::series::Series;

const STATS: &str = "Network::address_book_stats";

/// The area's series.
pub(crate) const SERIES: &[Series] = &[
    Series::fork(
        "p2panda_net.address_book.peers",
        "peers",
        STATS,
        "Peers in the address book, pinned ones included",
    )
    .bounded(Limit, "AddressBookConfig::max_peers")
    .everywhere(),
    Series::fork(
        "p2panda_net.address_book.pinned_peers",
        "peers",
        STATS,
        "Pinned peers (never expire, never evicted for capacity)",
    ),
    Series::fork(
        "p2panda_net.address_book.addresses",
        "addresses",
        STATS,
        "Node addresses over all peers",
    )
    .bounded(Limit, "max_peers × max_addresses_per_peer"),
    Series::fork(
        "p2panda_net.address_book.topic_associations",
        "associations",
        STATS,
        "(peer, topic id) associations",
    )
    .bounded(Limit, "max_peers × max_topics_per_peer"),
    Series::fork(
        "p2panda_net.address_book.evictions_ttl_total",
        "peers",
        STATS,
        "Peers forgotten after the TTL (normal under churn)",
    ),
    Series::fork(
        "p2panda_net.address_book.evictions_capacity_total",
        "peers",
        STATS,
        "Peers evicted, or refused, because the book was full",
    ),
    Series::fork(
        "p2panda_net.address_book.removed_total",
        "peers",
        STATS,
        "Peers removed with Network::remove_peer",
    ),
    Series::fork(
        "p2panda_net.address_book.stale_peers",
        "peers",
        STATS,
        "Peers remembered but not live (not seen within the liveness window)",
    )
    .bounded(Limit, "AddressBookConfig::max_peers"),
    Series::fork(
        "p2panda_net.address_book.stale_dials_total",
        "dials",
        STATS,
        "Times a join drew a peer that was not live",
    ),
    Series::fork(
        "p2panda_net.sync.sessions",
        "sessions",
        STATS,
        "(peer, topic) sync sessions tracked",
    )
    .bounded(Limit, "AddressBookConfig::max_sync_sessions"),
    Series::fork(
        "p2panda_net.sync.peers",
        "peers",
        STATS,
        "Distinct peers with sync state",
    ),
    Series::fork(
        "p2panda_net.sync.queued",
        "entries",
        STATS,
        "Entries in the resync and retry queues",
    ),
    Series::fork(
        "p2panda_net.sync.in_flight",
        "sessions",
        STATS,
        "Outbound sync sessions running",
    ),
    Series::fork(
        "p2panda_net.sync.timed_out_total",
        "sessions",
        STATS,
        "Outbound sync sessions abandoned after sync_session_timeout",
    ),
    Series::fork(
        "p2panda_net.sync.discoveries_dropped_total",
        "discoveries",
        STATS,
        "Discoveries dropped at the sync manager's full inbox",
    ),
    Series::fork(
        "p2panda_net.sync.scopes_refused_total",
        "discoveries",
        STATS,
        "Discoveries the sync manager did not track: session bound reached or queue full",
    ),
    Series::fork(
        "p2panda_net.sync.backlog",
        "messages",
        STATS,
        "Removals and resets waiting for room in the sync manager's inbox",
    ),
    Series::fork(
        "p2panda_net.sync.accepted",
        "sessions",
        STATS,
        "Sync sessions other peers run with this node",
    ),
    Series::fork(
        "p2panda_net.sync.accepted_refused_total",
        "connections",
        STATS,
        "Sync connections refused: accepted sessions at max_accepted_sync_sessions",
    ),
    Series::fork(
        "p2panda_net.sync.accepted_timed_out_total",
        "sessions",
        STATS,
        "Accepted sync sessions ended after accepted_sync_session_timeout",
    ),
];

/// The readings of `stats`, bounded by `config` (the node's own address book settings).
#[cfg(feature = "patched")]
pub(crate) fn readings(
    stats: &p2panda_net::AddressBookStats,
    config: &p2panda_net::AddressBookConfig,
) -> Vec<Reading> {
    let max_peers = config.get_max_peers() as u64;
    let limit = |name: &str, value: usize, bound: u64| {
        Reading::bounded(name, value as u64, bound, BoundKind::Limit)
    };
    let book = "p2panda_net.address_book";
    vec![
        limit(&format!("{book}.peers"), stats.peers, max_peers),
        Reading::new(format!("{book}.pinned_peers"), stats.pinned_peers as u64),
        limit(
            &format!("{book}.addresses"),
            stats.addresses,
            max_peers.saturating_mul(config.get_max_addresses_per_peer() as u64),
        ),
        limit(
            &format!("{book}.topic_associations"),
            stats.topic_associations,
            max_peers.saturating_mul(config.get_max_topics_per_peer() as u64),
        ),
        Reading::new(format!("{book}.evictions_ttl_total"), stats.evicted_ttl),
        Reading::new(
            format!("{book}.evictions_capacity_total"),
            stats.evicted_capacity,
        ),
        Reading::new(format!("{book}.removed_total"), stats.removed),
        limit(&format!("{book}.stale_peers"), stats.stale_peers, max_peers),
        Reading::new(format!("{book}.stale_dials_total"), stats.stale_dials),
        limit(
            "p2panda_net.sync.sessions",
            stats.sync_sessions,
            config.get_max_sync_sessions() as u64,
        ),
        Reading::new("p2panda_net.sync.peers", stats.sync_peers as u64),
        Reading::new("p2panda_net.sync.queued", stats.sync_queued as u64),
        Reading::new("p2panda_net.sync.in_flight", stats.sync_in_flight as u64),
        Reading::new("p2panda_net.sync.timed_out_total", stats.sync_timed_out),
        Reading::new(
            "p2panda_net.sync.discoveries_dropped_total",
            stats.sync_discoveries_dropped,
        ),
        Reading::new(
            "p2panda_net.sync.scopes_refused_total",
            stats.sync_scopes_refused,
        ),
        Reading::new("p2panda_net.sync.backlog", stats.sync_backlog as u64),
        Reading::new("p2panda_net.sync.accepted", stats.sync_accepted as u64),
        Reading::new(
            "p2panda_net.sync.accepted_refused_total",
            stats.sync_accepted_refused,
        ),
        Reading::new(
            "p2panda_net.sync.accepted_timed_out_total",
            stats.sync_accepted_timed_out,
        ),
    ]
}
