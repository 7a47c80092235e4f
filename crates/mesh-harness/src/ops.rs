//! The operator surface of a soak: the latest sample exported exactly as a controller's
//! collector (`mesh-metrics`) exports a node, `GET /metrics` (Prometheus) and `GET /health`
//! (JSON), served on a loopback address.
//!
//! The names, labels and the `/health` verdict are mesh-metrics' (see its crate docs and
//! docs/operating.md). Besides the hub's structures and the process figures, a soak exports its
//! own: `mesh_harness_process_heap_blocks`, `mesh_harness_churn_cycles` and the harness's tallies
//! (`mesh_harness_*`). `/health` adds the run's `cycles` and `elapsed_s` to the verdict, is
//! `starting` (HTTP 503) before the first sample and `unresponsive` (HTTP 503) for a sample the
//! hub did not answer.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use anyhow::{bail, Context, Result};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use mesh_metrics::health::{judge, Health};
use mesh_metrics::router::CONTENT_TYPE;
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::probe::{Reading, Sample};

pub use mesh_metrics::DEFAULT_DEGRADED_FRACTION;

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

/// Every reading a sample exports: its process figures (the heap only where the counting
/// allocator is installed: a zero would look like a measurement), its structures, and the
/// churn cycles so far.
pub fn readings(sample: &Sample) -> Vec<Reading> {
    let heap_counted = crate::alloc::is_installed();
    let process = sample
        .figures()
        .into_iter()
        .filter(|(figure, _, _)| figure.starts_with("process."))
        .filter(|(figure, _, _)| heap_counted || !figure.starts_with("process.heap_"))
        .map(|(figure, value, _)| Reading::new(figure, value));
    let mut readings: Vec<Reading> = process.collect();
    readings.extend(sample.structures.iter().cloned());
    readings.push(Reading::new("mesh_harness.churn_cycles", sample.cycles));
    readings
}

/// The sample in Prometheus text exposition format (OpenMetrics flavour), as mesh-metrics
/// encodes it.
pub fn render_metrics(sample: &Sample) -> Result<String> {
    let mut registry = Registry::default();
    mesh_metrics::exposition::register_readings(&mut registry, readings(sample));
    let mut out = String::new();
    encode(&mut out, &registry).context("encoding metrics")?;
    Ok(out)
}

/// The `/health` document: mesh-metrics' verdict on the sample's structures, and where the run
/// was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoakHealth {
    /// The verdict: `status`, `degraded_fraction` and every structure.
    #[serde(flatten)]
    pub health: Health,
    /// Churn cycles at the sample.
    pub cycles: u64,
    /// Seconds since the run started, at the sample.
    pub elapsed_s: f64,
}

/// The reading every answer of the hub has, on either build: a sample without it is one in
/// which the hub did not answer.
const ALWAYS_READ: &str = "p2panda_net.address_book.peers";

/// Judges a sample (or its absence: `starting`; a sample the hub did not answer for:
/// `unresponsive`).
pub fn health(sample: Option<&Sample>, degraded_fraction: f64) -> SoakHealth {
    let verdict = judge(sample.map(|s| s.structures.as_slice()), degraded_fraction);
    let answered = |s: &Sample| s.structures.iter().any(|r| r.name == ALWAYS_READ);
    SoakHealth {
        health: match sample {
            Some(s) if !answered(s) => verdict.unresponsive(),
            _ => verdict,
        },
        cycles: sample.map_or(0, |s| s.cycles),
        elapsed_s: sample.map_or(0.0, |s| s.elapsed.as_secs_f64()),
    }
}

async fn metrics_handler(State(state): State<Arc<OpsState>>) -> impl IntoResponse {
    let head = [(header::CONTENT_TYPE, CONTENT_TYPE)];
    match state.latest().map(|sample| render_metrics(&sample)) {
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            head,
            String::from("# EOF\n"),
        ),
        Some(Ok(text)) => (StatusCode::OK, head, text),
        Some(Err(err)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain")],
            format!("{err:#}"),
        ),
    }
}

async fn health_handler(State(state): State<Arc<OpsState>>) -> impl IntoResponse {
    let health = health(state.latest().as_ref(), state.degraded_fraction);
    let code = StatusCode::from_u16(health.health.http_status())
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
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
    use crate::probe::BoundKind;

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
                Reading::bounded(
                    "p2panda_net.address_book.peers",
                    peers,
                    100,
                    BoundKind::Limit,
                ),
                Reading::new("p2panda_net.address_book.evictions_ttl_total", 5),
                Reading::new("iroh_gossip.connection_tasks", 3),
            ],
        }
    }

    #[test]
    fn a_sample_is_exported_as_the_collector_exports_a_node() {
        let text = render_metrics(&sample(10)).unwrap();
        for line in [
            "p2panda_net_address_book_peers 10",
            "p2panda_net_address_book_evictions_ttl_total 5",
            r#"mesh_structure_bound{structure="p2panda_net_address_book_peers",kind="limit"} 100"#,
            "mesh_harness_process_open_fds 7",
            "mesh_harness_churn_cycles 12",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        // This test binary has no counting allocator: no heap figure rather than a false zero.
        assert!(!crate::alloc::is_installed());
        assert!(!text.contains("mesh_harness_process_heap"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn health_is_the_collectors_verdict_with_the_runs_progress() {
        let starting = health(None, 0.8);
        assert_eq!((starting.health.status, starting.cycles), ("starting", 0));
        let ok = health(Some(&sample(80)), 0.8);
        assert_eq!((ok.health.status, ok.cycles), ("ok", 12));
        assert_eq!(ok.health.structures.len(), 2, "counters are not structures");
        assert_eq!(health(Some(&sample(81)), 0.8).health.status, "degraded");
        let unanswered = Sample {
            structures: vec![Reading::new("mesh_harness.peer_stalls_total", 0)],
            ..sample(0)
        };
        assert_eq!(health(Some(&unanswered), 0.8).health.status, "unresponsive");
        let json = serde_json::to_value(&ok).unwrap();
        assert_eq!(json["status"], "ok");
        assert_eq!(json["cycles"], 12);
        assert_eq!(json["structures"][0]["kind"], "limit");
    }
}
