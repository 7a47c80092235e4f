//! The churn scenario, as data.
//!
//! One long-lived **hub** (the mesh-controller's role, started with `bootstrap()`) and a few
//! long-lived **witnesses** subscribe to every topic of a small set. Short-lived **peers** with
//! fresh identities then come in waves of `concurrency`: each joins through the hub, subscribes
//! to one topic, publishes gossip messages, offers operations for log sync, ends its subscription
//! in one of three ways and leaves, half by clean shutdown and half abruptly.
//!
//! Everything a run does is decided here, by [`plan`], from the seed: the driver only carries it
//! out. The same seed and sizes give the same plan, against our forks and against upstream.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Sizes of a run. [`ScenarioConfig::default`] is the default soak (600 cycles, 8 peers at a
/// time).
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioConfig {
    /// Seed of every random choice in the plan.
    pub seed: u64,
    /// Short-lived peers to churn through in all (one churn cycle per peer).
    pub cycles: usize,
    /// Stop starting new peers after this long, even if `cycles` are not done.
    pub duration: Option<Duration>,
    /// Short-lived peers alive at the same time.
    pub concurrency: usize,
    /// Size of the topic set.
    pub topics: usize,
    /// Long-lived witness peers besides the hub.
    pub witnesses: usize,
    /// Gossip messages each short-lived peer publishes.
    pub messages_per_peer: usize,
    /// Operations each short-lived peer offers for log sync.
    pub operations_per_peer: usize,
    /// How long the hub remembers a departed peer (our forks only; witnesses always use
    /// [`PeerTtl::Short`]).
    pub peer_ttl: PeerTtl,
}

/// How long the hub's address book remembers a peer that gave no sign of life. Upstream has no
/// such setting and remembers every peer for ever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PeerTtl {
    /// [`crate::compat::LONG_LIVED_PEER_TTL`]: departed peers are forgotten before the settled
    /// samples, which then show only what the long-lived nodes keep for good.
    #[default]
    Short,
    /// The fork's default (`AddressBookConfig::default()`, 30 minutes), as a user who sets
    /// nothing runs it: every departed peer is still in the hub's book at the settled samples,
    /// which then show what one costs the hub.
    Default,
    /// [`LONG_PEER_TTL`], every other setting the default: for runs that churn through more
    /// peers than 2 cores can in 30 minutes, to show how the cost of a remembered peer scales
    /// with their number.
    Long,
}

/// The peer TTL of [`PeerTtl::Long`]: longer than a 5,000-cycle run with its settled pauses.
pub const LONG_PEER_TTL: Duration = Duration::from_secs(2 * 60 * 60);

impl PeerTtl {
    /// Whether the hub still remembers every departed peer at the settled samples.
    pub fn remembers_departed_peers(self) -> bool {
        self != Self::Short
    }
}

/// Default limit on churn time, in seconds: long enough for the fork to do the default 600
/// cycles on a 2-core machine (about 350 s), so that the second half of the run starts after
/// the long-lived nodes' bounded structures have filled.
pub const DEFAULT_DURATION_SECS: u64 = 420;

impl Default for ScenarioConfig {
    fn default() -> Self {
        Self {
            seed: 7,
            cycles: 600,
            duration: Some(Duration::from_secs(DEFAULT_DURATION_SECS)),
            concurrency: 8,
            topics: 4,
            witnesses: 2,
            messages_per_peer: 2,
            operations_per_peer: 2,
            peer_ttl: PeerTtl::Short,
        }
    }
}

/// How a short-lived peer ends its subscription before it leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ending {
    /// Calls the fork's explicit unsubscribe (against upstream, which has none, it drops the
    /// handles instead).
    Unsubscribe,
    /// Drops its sender and receiver and keeps running for a moment.
    DropHandles,
    /// Keeps its handles until it leaves.
    Keep,
}

/// How a short-lived peer leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leave {
    /// `Network::shutdown()`: connections are closed, the remote side hears about it.
    Clean,
    /// The node is dropped: nothing is said to the remote side, which must time the peer out.
    Abrupt,
}

/// What one short-lived peer does, start to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerPlan {
    /// Its churn cycle number, from 0.
    pub cycle: usize,
    /// Index into the topic set.
    pub topic: usize,
    /// Gossip messages it publishes once it has joined.
    pub messages: usize,
    /// Operations it offers for log sync.
    pub operations: usize,
    /// How its subscription ends.
    pub ending: Ending,
    /// How it leaves.
    pub leave: Leave,
    /// How long it stays after publishing, for gossip and sync to happen.
    pub linger: Duration,
}

/// The plan of every short-lived peer, in start order.
///
/// Leaving alternates strictly (even cycles clean, odd cycles abrupt) so that both halves are
/// exactly half; topics and endings are drawn from the seed.
pub fn plan(config: &ScenarioConfig) -> Vec<PeerPlan> {
    let mut rng = StdRng::seed_from_u64(config.seed);
    (0..config.cycles)
        .map(|cycle| {
            let topic = rng.gen_range(0..config.topics.max(1));
            let ending = match rng.gen_range(0..4) {
                0 => Ending::Unsubscribe,
                1 => Ending::DropHandles,
                _ => Ending::Keep,
            };
            let linger = Duration::from_millis(rng.gen_range(300..1500));
            PeerPlan {
                cycle,
                linger,
                topic,
                messages: config.messages_per_peer,
                operations: config.operations_per_peer,
                ending,
                leave: if cycle % 2 == 0 {
                    Leave::Clean
                } else {
                    Leave::Abrupt
                },
            }
        })
        .collect()
}

/// The payload of a gossip message: who sent it (churn cycle) and its sequence number, so every
/// receiver can tell exactly which messages it got.
pub fn gossip_payload(cycle: usize, seq: usize) -> Vec<u8> {
    format!("mesh-harness/{cycle}/{seq}").into_bytes()
}

/// Parses what [`gossip_payload`] wrote.
pub fn parse_gossip_payload(bytes: &[u8]) -> Option<(usize, usize)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut parts = text.strip_prefix("mesh-harness/")?.split('/');
    let cycle = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((cycle, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_plan() {
        let config = ScenarioConfig::default();
        assert_eq!(plan(&config), plan(&config));
        let other = ScenarioConfig {
            seed: 8,
            ..config.clone()
        };
        assert_ne!(plan(&config), plan(&other));
    }

    #[test]
    fn half_leave_cleanly_and_every_ending_occurs() {
        let config = ScenarioConfig {
            cycles: 200,
            ..Default::default()
        };
        let plan = plan(&config);
        let clean = plan.iter().filter(|p| p.leave == Leave::Clean).count();
        assert_eq!(clean, 100);
        for ending in [Ending::Unsubscribe, Ending::DropHandles, Ending::Keep] {
            assert!(
                plan.iter().any(|p| p.ending == ending),
                "{ending:?} never planned"
            );
        }
        assert!(plan.iter().all(|p| p.topic < config.topics));
    }

    #[test]
    fn payloads_round_trip() {
        assert_eq!(parse_gossip_payload(&gossip_payload(42, 3)), Some((42, 3)));
        assert_eq!(parse_gossip_payload(b"mesh-harness/1"), None);
        assert_eq!(parse_gossip_payload(b"other/1/2"), None);
    }
}
