//! Carries out a [`plan`]: starts the hub and witnesses, churns
//! short-lived peers through them, samples the hub every interval, and counts deliveries.
//!
//! Everything runs in this process, on loopback. Heap and RSS are the process's: the hub, the
//! witnesses and the short-lived peers alive at that moment. Concurrency is fixed, so the
//! short-lived part is a constant band and what grows with cycles is what the long-lived nodes
//! keep.
//!
//! [`run`] reads as the run goes: start the long-lived nodes (module `long_lived`), take the
//! first sample (`sampler`), churn the short-lived peers (`peer`) through them in waves
//! (`churn`), end with a settled pause, and shut down. `counters` holds what the tasks tally on
//! the way.

mod churn;
mod counters;
mod long_lived;
mod peer;
mod sampler;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::ledger::MissedMessage;
use crate::node::SharedTopicMap;
use crate::probe::Sample;
use crate::scenario::{plan, ScenarioConfig};
use crate::topic::MeshTopic;
use churn::Churn;
use counters::Counters;
use long_lived::LongLivedNodes;
use peer::PeerContext;
use sampler::{HubProbe, Sampler};

/// How long a node of the run may take to answer a call of the harness (a sample of the hub, a
/// check of a witness) before it counts as unresponsive.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a clean shutdown may take before the node is dropped or left behind instead.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of a run beyond the scenario.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The scenario's sizes and seed.
    pub scenario: ScenarioConfig,
    /// How often the hub is sampled.
    pub sample_every: Duration,
    /// Quiet time after the last peer left, still sampled, before the run ends.
    pub settle: Duration,
    /// With `Some(pause)`: churn stops for at least `pause` once half the run is done (or after
    /// each of the cycles in `settled_at`), and again after the last wave (instead of `settle`), then until the heap has stopped falling (at
    /// most [`MAX_EXTRA_PAUSE`](crate::settle::MAX_EXTRA_PAUSE) longer, see [`crate::settle`]); each pause ends with a settled
    /// sample. The pause must outlast every time-bounded trace of a departed peer (QUIC's 30 s
    /// handshake and idle timeouts, the long-lived nodes' 10 s peer TTL), so the two settled
    /// samples differ only by what the long-lived nodes keep for good. The duration limit
    /// counts churn time only.
    pub settled_pause: Option<Duration>,
    /// Churn cycles after which to take the settled pauses before the last, in place of the
    /// one half-way (empty: half-way). Judging a remembered peer's cost at several sizes of the
    /// hub's book takes several.
    pub settled_at: Vec<usize>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            scenario: ScenarioConfig::default(),
            sample_every: Duration::from_secs(1),
            settle: Duration::from_secs(5),
            settled_pause: None,
            settled_at: Vec::new(),
        }
    }
}

/// Gossip delivery to the long-lived nodes (hub and witnesses, which subscribe to every topic).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Messages that should have arrived: each published message, once per long-lived node.
    pub expected: u64,
    /// Messages that arrived.
    pub delivered: u64,
    /// Of those, messages that arrived at the hub (expected there: `expected / long-lived nodes`).
    pub delivered_to_hub: u64,
    /// Of those, messages that arrived at each witness, in start order (expected at each:
    /// `expected / long-lived nodes`).
    pub delivered_to_witnesses: Vec<u64>,
    /// Short-lived peers whose overlay was not ready within the join timeout (they publish
    /// nothing and are not expected anywhere).
    pub join_timeouts: u64,
    /// Operations the hub received through log sync.
    pub synced_operations: u64,
    /// Short-lived peers that did not finish their plan within the peer deadline (dropped then).
    pub peer_stalls: u64,
    /// Samples for which the hub did not answer within the timeout.
    pub hub_unresponsive: u64,
    /// Witness checks (one per witness and sampling interval, run beside the sampling) that the
    /// witness did not answer in time: a witness whose node stopped answering also stops
    /// receiving.
    pub witness_unresponsive: u64,
    /// Every published message that did not reach every long-lived node, with what its
    /// publisher did (see [`crate::ledger`]).
    pub missed: Vec<MissedMessage>,
}

impl Delivery {
    /// Delivered over expected, 1.0 when nothing was expected.
    pub fn ratio(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.delivered as f64 / self.expected as f64
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Every sample, in order.
    pub samples: Vec<Sample>,
    /// Heap the sample history held at the end of the run, left out of every sample's
    /// `heap_bytes`.
    pub history_bytes: u64,
    /// Gossip delivery and sync counts.
    pub delivery: Delivery,
    /// Short-lived peers that completed their plan.
    pub cycles: u64,
}

/// Runs the scenario and calls `on_sample` with every sample as it is taken.
pub async fn run(options: RunOptions, on_sample: impl FnMut(&Sample)) -> Result<RunOutcome> {
    let started = Instant::now();
    let scenario = &options.scenario;
    let topics: Vec<MeshTopic> = (0..scenario.topics.max(1))
        .map(MeshTopic::numbered)
        .collect();
    let topic_map = SharedTopicMap::default();
    let counters = Arc::new(Counters::new(scenario));
    let nodes = LongLivedNodes::start(scenario, &topics, &topic_map, &counters).await?;
    let mut witness_checks = nodes.check_witnesses(&counters, options.sample_every);
    let probe = HubProbe::new(&nodes.hub, scenario.peer_ttl, &topic_map, &counters);
    let mut sampler = Sampler::start(started, probe, options.sample_every, on_sample).await;

    let plans = plan(scenario);
    let churn = Churn {
        scenario,
        settled_pause: options.settled_pause,
        settled_at: &options.settled_at,
        topics: &topics,
        peers: PeerContext {
            hub: nodes.hub_address.clone(),
            topic_map,
            counters: counters.clone(),
            long_lived_keys: nodes.keys.clone(),
        },
    };
    churn.run(&plans, started, &mut sampler).await?;
    match options.settled_pause {
        Some(pause) => sampler.settled_pause(pause).await,
        None => sampler.sample_for(options.settle).await,
    }

    // The checks end with the churn: the witnesses' shutdown is not a finding.
    witness_checks.abort_all();
    let (samples, history_bytes) = sampler.finish();
    let outcome = RunOutcome {
        history_bytes,
        samples,
        delivery: counters.delivery(&plans),
        cycles: counters.cycles.load(Ordering::Relaxed),
    };
    nodes.shutdown().await;
    Ok(outcome)
}
