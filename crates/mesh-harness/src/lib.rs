//! The integration harness of mesh-patches: real p2panda-net nodes on loopback, driven through
//! churn, with the hub's memory and every structure's size sampled over time.
//!
//! - [`scenario`]: what a run does, as data ([`scenario::plan`] is a pure function of the seed).
//! - [`driver`]: carries a plan out and samples the hub.
//! - [`node`]: loopback-only nodes with log sync; [`store`]: their log store; [`topic`]: the
//!   topic type they subscribe to.
//! - [`compat`]: the one place that knows whether it builds against our forks or upstream.
//! - [`probe`]: what a sample holds: the hub's structures as the `mesh-metrics` collector reads
//!   them, process figures from `/proc` and the counting allocator ([`alloc`]).
//! - [`settle`]: when a settled pause may end (the heap has stopped falling).
//! - [`ledger`]: which gossip message reached which long-lived node, to name what a run lost.
//! - [`report`]: slopes, verdicts, tables, the CSV and the SVG chart.
//! - [`attack`]: the attack suite: one hostile behaviour at a time against the hub, with the
//!   honest peers' delivery and the hub's bounds judged before, during and after it.
//! - [`ops`]: the latest sample as `mesh-metrics` exports it, `/metrics` and `/health`, on a
//!   loopback address.
//!
//! Node code must only ever see loopback: run binaries and tests through cargo, whose runner
//! (`scripts/netns-run`) puts them in a network namespace that has only `lo`. Every binary that
//! runs nodes first calls [`guard::check`], which refuses any other namespace.

pub mod alloc;
pub mod attack;
pub mod compat;
pub mod driver;
pub mod guard;
pub mod ledger;
pub mod node;
pub mod ops;
pub mod probe;
pub mod report;
pub mod scenario;
pub mod settle;
pub mod store;
pub mod topic;
