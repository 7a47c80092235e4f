//! Unpatched upstream iroh-gossip 0.34.1's sans-IO protocol: the pristine `proto` and `metrics`
//! modules of patch/baseline/iroh-gossip (written by `cargo xtask patch apply`), compiled as they
//! are. The upstream code keeps upstream's style, so it is neither formatted nor linted here.
#![allow(warnings, clippy::all)]

/// The pristine crate's `src/` directory.
#[rustfmt::skip]
#[path = "../../../../patch/baseline/iroh-gossip/src"]
mod pristine {
    pub mod metrics;
    pub mod proto;
}

pub use pristine::{metrics, proto};
