//! QUIC's pending incoming connection attempts (iroh-quinn-proto's counters, passed through
//! iroh-quinn and `iroh::Endpoint::incoming_stats`), bounded by the endpoint's `max_incoming`.

use crate::reading::BoundKind::Limit;
#[cfg(feature = "patched")]
use crate::reading::{BoundKind, Reading};
use crate::series::Series;

const STATS: &str = "Endpoint::incoming_stats";

/// The area's series.
pub(crate) const SERIES: &[Series] = &[
    Series::fork(
        "iroh_quinn_proto.incoming.pending",
        "attempts",
        STATS,
        "Attempts waiting for accept() or not yet decided; at the bound new attempts are dropped",
    )
    .bounded(Limit, "IncomingStats::max_incoming"),
    Series::fork(
        "iroh_quinn_proto.incoming.buffered_bytes",
        "bytes",
        STATS,
        "Datagrams buffered for pending attempts",
    ),
    Series::fork(
        "iroh_quinn_proto.incoming.orphans_reclaimed_total",
        "attempts",
        STATS,
        "Incomings dropped undecided and released",
    ),
    Series::fork(
        "iroh_quinn_proto.incoming.initials_dropped_at_saturation_total",
        "packets",
        STATS,
        "Initials of new attempts dropped at saturation",
    ),
];

/// The readings of `endpoint`'s incoming attempts. `pending` is bounded only while the endpoint
/// accepts connections (`max_incoming` is `None` otherwise).
#[cfg(feature = "patched")]
pub(crate) fn readings(endpoint: &iroh::Endpoint) -> Vec<Reading> {
    let stats = endpoint.incoming_stats();
    let pending = "iroh_quinn_proto.incoming.pending";
    vec![
        match stats.max_incoming {
            Some(max) => {
                Reading::bounded(pending, stats.pending as u64, max as u64, BoundKind::Limit)
            }
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
