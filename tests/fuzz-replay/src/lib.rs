//! Fuzz targets for every decoder that takes a peer's bytes.
//!
//! Each target is a plain function over arbitrary bytes. It must return for every input: a
//! malformed input ends in an error value inside the decoder, and a panic is a finding. The same
//! functions run under libFuzzer (the cargo-fuzz project in `fuzz/`, nightly) and, on stable, in
//! `tests/replay.rs`, which feeds them every file of `corpus/<name>/`.
//!
//! Where the decoder a node runs is private to its crate, the target drives the nearest public
//! entry point, or a mirror of the private type; each module says which.

pub mod gossip;
pub mod operation;
pub mod quic;
pub mod sync;
pub mod topic_discovery;

mod block_on;

pub use gossip::{fuzz_gossip_frames, fuzz_gossip_message};
pub use operation::fuzz_core_operation;
pub use quic::{fuzz_iroh_quinn_endpoint, fuzz_quinn_endpoint};
pub use sync::fuzz_log_sync;
pub use topic_discovery::fuzz_topic_discovery;

/// A target: its name (the corpus directory and the cargo-fuzz target) and its function.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    ("gossip_message", fuzz_gossip_message),
    ("gossip_frames", fuzz_gossip_frames),
    ("topic_discovery", fuzz_topic_discovery),
    ("log_sync", fuzz_log_sync),
    ("core_operation", fuzz_core_operation),
    ("quinn_endpoint", fuzz_quinn_endpoint),
    ("iroh_quinn_endpoint", fuzz_iroh_quinn_endpoint),
];

/// Valid inputs for each target, to start a corpus from: what honest peers send.
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    match name {
        "gossip_message" => gossip::seeds(),
        "gossip_frames" => gossip::frame_seeds(),
        "topic_discovery" => topic_discovery::seeds(),
        "log_sync" => sync::seeds(),
        "core_operation" => operation::seeds(),
        "quinn_endpoint" => quic::quinn_seeds(),
        "iroh_quinn_endpoint" => quic::iroh_quinn_seeds(),
        _ => Vec::new(),
    }
}
