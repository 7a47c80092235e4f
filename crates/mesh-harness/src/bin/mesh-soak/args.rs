//! `mesh-soak`'s command line, and what it asks for: the scenario, the run's options and the
//! criteria it is held to.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mesh_harness::compat;
use mesh_harness::driver::RunOptions;
use mesh_harness::ops;
use mesh_harness::report::Criteria;
use mesh_harness::scenario::{PeerTtl, ScenarioConfig, DEFAULT_DURATION_SECS};

/// Soak run: real nodes churning on loopback, memory and structure sizes over time.
///
/// Set RUST_LOG (e.g. RUST_LOG=warn) to see the nodes' logs on stderr.
#[derive(Debug, Parser)]
pub struct Args {
    /// Short-lived peers to churn through (one churn cycle each).
    #[arg(long, default_value_t = ScenarioConfig::default().cycles)]
    pub cycles: usize,
    /// Stop starting new peers after this many seconds of churn (settled pauses not counted).
    /// The default lets the fork do all 600 cycles, so that the heap is judged between cycles
    /// 300 and 600, after the bounded structures have filled (see docs/soak.md); 120 gives a
    /// quick look whose heap verdict is dominated by that filling.
    #[arg(long, default_value_t = DEFAULT_DURATION_SECS)]
    pub duration: u64,
    /// Short-lived peers alive at the same time.
    #[arg(long, default_value_t = ScenarioConfig::default().concurrency)]
    pub concurrency: usize,
    /// Size of the topic set.
    #[arg(long, default_value_t = ScenarioConfig::default().topics)]
    pub topics: usize,
    /// Long-lived witness peers besides the hub.
    #[arg(long, default_value_t = ScenarioConfig::default().witnesses)]
    pub witnesses: usize,
    /// Log operations each short-lived peer offers for sync (0: sessions run, nothing to
    /// sync, and the long-lived nodes' capped stores do not fill).
    #[arg(long, default_value_t = ScenarioConfig::default().operations_per_peer)]
    pub operations: usize,
    /// Seed of the scenario's random choices.
    #[arg(long, default_value_t = ScenarioConfig::default().seed)]
    pub seed: u64,
    /// Directory for the CSV, table and chart.
    #[arg(long, default_value = "soak-out")]
    pub out: PathBuf,
    /// Name of this run in files, table and chart (default: "fork", or "upstream" when built
    /// without the `patched` feature).
    #[arg(long)]
    pub label: Option<String>,
    /// CSV of another run (e.g. upstream's) to show side by side in the table and chart.
    #[arg(long)]
    pub compare_with: Option<PathBuf>,
    /// Label of the compared run.
    #[arg(long, default_value = "upstream")]
    pub compare_label: String,
    /// How long the hub remembers a departed peer (fork only): `short` (10 s), so that the heap
    /// is judged on what it keeps for good, or `default` (the fork's 30 min, as a user who sets
    /// nothing runs it), so that every departed peer is still in the hub's book at the settled
    /// samples and the heap is judged per remembered peer (limit 2 KiB), or `long` (2 hours,
    /// for runs longer than 30 minutes, judged the same way). Witnesses always use the short
    /// TTL.
    #[arg(long, value_enum, default_value_t = PeerTtl::Short)]
    pub peer_ttl: PeerTtl,
    /// Highest acceptable heap growth per churn cycle over the second half, in bytes (default:
    /// 4096 with the short peer TTL, 2048 with the default one).
    #[arg(long)]
    pub heap_slope_limit: Option<f64>,
    /// Highest acceptable growth of live heap blocks per churn cycle over the second half.
    #[arg(long, default_value_t = Criteria::default().heap_blocks_per_cycle)]
    pub heap_blocks_limit: f64,
    /// Seconds churn stops at least, at half time and again at the end; a pause then goes on
    /// until the heap has stopped falling (at most 30 s more) and ends with a settled sample
    /// whose heap is compared (0: no pauses, the heap is judged by its fitted slope only). It
    /// must outlast QUIC's 30 s timeouts.
    #[arg(long, default_value_t = 40)]
    pub settled_pause: u64,
    /// Churn cycles after which churn pauses for a settled sample, e.g. 100,500,1000 (default:
    /// half-way); the run also ends with one. With the default or long peer TTL the summary
    /// shows the heap per remembered peer between each two.
    #[arg(long, value_delimiter = ',')]
    pub settled_at: Vec<usize>,
    /// Lowest acceptable share of gossip messages delivered to the long-lived nodes.
    #[arg(long, default_value_t = 0.99)]
    pub min_delivery: f64,
    /// Serve `/metrics` (Prometheus) and `/health` (JSON) on this loopback address while the
    /// soak runs, e.g. 127.0.0.1:9464.
    #[arg(long)]
    pub metrics_addr: Option<SocketAddr>,
    /// Share of a bound above which `/health` reports `degraded`.
    #[arg(long, default_value_t = ops::DEFAULT_DEGRADED_FRACTION)]
    pub degraded_fraction: f64,
    /// Never fail on verdicts (for measuring upstream, which is expected to fail them).
    #[arg(long)]
    pub report_only: bool,
    /// Write the dhat profile at the first quiet sample (between waves) once this many churn
    /// cycles are done, while every node is still running: its "t-end" figures are then what
    /// the long-lived nodes hold. Two runs with the same seed stopped at different cycles
    /// attribute the growth between them to call sites (`scripts/dhat-diff`).
    #[cfg(feature = "dhat-heap")]
    #[arg(long)]
    pub dhat_at_cycle: Option<u64>,
    /// With `--dhat-at-cycle`: write the profile at the first *settled* sample from that cycle
    /// on instead (see `--settled-pause`), free of departed peers' transient state.
    #[cfg(feature = "dhat-heap")]
    #[arg(long)]
    pub dhat_settled: bool,
}

impl Args {
    /// The run's name: `--label`, or the build's ([`compat::BUILD_LABEL`]).
    pub fn label(&self) -> String {
        self.label
            .clone()
            .unwrap_or_else(|| compat::BUILD_LABEL.to_owned())
    }

    /// The scenario the flags describe.
    pub fn scenario(&self) -> ScenarioConfig {
        ScenarioConfig {
            seed: self.seed,
            cycles: self.cycles,
            duration: Some(Duration::from_secs(self.duration)),
            concurrency: self.concurrency,
            topics: self.topics,
            witnesses: self.witnesses,
            operations_per_peer: self.operations,
            peer_ttl: self.peer_ttl,
            ..ScenarioConfig::default()
        }
    }

    /// The run's options: the scenario, and settled pauses unless `--settled-pause 0`.
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            scenario: self.scenario(),
            settled_pause: (self.settled_pause > 0)
                .then(|| Duration::from_secs(self.settled_pause)),
            settled_at: {
                let mut at = self.settled_at.clone();
                at.sort_unstable();
                at.dedup();
                at
            },
            ..RunOptions::default()
        }
    }

    /// The criteria for the peer TTL, with the limits the flags set.
    pub fn criteria(&self) -> Criteria {
        let base = if self.peer_ttl.remembers_departed_peers() {
            Criteria::remembering_peers()
        } else {
            Criteria::default()
        };
        Criteria {
            heap_bytes_per_cycle: self.heap_slope_limit.unwrap_or(base.heap_bytes_per_cycle),
            heap_blocks_per_cycle: self.heap_blocks_limit,
            ..base
        }
    }
}
