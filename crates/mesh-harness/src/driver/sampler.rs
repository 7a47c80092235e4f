//! Sampling a run: what each sample reads ([`HubProbe`]), and the [`Sampler`] that takes the
//! samples, hands each to the caller and keeps it, and holds the settled pauses.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesh_metrics::Sources;
use tokio::time::{Interval, MissedTickBehavior};

use super::counters::Counters;
use super::long_lived::LongLived;
use crate::compat;
use crate::node::SharedTopicMap;
use crate::probe::{process_figures, Reading, Sample, SampleHistory};
use crate::scenario::PeerTtl;
use crate::settle::{heap_has_settled, MAX_EXTRA_PAUSE, SETTLE_TOLERANCE_BYTES, SETTLE_WINDOW};

/// Pause after a wave before its quiet sample, for the tasks of departed peers to finish.
const QUIET_PAUSE: Duration = Duration::from_millis(250);

/// The structures a sample reads: the hub's, and the harness's own tallies.
pub(super) struct HubProbe {
    hub: Sources,
    topic_map: SharedTopicMap,
    counters: Arc<Counters>,
}

impl HubProbe {
    /// A probe of `hub`, built with `peer_ttl`.
    pub fn new(
        hub: &LongLived,
        peer_ttl: PeerTtl,
        topic_map: &SharedTopicMap,
        counters: &Arc<Counters>,
    ) -> Self {
        Self {
            hub: compat::hub_sources(&hub.node, &hub.store, peer_ttl),
            topic_map: topic_map.clone(),
            counters: counters.clone(),
        }
    }

    /// Every structure's size now: the hub's readings, then the harness's tallies.
    async fn readings(&self) -> Vec<Reading> {
        let mut structures = Vec::new();
        // A hub that does not answer within the timeout is itself a finding: counted, and the
        // run goes on instead of hanging with it.
        match self.hub.structures().await {
            Ok(readings) => structures.extend(readings),
            Err(_) => {
                self.counters
                    .hub_unresponsive
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        let counters = &self.counters;
        let tally = |count: &std::sync::atomic::AtomicU64| count.load(Ordering::Relaxed);
        structures.extend([
            Reading::new(
                "mesh_harness.witness_unresponsive_total",
                tally(&counters.witness_unresponsive),
            ),
            Reading::new(
                "mesh_harness.topic_map_authors",
                self.topic_map.len() as u64,
            ),
            Reading::new(
                "mesh_harness.hub_unresponsive_total",
                tally(&counters.hub_unresponsive),
            ),
            Reading::new(
                "mesh_harness.peer_stalls_total",
                tally(&counters.peer_stalls),
            ),
        ]);
        structures
    }
}

/// Takes a run's samples: hands each to the caller's `on_sample` as it is taken, and keeps it.
pub(super) struct Sampler<F> {
    /// What every sample's `elapsed` counts from.
    started: Instant,
    probe: HubProbe,
    history: SampleHistory,
    on_sample: F,
    ticker: Interval,
}

impl<F: FnMut(&Sample)> Sampler<F> {
    /// Takes the first sample at once; [`tick`](Self::tick) then ticks every `every` from now.
    pub async fn start(started: Instant, probe: HubProbe, every: Duration, on_sample: F) -> Self {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut sampler = Self {
            started,
            probe,
            history: SampleHistory::new(),
            on_sample,
            ticker,
        };
        sampler.record().await;
        sampler.ticker.reset();
        sampler
    }

    /// Waits for the next tick of the sampling interval.
    pub async fn tick(&mut self) {
        self.ticker.tick().await;
    }

    /// Takes a sample now, and keeps it.
    pub async fn record(&mut self) {
        let sample = self.take().await;
        self.keep(sample);
    }

    /// Takes a quiet sample once the departed peers' tasks had [`QUIET_PAUSE`] to finish: for a
    /// moment when no short-lived peer is alive.
    pub async fn quiet(&mut self) {
        tokio::time::sleep(QUIET_PAUSE).await;
        let mut sample = self.take().await;
        sample.quiet = true;
        self.keep(sample);
    }

    /// A settled pause, for a moment when churn has stopped: samples every tick for `pause` and
    /// then until the heap has stopped falling (see [`crate::settle`]; at most
    /// [`MAX_EXTRA_PAUSE`] longer), and ends with a settled sample.
    pub async fn settled_pause(&mut self, pause: Duration) {
        let started = Instant::now();
        loop {
            self.tick().await;
            self.record().await;
            let waited = started.elapsed();
            let settled = waited >= pause
                && heap_has_settled(
                    self.history.samples(),
                    SETTLE_WINDOW,
                    SETTLE_TOLERANCE_BYTES,
                );
            if settled || waited >= pause + MAX_EXTRA_PAUSE {
                break;
            }
        }
        let mut sample = self.take().await;
        sample.quiet = true;
        sample.settled = true;
        self.keep(sample);
    }

    /// Samples every tick for `length`.
    pub async fn sample_for(&mut self, length: Duration) {
        let until = Instant::now() + length;
        while Instant::now() < until {
            self.tick().await;
            self.record().await;
        }
    }

    /// The samples, in order, and the heap their history held at the end.
    pub fn finish(self) -> (Vec<Sample>, u64) {
        let held = self.history.held();
        (self.history.into_samples(), held)
    }

    /// A sample now, neither quiet nor settled. Its heap figures leave out what the history
    /// holds: the nodes' heap, not the harness's record of it (see [`SampleHistory`]).
    async fn take(&self) -> Sample {
        let cycles = self.probe.counters.cycles.load(Ordering::Relaxed);
        let figures = process_figures();
        let heap_bytes = figures.heap_bytes.saturating_sub(self.history.held());
        let heap_blocks = figures
            .heap_blocks
            .saturating_sub(self.history.held_blocks());
        let structures = self.probe.readings().await;
        Sample {
            quiet: false,
            settled: false,
            elapsed: self.started.elapsed(),
            cycles,
            heap_bytes,
            heap_blocks: Some(heap_blocks),
            rss_bytes: figures.rss_bytes,
            fds: figures.fds,
            tasks: figures.tasks,
            structures,
        }
    }

    /// Hands `sample` to the caller, then keeps it.
    fn keep(&mut self, sample: Sample) {
        (self.on_sample)(&sample);
        self.history.push(sample);
    }
}
