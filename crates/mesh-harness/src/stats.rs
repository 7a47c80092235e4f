//! The fork/upstream seam's public items under the name they first had: [`crate::compat`] holds
//! them, and these re-exports keep `mesh_harness::stats::...` paths compiling.

pub use crate::compat::{
    hub_readings, long_lived_builder, long_lived_store, unsubscribe, LONG_LIVED_PEER_TTL,
    LONG_LIVED_STORE_MAX_BYTES, LONG_LIVED_STORE_MAX_OPERATIONS,
};
