//! [`MeshMetrics`]: the one call a controller makes. Registers the exposition, and reads the
//! sources on an interval with a task it owns (aborted when it is dropped) or on every scrape.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use prometheus_client::registry::Registry;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::exposition::{self, Latest};
use crate::health::{self, Health, DEFAULT_DEGRADED_FRACTION};
use crate::reading::Reading;
use crate::sources::Sources;

/// When the readings are refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// By a task the collector owns, at once and then every interval: a scrape costs nothing.
    Every(Duration),
    /// When [`MeshMetrics::refresh`] is called: the router calls it on every request, a
    /// controller with its own server calls it before encoding the registry.
    OnScrape,
}

/// The forks' stats of one node, registered in a [`Registry`] and judged for `/health`.
#[derive(Debug)]
pub struct MeshMetrics {
    reader: Reader,
    refresh: Refresh,
    degraded_fraction: f64,
    task: Option<JoinHandle<()>>,
}

impl MeshMetrics {
    /// Registers every series `sources` report in `registry` and, with [`Refresh::Every`],
    /// starts the task that reads them (so it must be called inside a tokio runtime).
    pub fn register(registry: &mut Registry, sources: Sources, refresh: Refresh) -> Self {
        let reader = Reader {
            sources,
            latest: Latest::new(),
            answered: Arc::new(AtomicBool::new(true)),
        };
        exposition::register(registry, reader.latest.clone());
        let task = match refresh {
            Refresh::Every(every) => Some(tokio::spawn(reader.clone().every(every))),
            Refresh::OnScrape => None,
        };
        Self {
            reader,
            refresh,
            degraded_fraction: DEFAULT_DEGRADED_FRACTION,
            task,
        }
    }

    /// The share of a limit above which `/health` reports a structure as degraded (default
    /// [`DEFAULT_DEGRADED_FRACTION`]).
    pub fn with_degraded_fraction(mut self, fraction: f64) -> Self {
        self.degraded_fraction = fraction;
        self
    }

    /// How the readings are refreshed.
    pub fn refresh_mode(&self) -> Refresh {
        self.refresh
    }

    /// Reads the sources now. When the node does not answer, only the process figures stay (its
    /// series leave the scrape instead of showing stale values) and the error is returned.
    pub async fn refresh(&self) -> Result<()> {
        self.reader.once().await
    }

    /// The latest readings, `None` before the first.
    pub fn readings(&self) -> Option<Vec<Reading>> {
        self.reader.latest.get()
    }

    /// The `/health` verdict of the latest readings (`starting` before the first,
    /// `unresponsive` when the latest read of the node failed); serve it as JSON with
    /// [`Health::http_status`].
    pub fn health(&self) -> Health {
        let latest = self.reader.latest.get();
        let health = health::judge(latest.as_deref(), self.degraded_fraction);
        if self.reader.answered.load(Ordering::Relaxed) {
            health
        } else {
            health.unresponsive()
        }
    }

    /// A `/metrics` and `/health` router serving `registry` and this collector (see
    /// [`crate::router`]).
    #[cfg(feature = "axum")]
    pub fn router(self, registry: Registry) -> axum::Router {
        crate::router::router(Arc::new(self), Arc::new(registry))
    }
}

impl Drop for MeshMetrics {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Reads the sources into the latest readings, and records whether the node answered.
#[derive(Debug, Clone)]
struct Reader {
    sources: Sources,
    latest: Latest,
    answered: Arc<AtomicBool>,
}

impl Reader {
    /// One read. When the node does not answer, only the process figures and the count of
    /// unanswered reads stay.
    async fn once(&self) -> Result<()> {
        let read = self.sources.read().await;
        self.answered.store(read.is_ok(), Ordering::Relaxed);
        match read {
            Ok(readings) => {
                self.latest.set(readings);
                Ok(())
            }
            Err(err) => {
                self.latest.set(self.sources.process_readings());
                Err(err)
            }
        }
    }

    /// The refresh task: reads at once, then every `every`. A failed read is already visible
    /// (counted, and `/health` says `unresponsive`), so the task goes on.
    async fn every(self, every: Duration) {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let _ = self.once().await;
        }
    }
}
