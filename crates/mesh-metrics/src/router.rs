//! The ready-made axum router (feature `axum`): `GET /metrics` (OpenMetrics text) and
//! `GET /health` (JSON), as the harness serves them.
//!
//! - `/metrics`: 200 with the exposition, ending in `# EOF`; 503 with the body `# EOF` before
//!   the first reading; 500 (`text/plain`) if encoding fails.
//! - `/health`: the [`Health`](crate::Health) document, 200 when `ok`, 503 when `degraded` or
//!   `starting`.
//!
//! With [`Refresh::OnScrape`](crate::Refresh::OnScrape) both read the node first.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

use crate::collector::{MeshMetrics, Refresh};

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Shared = (Arc<MeshMetrics>, Arc<Registry>);

/// A router serving `registry` on `/metrics` and `metrics`' verdict on `/health`.
pub fn router(metrics: Arc<MeshMetrics>, registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/health", get(health_handler))
        .with_state((metrics, registry))
}

/// Reads the node first if the collector refreshes on scrape; a failure shows in what is served.
async fn refresh_on_scrape(metrics: &MeshMetrics) {
    if metrics.refresh_mode() == Refresh::OnScrape {
        let _ = metrics.refresh().await;
    }
}

async fn metrics_handler(State((metrics, registry)): State<Shared>) -> Response {
    refresh_on_scrape(&metrics).await;
    if metrics.readings().is_none() {
        let head = [(header::CONTENT_TYPE, CONTENT_TYPE)];
        return (StatusCode::SERVICE_UNAVAILABLE, head, "# EOF\n").into_response();
    }
    let mut text = String::new();
    match encode(&mut text, &registry) {
        Ok(()) => (StatusCode::OK, [(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(err) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain")],
            err.to_string(),
        )
            .into_response(),
    }
}

async fn health_handler(State((metrics, _)): State<Shared>) -> Response {
    refresh_on_scrape(&metrics).await;
    let health = metrics.health();
    let code = StatusCode::from_u16(health.http_status()).unwrap_or(StatusCode::OK);
    (code, axum::Json(health)).into_response()
}
