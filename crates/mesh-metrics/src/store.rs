//! A p2panda-store `MemoryStore`: its size against its own `Capacity`, and what it evicted or
//! refused (`MemoryStore::stats` and `capacity`).

use crate::reading::BoundKind::Capacity;
#[cfg(feature = "patched")]
use crate::reading::{BoundKind, Reading};
use crate::series::Series;

const STATS: &str = "MemoryStore::stats";

/// The area's series. The bounds' kind is `capacity` for an evicting store (the default policy)
/// and `limit` for a rejecting one.
pub(crate) const SERIES: &[Series] = &[
    Series::fork(
        "p2panda_store.operations",
        "operations",
        STATS,
        "Operations stored",
    )
    .bounded(Capacity, "Capacity::max_operations"),
    Series::fork(
        "p2panda_store.bytes",
        "bytes",
        STATS,
        "Encoded header plus body bytes stored",
    )
    .bounded(Capacity, "Capacity::max_bytes"),
    Series::fork("p2panda_store.logs", "logs", STATS, "Logs stored")
        .bounded(Capacity, "Capacity::max_operations"),
    Series::fork(
        "p2panda_store.evictions_total",
        "operations",
        STATS,
        "Operations evicted to make room",
    ),
    Series::fork(
        "p2panda_store.rejections_total",
        "operations",
        STATS,
        "Inserts refused (oversized operations, under the evicting policy)",
    ),
];

/// What a store's bound means under its policy: an evicting store fills up to its capacity by
/// design, a rejecting one must stay below its limit (its inserts fail there).
#[cfg(feature = "patched")]
pub trait PolicyKind {
    /// The kind of the store's bounds.
    const KIND: BoundKind;
}

#[cfg(feature = "patched")]
impl PolicyKind for p2panda_store::memory::EvictOldest {
    const KIND: BoundKind = BoundKind::Capacity;
}

#[cfg(feature = "patched")]
impl PolicyKind for p2panda_store::memory::Reject {
    const KIND: BoundKind = BoundKind::Limit;
}

/// A store's figures and limits, read without knowing its log id, extension and policy types.
#[cfg(feature = "patched")]
pub(crate) type StoreReader = std::sync::Arc<
    dyn Fn() -> (
            p2panda_store::memory::MemoryStoreStats,
            p2panda_store::memory::Capacity,
        ) + Send
        + Sync,
>;

/// The readings of a store with these figures and limits, of `kind`. An unlimited store
/// (`MemoryStore::new`) has no bound: its sizes are exported unbounded.
#[cfg(feature = "patched")]
pub(crate) fn readings(
    stats: &p2panda_store::memory::MemoryStoreStats,
    capacity: &p2panda_store::memory::Capacity,
    kind: BoundKind,
) -> Vec<Reading> {
    let bounded = |name: &str, value: usize, bound: usize| {
        if bound == usize::MAX {
            Reading::new(name, value as u64)
        } else {
            Reading::bounded(name, value as u64, bound as u64, kind)
        }
    };
    vec![
        bounded(
            "p2panda_store.operations",
            stats.operations,
            capacity.max_operations,
        ),
        bounded("p2panda_store.bytes", stats.bytes, capacity.max_bytes),
        // Every log holds at least one operation (the fork drops emptied logs).
        bounded("p2panda_store.logs", stats.logs, capacity.max_operations),
        Reading::new("p2panda_store.evictions_total", stats.evictions),
        Reading::new("p2panda_store.rejections_total", stats.rejections),
    ]
}
