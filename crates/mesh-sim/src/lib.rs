//! mesh-sim: iroh-gossip's sans-IO protocol state machines of the fork and of unpatched upstream,
//! side by side and mixed, in one seeded discrete-event loop with latency, jitter, loss,
//! partitions and churn (see docs/simulation.md).

pub mod census;
pub mod meter;
pub mod node;
pub mod peer;
pub mod wire;
