//! Topic streams, gossip overlays and gossip buffers of p2panda-net (`Network::topic_stats`).

#[cfg(feature = "patched")]
use crate::reading::Reading;
use crate::series::Series;

const STATS: &str = "Network::topic_stats";

/// The area's series.
pub(crate) const SERIES: &[Series] = &[
    Series::fork(
        "p2panda_net.topic_streams.streams",
        "streams",
        STATS,
        "Subscriptions alive",
    ),
    Series::fork(
        "p2panda_net.topic_streams.tasks",
        "tasks",
        STATS,
        "Forwarding tasks alive (one per stream, until reaped)",
    ),
    Series::fork(
        "p2panda_net.topic_streams.topics",
        "topics",
        STATS,
        "Distinct topics subscribed to",
    ),
    Series::fork(
        "p2panda_net.topic_streams.topic_ids",
        "topic ids",
        STATS,
        "Distinct topic ids (announced to the network)",
    ),
    Series::fork(
        "p2panda_net.topic_streams.pending_overlays",
        "overlays",
        STATS,
        "Topic-id overlays the engine waits to join",
    ),
    Series::fork(
        "p2panda_net.topic_streams.joined_overlays",
        "overlays",
        STATS,
        "Topic-id overlays joined",
    ),
    Series::fork(
        "p2panda_net.topic_streams.dropped_deliveries_total",
        "messages",
        STATS,
        "Messages dropped for subscribers that did not keep up",
    ),
    Series::fork(
        "p2panda_net.gossip.joined_overlays",
        "overlays",
        STATS,
        "Overlays the gossip actor has joined, the network-wide one included",
    ),
    Series::fork(
        "p2panda_net.gossip.pending_joins",
        "joins",
        STATS,
        "Joins pending in the gossip actor, the network-wide one included",
    ),
    Series::fork(
        "p2panda_net.gossip.commands_dropped_total",
        "commands",
        STATS,
        "Joins and announcements dropped at the gossip actor's full inbox",
    ),
    Series::fork(
        "p2panda_net.gossip.backlog",
        "commands",
        STATS,
        "Leaves, resets and shutdown waiting for room in the gossip actor's inbox",
    ),
    Series::fork(
        "p2panda_net.gossip_buffer.entries",
        "buffers",
        STATS,
        "(peer, topic id) gossip buffers held while sync sessions run",
    ),
    Series::fork(
        "p2panda_net.gossip_buffer.bytes",
        "bytes",
        STATS,
        "Bytes held in the gossip buffers",
    ),
    Series::fork(
        "p2panda_net.gossip_buffer.overflows_total",
        "buffers",
        STATS,
        "Gossip buffers that reached their bound and were delivered early",
    ),
    Series::fork(
        "p2panda_net.gossip_buffer.forced_releases_total",
        "buffers",
        STATS,
        "Gossip buffers released because their sync session held the lock too long",
    ),
    Series::fork(
        "p2panda_net.gossip_buffer.dropped_total",
        "messages",
        STATS,
        "Buffered gossip messages dropped with a forgotten peer or a left topic",
    ),
    Series::fork(
        "p2panda_net.topic_streams.broadcasts_unjoined_total",
        "messages",
        STATS,
        "Messages published while the topic's overlay was not joined (not sent)",
    ),
];

/// The readings of `t`.
#[cfg(feature = "patched")]
pub(crate) fn readings(t: &p2panda_net::TopicStats) -> Vec<Reading> {
    let streams = "p2panda_net.topic_streams";
    let gossip = "p2panda_net.gossip";
    let buffer = "p2panda_net.gossip_buffer";
    vec![
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
            format!("{streams}.dropped_deliveries_total"),
            t.dropped_deliveries,
        ),
        Reading::new(
            format!("{gossip}.joined_overlays"),
            t.gossip_joined_overlays as u64,
        ),
        Reading::new(
            format!("{gossip}.pending_joins"),
            t.gossip_pending_joins as u64,
        ),
        Reading::new(
            format!("{gossip}.commands_dropped_total"),
            t.gossip_commands_dropped,
        ),
        Reading::new(format!("{gossip}.backlog"), t.gossip_backlog as u64),
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
        Reading::new(format!("{buffer}.dropped_total"), t.gossip_buffer_dropped),
        Reading::new(
            format!("{streams}.broadcasts_unjoined_total"),
            t.broadcasts_unjoined,
        ),
    ]
}
