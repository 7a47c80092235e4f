//! `mesh-attack`'s command line.

use std::path::PathBuf;

use clap::Parser;
use mesh_harness::attack::Attack;
use mesh_harness::scenario::PeerTtl;

/// Attack suite: one hostile behaviour at a time against a hub with honest peers, on loopback.
#[derive(Debug, Parser)]
pub struct Args {
    /// The attacks to run, in order (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub attack: Vec<Attack>,
    /// Every attack's counts times this (1: 10,000 fresh keys, 5,000 flooded topic ids, ...).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Seconds each attack lasts (default: 60 for fresh-keys, 30 for the others).
    #[arg(long)]
    pub duration: Option<u64>,
    /// Least seconds sampled after an attack, before the heap is judged (then until it stops
    /// falling, at most 80 s more: gossip keeps message ids for 90 s).
    #[arg(long, default_value_t = 40)]
    pub settle: u64,
    /// The hub's peer TTL (fork only): 10 s, the fork's default (30 min), or 2 h.
    #[arg(long, value_enum, default_value_t = PeerTtl::Short)]
    pub peer_ttl: PeerTtl,
    /// The hub's address-book peer bound (fork only; default: the fork's, 10,000).
    #[arg(long)]
    pub max_peers: Option<usize>,
    /// Honest long-lived peers besides the hub.
    #[arg(long, default_value_t = 3)]
    pub honest_peers: usize,
    /// Run the hub and honest peers without iroh-gossip's catch-up (fork only; on by default,
    /// as in the soak).
    #[arg(long)]
    pub no_catch_up: bool,
    /// Run the attacker in this process instead of a child process (its heap and CPU then
    /// count with the hub's).
    #[arg(long)]
    pub in_process: bool,
    /// Directory for the CSVs and the table.
    #[arg(long, default_value = "attack-out")]
    pub out: PathBuf,
    /// Name of this run (default: "fork", or "upstream" without the `patched` feature).
    #[arg(long)]
    pub label: Option<String>,
    /// Another run's rows (`<out>/<label>.csv`) to put beside this run's in `attacks.md`.
    #[arg(long)]
    pub compare_with: Option<PathBuf>,
    /// Exit 0 whatever the verdicts.
    #[arg(long)]
    pub report_only: bool,
    /// Internal: run as the attacker of this attack (a child process of `mesh-attack`).
    #[arg(long, hide = true, requires = "target")]
    pub attacker: Option<Attack>,
    /// Internal: the hub the attacker attacks (`key@socket,socket`).
    #[arg(long, hide = true)]
    pub target: Option<String>,
}

impl Args {
    /// The attacks asked for, all by default.
    pub fn attacks(&self) -> Vec<Attack> {
        if self.attack.is_empty() {
            Attack::ALL.to_vec()
        } else {
            self.attack.clone()
        }
    }

    /// The run's label.
    pub fn label(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| mesh_harness::compat::BUILD_LABEL.to_owned())
    }
}
