//! The fork/upstream seam's public items under a second path: [`crate::compat`] holds them, and
//! these re-exports serve callers that use `mesh_harness::stats::...`.

pub use crate::compat::{
    hub_readings, long_lived_builder, long_lived_store, unsubscribe, LONG_LIVED_PEER_TTL,
    LONG_LIVED_STORE_MAX_BYTES, LONG_LIVED_STORE_MAX_OPERATIONS,
};
