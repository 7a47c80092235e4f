//! The churn: short-lived peers in waves of `concurrency`, sampled every tick while they run,
//! with a quiet sample after each wave (no short-lived peer is alive then, so it holds only what
//! the long-lived nodes keep) and a settled pause half-way.

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
        let mut mid_pause = self.settled_pause;
        for wave in plans.chunks(self.scenario.concurrency.max(1)) {
            let churned = started.elapsed().saturating_sub(paused);
            if self.scenario.duration.is_some_and(|limit| churned >= limit) {
                break;
            }
            if let Some(pause) = mid_pause.filter(|_| self.half_done(churned)) {
                mid_pause = None;
                let pause_started = Instant::now();
                sampler.settled_pause(pause).await;
                paused += pause_started.elapsed();
            }
            self.wave(wave, sampler).await?;
        }
        Ok(())
    }

    /// Whether half the churn time or half the cycles are done.
    fn half_done(&self, churned: Duration) -> bool {
        let cycles = self.peers.counters.cycles.load(Ordering::Relaxed) as usize;
        self.scenario
            .duration
            .is_some_and(|limit| churned >= limit / 2)
            || cycles >= self.scenario.cycles / 2
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
