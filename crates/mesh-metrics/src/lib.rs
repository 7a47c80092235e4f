//! Every stat of the mesh-patches forks as Prometheus metrics, with the node's own bounds, and a
//! `/health` verdict, from one call:
//!
//! ```ignore
//! let mut registry = prometheus_client::registry::Registry::default();
//! let sources = Sources::new(&network).address_book(&address_book_config).store(&store);
//! let metrics = MeshMetrics::register(&mut registry, sources, Refresh::Every(Duration::from_secs(10)));
//! let app = metrics.router(registry); // GET /metrics and GET /health (feature `axum`)
//! ```
//!
//! The metric names and labels are those `ops/alerts.yml` selects on: every reading
//! `crate.component.structure` is exported as `crate_component_structure` (a counter when it ends
//! in `_total`, a gauge otherwise), and every bounded one again as
//! `mesh_structure_size{structure,kind}` and `mesh_structure_bound{structure,kind}`.
//! [`series::all`] lists every series with its unit, bound and source.
//!
//! - [`collector`]: [`MeshMetrics`], the registration and the refresh task it owns.
//! - [`sources`]: what is read: a `Network`, its `AddressBookConfig`, a `MemoryStore`, an
//!   endpoint.
//! - One module per area, each with its series and how its stats become readings:
//!   `address_book`, `topics`, `gossip`, `incoming`, `store`, `process`.
//! - [`exposition`]: readings as a prometheus-client collector; [`health`]: the `/health`
//!   verdict; `router` (feature `axum`): both served.
//! - [`alloc`]: a counting allocator, for the heap figure; [`process`]: the process figures.
//!
//! Built without the `patched` feature (against unpatched upstream) it exports what upstream can
//! report, the number of known peers and the process figures, and [`series::absent`] names the
//! rest.

pub mod alloc;
pub mod collector;
pub mod exposition;
pub mod health;
pub mod process;
pub mod reading;
#[cfg(feature = "axum")]
pub mod router;
pub mod series;
pub mod sources;

mod address_book;
mod gossip;
mod incoming;
mod store;
mod topics;

pub use collector::{MeshMetrics, Refresh};
pub use health::{Health, StructureHealth, DEFAULT_DEGRADED_FRACTION};
pub use reading::{metric_name, Bound, BoundKind, Reading};
pub use sources::Sources;
#[cfg(feature = "patched")]
pub use store::PolicyKind;
