//! The operator surface: the latest sample as Prometheus metrics (`GET /metrics`) and as a
//! health verdict (`GET /health`), served on a loopback address.
//!
//! ## Metric names
//! Every reading `crate.component.structure` becomes `crate_component_structure` (a gauge), and
//! a reading whose name ends in `_total` becomes a counter of that name. Process figures are
//! `mesh_harness_process_*`. Besides, every reading with a bound is also exported generically,
//! `mesh_structure_size{structure="...",kind="..."}` and `mesh_structure_bound{...}`, so one
//! alert rule covers every bounded structure (`ops/alerts.yml`). `kind` is `limit` for a bound a
//! structure must stay well below, `capacity` for one it fills by design (see [`bound_kind`]).
//!
//! ## `/health`
//! ```json
//! { "status": "ok", "degraded_fraction": 0.8, "cycles": 120, "elapsed_s": 61.2,
//!   "structures": [ { "name": "p2panda_net.address_book.peers", "size": 40,
//!                     "bound": 10000, "fraction": 0.004, "kind": "limit", "status": "ok" } ] }
//! ```
//! `status` is `degraded` when any structure with a `limit` is above `degraded_fraction` of it,
//! or any structure with a `capacity` is above that capacity (HTTP 503); `ok` otherwise (HTTP
//! 200), and `starting` (HTTP 503) before the first sample.
//! Structures without a bound are listed with `"bound": null` and never degrade the status.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use anyhow::{bail, Context, Result};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::probe::{Reading, Sample};

/// Default share of a bound above which `/health` reports `degraded`.
pub const DEFAULT_DEGRADED_FRACTION: f64 = 0.8;

/// What the endpoints serve: the latest sample, replaced as new ones are taken.
#[derive(Debug)]
pub struct OpsState {
    latest: RwLock<Option<Sample>>,
    degraded_fraction: f64,
}

impl OpsState {
    /// A state that reports `degraded` above `degraded_fraction` of a bound.
    pub fn new(degraded_fraction: f64) -> Self {
        Self {
            latest: RwLock::new(None),
            degraded_fraction,
        }
    }

    /// Makes `sample` the one the endpoints serve.
    pub fn publish(&self, sample: &Sample) {
        *self.latest.write().expect("ops lock") = Some(sample.clone());
    }

    /// The latest sample, if any.
    pub fn latest(&self) -> Option<Sample> {
        self.latest.read().expect("ops lock").clone()
    }
}

/// Prometheus name of a figure: dots become underscores, process figures get the harness prefix.
pub fn metric_name(figure: &str) -> String {
    let name = figure.replace(['.', '-'], "_");
    if figure.starts_with("process.") {
        format!("mesh_harness_{name}")
    } else {
        name
    }
}

/// The sample in Prometheus text exposition format (OpenMetrics flavour, as prometheus-client
/// writes it).
pub fn render_metrics(sample: &Sample) -> Result<String> {
    let mut registry = Registry::default();
    let bounded = BoundedStructures::default();
    for (figure, value, bound) in sample.figures() {
        let heap_figure = figure == "process.heap_bytes" || figure == "process.heap_blocks";
        if heap_figure && !crate::alloc::is_installed() {
            // Without the counting allocator there is no heap figure; a zero would look like one.
            continue;
        }
        register_figure(&mut registry, &figure, value);
        if let Some(bound) = bound {
            bounded.record(&figure, value, bound);
        }
    }
    bounded.register(&mut registry);
    let churn = Gauge::<i64>::default();
    churn.set(saturating_i64(sample.cycles));
    registry.register(
        "mesh_harness_churn_cycles",
        "Short-lived peers that have come and gone (a gauge: it restarts with the run)",
        churn,
    );
    let mut out = String::new();
    encode(&mut out, &registry).context("encoding metrics")?;
    Ok(out)
}

/// A value as a gauge holds it.
fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Registers a figure's own metric: a counter for a name ending in `_total`, a gauge otherwise.
fn register_figure(registry: &mut Registry, figure: &str, value: u64) {
    let name = metric_name(figure);
    let help = format!("{figure} (mesh-harness reading)");
    if let Some(base) = name.strip_suffix("_total") {
        let counter = Counter::<u64>::default();
        counter.inc_by(value);
        registry.register(base, help, counter);
    } else {
        let gauge = Gauge::<i64>::default();
        gauge.set(saturating_i64(value));
        registry.register(name, help, gauge);
    }
}

/// `mesh_structure_size` and `mesh_structure_bound`: every bounded structure under one name, so
/// one alert rule covers them all.
#[derive(Default)]
struct BoundedStructures {
    size: Family<Vec<(String, String)>, Gauge>,
    bound: Family<Vec<(String, String)>, Gauge>,
}

impl BoundedStructures {
    /// Records a bounded structure's size and bound.
    fn record(&self, figure: &str, value: u64, bound: u64) {
        let labels = vec![
            ("structure".to_owned(), metric_name(figure)),
            ("kind".to_owned(), bound_kind(figure).to_owned()),
        ];
        self.size.get_or_create(&labels).set(saturating_i64(value));
        self.bound.get_or_create(&labels).set(saturating_i64(bound));
    }

    /// Registers both families.
    fn register(self, registry: &mut Registry) {
        registry.register(
            "mesh_structure_size",
            "Size of a bounded structure (same value as its own metric)",
            self.size,
        );
        registry.register(
            "mesh_structure_bound",
            "The bound a structure is configured to stay within",
            self.bound,
        );
    }
}

/// What a structure's bound means: `limit` for a structure that must stay well below it (a
/// leak guard: the address book, sync sessions), `capacity` for one that fills up to it by
/// design and then evicts (the capped store, see [`crate::report::FILLS_TO_BOUND`]). Exported as
/// the `kind` label of `mesh_structure_size` and `mesh_structure_bound`.
pub fn bound_kind(figure: &str) -> &'static str {
    if crate::report::FILLS_TO_BOUND.contains(&figure) {
        "capacity"
    } else {
        "limit"
    }
}

/// One structure in `/health`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StructureHealth {
    /// Figure name.
    pub name: String,
    /// Current size.
    pub size: u64,
    /// Configured bound, if any.
    pub bound: Option<u64>,
    /// `size / bound`, if bounded.
    pub fraction: Option<f64>,
    /// `limit` or `capacity` if bounded (see [`bound_kind`]).
    pub kind: Option<&'static str>,
    /// `ok` or `degraded`.
    pub status: &'static str,
}

/// The `/health` document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    /// `ok`, `degraded` or `starting`.
    pub status: &'static str,
    /// Share of a bound above which a structure counts as degraded.
    pub degraded_fraction: f64,
    /// Churn cycles at the sample.
    pub cycles: u64,
    /// Seconds since the run started, at the sample.
    pub elapsed_s: f64,
    /// Every structure of the sample (counters excluded).
    pub structures: Vec<StructureHealth>,
}

/// Judges a sample (or its absence).
pub fn health(sample: Option<&Sample>, degraded_fraction: f64) -> Health {
    let Some(sample) = sample else {
        return Health {
            status: "starting",
            degraded_fraction,
            cycles: 0,
            elapsed_s: 0.0,
            structures: Vec::new(),
        };
    };
    let structures: Vec<StructureHealth> = sample
        .structures
        .iter()
        .filter(|r| !r.is_counter())
        .map(|r| structure_health(r, degraded_fraction))
        .collect();
    let degraded = structures.iter().any(|s| s.status == "degraded");
    Health {
        status: if degraded { "degraded" } else { "ok" },
        degraded_fraction,
        cycles: sample.cycles,
        elapsed_s: sample.elapsed.as_secs_f64(),
        structures,
    }
}

/// One structure's health: degraded above `degraded_fraction` of a limit, or above a capacity.
fn structure_health(r: &Reading, degraded_fraction: f64) -> StructureHealth {
    let fraction = r.bound.map(|b| r.value as f64 / b.max(1) as f64);
    let kind = r.bound.map(|_| bound_kind(&r.name));
    // A capacity is meant to be reached (the store then evicts, and counts it); only a
    // structure above it is degraded. A limit is degraded well before it is reached.
    let threshold = if kind == Some("capacity") {
        1.0
    } else {
        degraded_fraction
    };
    StructureHealth {
        name: r.name.clone(),
        size: r.value,
        bound: r.bound,
        fraction,
        kind,
        status: if fraction.is_some_and(|f| f > threshold) {
            "degraded"
        } else {
            "ok"
        },
    }
}

async fn metrics_handler(State(state): State<Arc<OpsState>>) -> impl IntoResponse {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    match state.latest() {
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, content_type)],
            String::from("# EOF\n"),
        ),
        Some(sample) => match render_metrics(&sample) {
            Ok(text) => (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], text),
            Err(err) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain")],
                format!("{err:#}"),
            ),
        },
    }
}

async fn health_handler(State(state): State<Arc<OpsState>>) -> impl IntoResponse {
    let health = health(state.latest().as_ref(), state.degraded_fraction);
    let code = if health.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(health))
}

/// Serves `/metrics` and `/health` on `addr`, which must be a loopback address (port 0 picks
/// one). Returns the bound address and the server task.
pub async fn serve(addr: SocketAddr, state: Arc<OpsState>) -> Result<(SocketAddr, JoinHandle<()>)> {
    if !addr.ip().is_loopback() {
        bail!("the metrics endpoint only listens on loopback, not {addr}");
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the metrics endpoint to {addr}"))?;
    let local = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/health", get(health_handler))
        .with_state(state);
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            eprintln!("mesh-harness: metrics endpoint stopped: {err}");
        }
    });
    Ok((local, task))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::probe::Reading;

    fn sample(peers: u64) -> Sample {
        Sample {
            elapsed: Duration::from_secs(3),
            cycles: 12,
            quiet: true,
            settled: false,
            heap_bytes: 1000,
            heap_blocks: Some(0),
            rss_bytes: 2000,
            fds: 7,
            tasks: 9,
            structures: vec![
                Reading::bounded("p2panda_net.address_book.peers", peers, 100),
                Reading::new("p2panda_net.address_book.evictions_ttl_total", 5),
                Reading::new("iroh_gossip.connection_tasks", 3),
            ],
        }
    }

    #[test]
    fn names_follow_prometheus_conventions() {
        assert_eq!(
            metric_name("process.heap_bytes"),
            "mesh_harness_process_heap_bytes"
        );
        assert_eq!(metric_name("iroh_gossip.peers"), "iroh_gossip_peers");
        let text = render_metrics(&sample(10)).unwrap();
        assert!(
            text.contains("# TYPE p2panda_net_address_book_peers gauge"),
            "{text}"
        );
        assert!(text.contains("p2panda_net_address_book_peers 10"), "{text}");
        assert!(
            text.contains("# TYPE p2panda_net_address_book_evictions_ttl counter"),
            "{text}"
        );
        assert!(
            text.contains("p2panda_net_address_book_evictions_ttl_total 5"),
            "{text}"
        );
        assert!(
            text.contains(
                r#"mesh_structure_bound{structure="p2panda_net_address_book_peers",kind="limit"} 100"#
            ),
            "{text}"
        );
        // This test binary has no counting allocator: no heap figure rather than a false zero.
        assert!(!crate::alloc::is_installed());
        assert!(!text.contains("mesh_harness_process_heap_bytes"), "{text}");
        assert!(!text.contains("mesh_harness_process_heap_blocks"), "{text}");
        assert!(text.contains("mesh_harness_process_open_fds 7"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn health_degrades_near_a_bound() {
        assert_eq!(health(None, 0.8).status, "starting");
        let ok = health(Some(&sample(80)), 0.8);
        assert_eq!(ok.status, "ok");
        assert_eq!(ok.structures.len(), 2, "counters are not structures");
        let degraded = health(Some(&sample(81)), 0.8);
        assert_eq!(degraded.status, "degraded");
        let peers = &degraded.structures[0];
        assert_eq!(
            (peers.size, peers.bound, peers.status),
            (81, Some(100), "degraded")
        );
    }

    #[test]
    fn a_full_capacity_is_healthy_but_over_it_is_not() {
        let store = |ops: u64| Sample {
            structures: vec![Reading::bounded("p2panda_store.operations", ops, 400)],
            ..sample(10)
        };
        let full = health(Some(&store(400)), 0.8);
        assert_eq!(full.status, "ok");
        let ops = full
            .structures
            .iter()
            .find(|s| s.name == "p2panda_store.operations")
            .unwrap();
        assert_eq!((ops.kind, ops.status), (Some("capacity"), "ok"));
        assert_eq!(health(Some(&store(401)), 0.8).status, "degraded");

        let text = render_metrics(&store(400)).unwrap();
        assert!(
            text.contains(
                r#"mesh_structure_bound{structure="p2panda_store_operations",kind="capacity"} 400"#
            ),
            "{text}"
        );
    }
}
