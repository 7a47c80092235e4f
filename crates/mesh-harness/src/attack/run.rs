//! Carries one attack out: start the hub and honest peers, sample a quiet reference, run the
//! attacker until its deadline, then sample until the hub's heap has settled, probing honest
//! joins and sync in each phase.

use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use mesh_metrics::Sources;
use tokio::time::{Instant, MissedTickBehavior};

use super::attacks::{self, AttackTally};
use super::honest::{HonestMesh, ProbeResult};
use super::measure::{self, AttackSample, Phase};
use super::target::Target;
use super::{Attack, AttackSize};
use crate::compat;
use crate::probe::Reading;
use crate::scenario::PeerTtl;
use crate::settle::{SETTLE_TOLERANCE_BYTES, SETTLE_WINDOW};

/// Honest traffic before the reference is taken.
const WARMUP: Duration = Duration::from_secs(5);
/// Time the attacker may take beyond its deadline to close and exit.
const ATTACKER_GRACE: Duration = Duration::from_secs(60);
/// Time after the last sample for the last honest messages to arrive.
const DELIVERY_GRACE: Duration = Duration::from_secs(2);

/// Where the attacker runs.
#[derive(Debug, Clone)]
pub enum Launcher {
    /// In this process, on this runtime: its heap and CPU count with the hub's.
    InProcess,
    /// In a child process: this binary (`mesh-attack`) with `--attacker`.
    Child(PathBuf),
}

/// What one run does.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The attack.
    pub attack: Attack,
    /// Its counts, as a factor of [`AttackSize::default`].
    pub scale: f64,
    /// How long it lasts.
    pub duration: Duration,
    /// Honest traffic sampled before it, the reference.
    pub before: Duration,
    /// The least time sampled after it; sampling goes on until the heap has settled (fallen by
    /// at most 64 KiB over 10 s), at most `settle_max`.
    pub settle: Duration,
    /// The most time sampled after it.
    pub settle_max: Duration,
    /// The hub's peer TTL (fork only).
    pub peer_ttl: PeerTtl,
    /// The hub's address-book peer bound (fork only); `None`: the fork's default (10,000).
    pub max_peers: Option<usize>,
    /// Honest long-lived peers besides the hub.
    pub honest_peers: usize,
    /// Whether the hub and honest peers run iroh-gossip's catch-up (fork only; on, as in the
    /// soak).
    pub catch_up: bool,
    /// Where the attacker runs.
    pub launcher: Launcher,
}

impl RunConfig {
    /// The suite's settings for `attack`, the attacker where `launcher` says.
    pub fn new(attack: Attack, launcher: Launcher) -> Self {
        Self {
            attack,
            scale: 1.0,
            duration: attack.default_duration(),
            before: Duration::from_secs(10),
            settle: Duration::from_secs(40),
            settle_max: Duration::from_secs(120),
            peer_ttl: PeerTtl::Short,
            max_peers: None,
            honest_peers: 3,
            catch_up: true,
            launcher,
        }
    }
}

/// What a run recorded.
#[derive(Debug)]
pub struct RunRecord {
    /// The run's settings.
    pub config: RunConfig,
    /// Every sample, in order.
    pub samples: Vec<AttackSample>,
    /// Every probe, in order.
    pub probes: Vec<ProbeResult>,
    /// Honest messages (delivered, expected) published before, during and after the attack.
    pub delivery: [(u64, u64); 3],
    /// What the attacker said it did (`None` if it failed; the error is in `attacker_error`).
    pub tally: Option<AttackTally>,
    /// Why the attacker failed, if it did.
    pub attacker_error: Option<String>,
    /// Panics in this process during the run.
    pub panics: u64,
    /// Whether the hub answered at the end.
    pub hub_answers: bool,
    /// Each honest peer's structures at the end.
    pub peers_end: Vec<Vec<Reading>>,
    /// Honest peers whose overlay came up at the start, and honest peers.
    pub honest_joined: (usize, usize),
}

/// Runs one attack; `on_sample` sees every sample as it is taken.
pub async fn run_attack(
    config: RunConfig,
    on_sample: impl FnMut(&AttackSample),
) -> Result<RunRecord> {
    measure::count_panics();
    let panics_before = measure::panics();
    let mesh = HonestMesh::start(
        config.peer_ttl,
        config.max_peers,
        config.honest_peers,
        config.catch_up,
    )
    .await?;
    let sources = compat::hub_sources_bounded(
        &mesh.hub,
        &mesh.hub_store,
        config.peer_ttl,
        config.max_peers,
    );
    let mut run = Sampling::new(sources, on_sample);
    run.sample_while(Phase::Warmup, tokio::time::sleep(WARMUP))
        .await;
    mesh.set_phase(Phase::Before);
    let mut probes = vec![
        run.sample_while(Phase::Before, probe_then(&mesh, config.before))
            .await?,
    ];

    mesh.set_phase(Phase::During);
    let target = Target::from_address(&mesh.hub_address)?;
    let attacker = launch(&config, target);
    let during = async {
        let (attacker, probe) = tokio::join!(attacker, async {
            tokio::time::sleep(config.duration / 3).await;
            mesh.probe().await
        });
        (attacker, probe)
    };
    let (attacker, probe) = run.sample_while(Phase::During, during).await;
    probes.push(probe?);

    mesh.set_phase(Phase::After);
    probes.push(run.sample_while(Phase::After, mesh.probe()).await?);
    run.settle(&config).await;
    mesh.set_phase(Phase::Warmup);
    tokio::time::sleep(DELIVERY_GRACE).await;
    let delivery = [Phase::Before, Phase::During, Phase::After].map(|p| mesh.delivery(p));
    let hub_answers = mesh.hub_answers().await;
    let peers_end = mesh.peer_readings().await;
    let honest_joined = mesh.joined();
    let panics = measure::panics() - panics_before;
    mesh.shutdown().await;
    let (tally, attacker_error) = match attacker {
        Ok(tally) => (Some(tally), None),
        Err(err) => (None, Some(format!("{err:#}"))),
    };
    Ok(RunRecord {
        config,
        samples: run.samples,
        probes,
        delivery,
        tally,
        attacker_error,
        panics,
        hub_answers,
        peers_end,
        honest_joined,
    })
}

/// A probe, then the rest of `at_least`.
async fn probe_then(mesh: &HonestMesh, at_least: Duration) -> Result<ProbeResult> {
    let until = Instant::now() + at_least;
    let probe = mesh.probe().await;
    tokio::time::sleep_until(until).await;
    probe
}

/// Runs the attacker until `config.duration` from now, where `config.launcher` says.
async fn launch(config: &RunConfig, target: Target) -> Result<AttackTally> {
    let size = AttackSize::scaled(config.scale);
    match &config.launcher {
        Launcher::InProcess => {
            let until = Instant::now() + config.duration;
            tokio::spawn(attacks::run(config.attack, size, target, until)).await?
        }
        Launcher::Child(exe) => child(exe, config, &target).await,
    }
}

/// Runs the attacker as `exe --attacker ...` and reads its tally from its last stdout line.
async fn child(exe: &PathBuf, config: &RunConfig, target: &Target) -> Result<AttackTally> {
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("--attacker")
        .arg(config.attack.name())
        .arg("--target")
        .arg(target.encode())
        .arg("--duration")
        .arg(config.duration.as_secs().to_string())
        .arg("--scale")
        .arg(config.scale.to_string())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true);
    let limit = config.duration + ATTACKER_GRACE;
    let output = tokio::time::timeout(limit, cmd.output())
        .await
        .context("the attacker did not exit in time (killed)")?
        .context("running the attacker")?;
    if !output.status.success() {
        bail!("the attacker exited with {}", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .last()
        .context("the attacker printed no tally")?;
    serde_json::from_str(line).context("reading the attacker's tally")
}

/// The run's samples, one a second, handed to the caller as they are taken.
struct Sampling<F> {
    sources: Sources,
    started: Instant,
    samples: Vec<AttackSample>,
    on_sample: F,
}

impl<F: FnMut(&AttackSample)> Sampling<F> {
    fn new(sources: Sources, on_sample: F) -> Self {
        Self {
            sources,
            started: Instant::now(),
            samples: Vec::new(),
            on_sample,
        }
    }

    /// Samples every second, in `phase`, until `work` is done; returns what it returned.
    async fn sample_while<T>(&mut self, phase: Phase, work: impl Future<Output = T>) -> T {
        let mut work = pin!(work);
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = ticker.tick() => self.take(phase).await,
            }
        }
    }

    async fn take(&mut self, phase: Phase) {
        let sample = measure::sample(&self.sources, phase, self.started.elapsed()).await;
        (self.on_sample)(&sample);
        self.samples.push(sample);
    }

    /// Samples after the attack for at least `config.settle`, then until the heap has settled,
    /// for at most `config.settle_max`.
    async fn settle(&mut self, config: &RunConfig) {
        let started = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            self.take(Phase::After).await;
            let waited = started.elapsed();
            if (waited >= config.settle && self.heap_settled()) || waited >= config.settle_max {
                return;
            }
        }
    }

    /// Whether the heap fell by at most 64 KiB over the last 10 s.
    fn heap_settled(&self) -> bool {
        let Some(last) = self.samples.last() else {
            return false;
        };
        let Some(cutoff) = last.elapsed.checked_sub(SETTLE_WINDOW) else {
            return false;
        };
        let window: Vec<u64> = self
            .samples
            .iter()
            .filter(|s| s.elapsed >= cutoff)
            .map(|s| s.heap_bytes)
            .collect();
        window
            .first()
            .is_some_and(|first| first.saturating_sub(last.heap_bytes) <= SETTLE_TOLERANCE_BYTES)
    }
}
