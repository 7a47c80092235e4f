//! The churn: short-lived peers in waves of `concurrency`, sampled every tick while they run,
//! with a quiet sample after each wave (no short-lived peer is alive then, so it holds only what
//! the long-lived nodes keep) and settled pauses (half-way, or at the cycles asked for).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::task::JoinSet;

use super::peer::{run_peer, PeerContext};
use super::sampler::Sampler;
use crate::probe::Sample;
use crate::scenario::{PeerPlan, ScenarioConfig};
use crate::topic::MeshTopic;

/// How a run churns.
pub(super) struct Churn<'a> {
    /// Sizes and limits.
    pub scenario: &'a ScenarioConfig,
    /// The settled pause to take half-way, if any (see `RunOptions::settled_pause`).
    pub settled_pause: Option<Duration>,
    /// The cycles after which to take it instead of half-way (see `RunOptions::settled_at`).
    pub settled_at: &'a [usize],
    /// The topic set, indexed by [`PeerPlan::topic`].
    pub topics: &'a [MeshTopic],
    /// What every short-lived peer shares.
    pub peers: PeerContext,
}

impl Churn<'_> {
    /// Runs `plans` wave by wave until they are done or the scenario's duration is spent (time
    /// in settled pauses not counted since `started`), with the mid-run settled pause once half
    /// the cycles or half the duration are done.
    pub async fn run<F: FnMut(&Sample)>(
        &self,
        plans: &[PeerPlan],
        started: Instant,
        sampler: &mut Sampler<F>,
    ) -> Result<()> {
        let mut paused = Duration::ZERO;
        let mut pauses_taken = 0;
        for wave in plans.chunks(self.scenario.concurrency.max(1)) {
            let churned = started.elapsed().saturating_sub(paused);
            if self.scenario.duration.is_some_and(|limit| churned >= limit) {
                break;
            }
            let pause = self
                .settled_pause
                .filter(|_| self.pause_due(pauses_taken, churned));
            if let Some(pause) = pause {
                pauses_taken += 1;
                let pause_started = Instant::now();
                sampler.settled_pause(pause).await;
                paused += pause_started.elapsed();
            }
            self.wave(wave, sampler).await?;
        }
        Ok(())
    }

    /// Whether the next settled pause is due, `taken` being taken: once the next cycle count of
    /// `settled_at` is done or, without any, once half the churn time or half the cycles are.
    fn pause_due(&self, taken: usize, churned: Duration) -> bool {
        let cycles = self.peers.counters.cycles.load(Ordering::Relaxed) as usize;
        if !self.settled_at.is_empty() {
            return self.settled_at.get(taken).is_some_and(|&at| cycles >= at);
        }
        let half_time = self
            .scenario
            .duration
            .is_some_and(|limit| churned >= limit / 2);
        taken == 0 && (half_time || cycles >= self.scenario.cycles / 2)
    }

    /// Runs one wave of peers to its end, sampling every tick, and takes its quiet sample.
    async fn wave<F: FnMut(&Sample)>(
        &self,
        wave: &[PeerPlan],
        sampler: &mut Sampler<F>,
    ) -> Result<()> {
        let mut peers = JoinSet::new();
        for plan in wave.iter().cloned() {
            let topic = self.topics[plan.topic].clone();
            let cx = self.peers.clone();
            peers.spawn(async move {
                let result = run_peer(plan, topic, &cx).await;
                cx.counters.cycles.fetch_add(1, Ordering::Relaxed);
                result
            });
        }
        while !peers.is_empty() {
            tokio::select! {
                Some(done) = peers.join_next() => {
                    done.context("a short-lived peer panicked")?
                        .context("a short-lived peer failed")?;
                }
                _ = sampler.tick() => sampler.record().await,
            }
        }
        sampler.quiet().await;
        Ok(())
    }
}
