//! The attack suite: one hostile behaviour at a time against a hub that honest peers use, with
//! the hub's memory, every bounded structure and what the honest peers still get sampled before,
//! during and after the attack.
//!
//! - [`Attack`]: the attacks, and their sizes ([`AttackSize`]).
//! - [`target`]: what an attacker knows of the hub (its key and loopback sockets).
//! - [`attacker`]: a lightweight hostile node, an iroh endpoint with gossip and nothing else.
//! - [`announce`]: signed topic-discovery announcements, as p2panda-net encodes them.
//! - [`attacks`]: what each attack does.
//! - [`honest`]: the hub and its honest peers, their gossip delivery and sync probes.
//! - [`measure`]: one sample (heap, RSS, CPU, the hub's structures) and the run's phases.
//! - [`run`]: carries one attack out, start to verdict.
//! - [`summary`]: the figures of a run and its verdict; [`table`]: the CSV and markdown table.
//!
//! Attackers are lightweight: they speak iroh-gossip, not p2panda-net, so thousands of fresh
//! identities fit in a minute on two cores. `mesh-attack` runs them in a child process, so the
//! heap and CPU figures are those of the hub and its honest peers only.

pub mod announce;
pub mod attacker;
pub mod attacks;
pub mod honest;
pub mod measure;
pub mod run;
pub mod summary;
pub mod table;
pub mod target;

use std::time::Duration;

/// The attacks, in the order the suite runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Attack {
    /// Fresh identities announcing themselves: most by signed announcements relayed over one
    /// gossip connection, some by dialing the hub with an endpoint of their own.
    FreshKeys,
    /// One key announcing thousands of topic ids and joining hundreds of gossip topics at the
    /// hub, and many keys each announcing a few topic ids.
    TopicFlood,
    /// Many keys joining and leaving gossip topics at the hub as fast as the hub lets them.
    SubscribeStorm,
    /// A gossip neighbour on the honest topic sending as fast as it can, then oversized
    /// messages, then the same message again and again.
    GossipSpam,
    /// Sync sessions opened and never finished: connections with p2panda-net's sync protocol,
    /// each with streams that send one byte of a message and then nothing.
    SyncStall,
}

impl Attack {
    /// Every attack, in suite order.
    pub const ALL: [Attack; 5] = [
        Attack::FreshKeys,
        Attack::TopicFlood,
        Attack::SubscribeStorm,
        Attack::GossipSpam,
        Attack::SyncStall,
    ];

    /// The attack's name on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Attack::FreshKeys => "fresh-keys",
            Attack::TopicFlood => "topic-flood",
            Attack::SubscribeStorm => "subscribe-storm",
            Attack::GossipSpam => "gossip-spam",
            Attack::SyncStall => "sync-stall",
        }
    }

    /// Whether the attack is meant to take all the hub can give (its CPU or its link), so that
    /// honest delivery during it is shown but not judged.
    pub fn saturates(self) -> bool {
        matches!(self, Attack::GossipSpam)
    }

    /// How long the attack lasts by default.
    pub fn default_duration(self) -> Duration {
        match self {
            Attack::FreshKeys => Duration::from_secs(60),
            _ => Duration::from_secs(30),
        }
    }
}

/// How big the attacks are. [`AttackSize::default`] is the suite's; [`AttackSize::scaled`]
/// shrinks every count for a short test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttackSize {
    /// Fresh identities announced over the relay connection (fresh-keys).
    pub announced_keys: usize,
    /// Fresh identities that dial the hub with an endpoint of their own (fresh-keys).
    pub dialing_keys: usize,
    /// Topic ids the flooding key announces in all, 100 per announcement (topic-flood).
    pub flood_topics: usize,
    /// Gossip topics the flooding key joins at the hub (topic-flood).
    pub joined_topics: usize,
    /// Keys that announce a few topic ids each (topic-flood).
    pub few_topic_keys: usize,
    /// Keys that join and leave topics (subscribe-storm).
    pub storm_keys: usize,
    /// Connections that open sync sessions and never finish them (sync-stall).
    pub stall_connections: usize,
    /// Sync sessions opened and never finished, over all those connections (sync-stall).
    pub stalled_sessions: usize,
}

impl Default for AttackSize {
    fn default() -> Self {
        Self {
            announced_keys: 10_000,
            dialing_keys: 300,
            flood_topics: 5_000,
            joined_topics: 500,
            few_topic_keys: 2_000,
            storm_keys: 16,
            stall_connections: 50,
            stalled_sessions: 2_000,
        }
    }
}

impl AttackSize {
    /// Every count multiplied by `factor` (at least 1 each).
    pub fn scaled(factor: f64) -> Self {
        let d = Self::default();
        let s = |n: usize| ((n as f64 * factor).round() as usize).max(1);
        Self {
            announced_keys: s(d.announced_keys),
            dialing_keys: s(d.dialing_keys),
            flood_topics: s(d.flood_topics),
            joined_topics: s(d.joined_topics),
            few_topic_keys: s(d.few_topic_keys),
            storm_keys: s(d.storm_keys),
            stall_connections: s(d.stall_connections),
            stalled_sessions: s(d.stalled_sessions),
        }
    }
}
