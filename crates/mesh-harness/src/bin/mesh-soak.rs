//! `mesh-soak`: the soak run. Churns short-lived peers through a hub on loopback, samples memory
//! and structure sizes every second, and reports tables, a CSV and a chart.
//!
//! Run it through `cargo xtask soak` (which also builds the upstream side by side), or directly
//! with `cargo run --release -p mesh-harness --bin mesh-soak -- --help`; cargo's runner puts it in
//! a network namespace that has only `lo`. `RUST_LOG` (e.g. `RUST_LOG=warn`) prints the nodes'
//! logs to stderr; without it no log subscriber is installed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use mesh_harness::compat;
use mesh_harness::driver::{run, RunOptions};
use mesh_harness::ops::{self, OpsState};
use mesh_harness::probe;
use mesh_harness::report::{self, Criteria};
use mesh_harness::scenario::{PeerTtl, ScenarioConfig, DEFAULT_DURATION_SECS};

#[cfg(not(feature = "dhat-heap"))]
#[global_allocator]
static ALLOC: mesh_harness::alloc::CountingAlloc = mesh_harness::alloc::CountingAlloc;

/// With `--features dhat-heap`: dhat's allocator instead, to attribute what the heap holds
/// (writes `<out>/dhat-heap.json` at the end of the run, or once `--dhat-at-cycle` churn cycles
/// are done; the heap column is then empty).
#[cfg(feature = "dhat-heap")]
#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// The running dhat profiler; dropping it writes its profile.
#[cfg(feature = "dhat-heap")]
static PROFILER: std::sync::Mutex<Option<dhat::Profiler>> = std::sync::Mutex::new(None);

/// Soak run: real nodes churning on loopback, memory and structure sizes over time.
///
/// Set RUST_LOG (e.g. RUST_LOG=warn) to see the nodes' logs on stderr.
#[derive(Debug, Parser)]
struct Args {
    /// Short-lived peers to churn through (one churn cycle each).
    #[arg(long, default_value_t = ScenarioConfig::default().cycles)]
    cycles: usize,
    /// Stop starting new peers after this many seconds of churn (settled pauses not counted).
    /// The default lets the fork do all 600 cycles, so that the heap is judged between cycles
    /// 300 and 600, after the bounded structures have filled (see docs/soak.md); 120 gives a
    /// quick look whose heap verdict is dominated by that filling.
    #[arg(long, default_value_t = DEFAULT_DURATION_SECS)]
    duration: u64,
    /// Short-lived peers alive at the same time.
    #[arg(long, default_value_t = ScenarioConfig::default().concurrency)]
    concurrency: usize,
    /// Size of the topic set.
    #[arg(long, default_value_t = ScenarioConfig::default().topics)]
    topics: usize,
    /// Long-lived witness peers besides the hub.
    #[arg(long, default_value_t = ScenarioConfig::default().witnesses)]
    witnesses: usize,
    /// Seed of the scenario's random choices.
    #[arg(long, default_value_t = ScenarioConfig::default().seed)]
    seed: u64,
    /// Directory for the CSV, table and chart.
    #[arg(long, default_value = "soak-out")]
    out: PathBuf,
    /// Name of this run in files, table and chart (default: "fork", or "upstream" when built
    /// without the `patched` feature).
    #[arg(long)]
    label: Option<String>,
    /// CSV of another run (e.g. upstream's) to show side by side in the table and chart.
    #[arg(long)]
    compare_with: Option<PathBuf>,
    /// Label of the compared run.
    #[arg(long, default_value = "upstream")]
    compare_label: String,
    /// How long the hub and witnesses remember a departed peer (fork only): `short` (10 s), so
    /// that the heap is judged on what they keep for good, or `default` (the fork's 30 min, as
    /// a user who sets nothing runs it), so that every departed peer is still remembered at the
    /// settled samples and the heap is judged per remembered peer (limit 2 KiB).
    #[arg(long, value_enum, default_value_t = PeerTtl::Short)]
    peer_ttl: PeerTtl,
    /// Highest acceptable heap growth per churn cycle over the second half, in bytes (default:
    /// 4096 with the short peer TTL, 2048 with the default one).
    #[arg(long)]
    heap_slope_limit: Option<f64>,
    /// Highest acceptable growth of live heap blocks per churn cycle over the second half.
    #[arg(long, default_value_t = Criteria::default().heap_blocks_per_cycle)]
    heap_blocks_limit: f64,
    /// Seconds churn stops at least, at half time and again at the end; a pause then goes on
    /// until the heap has stopped falling (at most 30 s more) and ends with a settled sample
    /// whose heap is compared (0: no pauses, the heap is judged by its fitted slope only). It
    /// must outlast QUIC's 30 s timeouts.
    #[arg(long, default_value_t = 40)]
    settled_pause: u64,
    /// Lowest acceptable share of gossip messages delivered to the long-lived nodes.
    #[arg(long, default_value_t = 0.99)]
    min_delivery: f64,
    /// Serve `/metrics` (Prometheus) and `/health` (JSON) on this loopback address while the
    /// soak runs, e.g. 127.0.0.1:9464.
    #[arg(long)]
    metrics_addr: Option<SocketAddr>,
    /// Share of a bound above which `/health` reports `degraded`.
    #[arg(long, default_value_t = ops::DEFAULT_DEGRADED_FRACTION)]
    degraded_fraction: f64,
    /// Never fail on verdicts (for measuring upstream, which is expected to fail them).
    #[arg(long)]
    report_only: bool,
    /// Write the dhat profile at the first quiet sample (between waves) once this many churn
    /// cycles are done, while every node is still running: its "t-end" figures are then what
    /// the long-lived nodes hold. Two runs with the same seed stopped at different cycles
    /// attribute the growth between them to call sites (`scripts/dhat-diff`).
    #[cfg(feature = "dhat-heap")]
    #[arg(long)]
    dhat_at_cycle: Option<u64>,
    /// With `--dhat-at-cycle`: write the profile at the first *settled* sample from that cycle
    /// on instead (see `--settled-pause`), free of departed peers' transient state.
    #[cfg(feature = "dhat-heap")]
    #[arg(long)]
    dhat_settled: bool,
}

fn main() -> ExitCode {
    // Heap figures must not include anyhow's captured backtraces.
    // SAFETY: single-threaded here, before the runtime starts.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    let args = Args::parse();
    // The nodes' logs, only when asked for (`RUST_LOG=warn`, ...): a default run installs no
    // subscriber, so logging costs its heap figures nothing.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    #[cfg(feature = "dhat-heap")]
    {
        let _ = std::fs::create_dir_all(&args.out);
        *PROFILER.lock().unwrap() = Some(
            dhat::Profiler::builder()
                .file_name(args.out.join("dhat-heap.json"))
                .build(),
        );
    }
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
        .and_then(|rt| rt.block_on(soak(args)));
    #[cfg(feature = "dhat-heap")]
    drop(PROFILER.lock().unwrap().take());
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("mesh-soak: {err:#}");
            ExitCode::from(2)
        }
    }
}

async fn soak(args: Args) -> Result<bool> {
    let label = args
        .label
        .clone()
        .unwrap_or_else(|| compat::BUILD_LABEL.to_owned());
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let scenario = ScenarioConfig {
        seed: args.seed,
        cycles: args.cycles,
        duration: Some(Duration::from_secs(args.duration)),
        concurrency: args.concurrency,
        topics: args.topics,
        witnesses: args.witnesses,
        peer_ttl: args.peer_ttl,
        ..ScenarioConfig::default()
    };
    eprintln!(
        "mesh-soak [{label}]: {} cycles at most, {} s at most, {} at a time, {} topics, {} witnesses, seed {}, {:?} peer TTL",
        scenario.cycles, args.duration, scenario.concurrency, scenario.topics, scenario.witnesses, scenario.seed, scenario.peer_ttl
    );
    let bar = ProgressBar::new(scenario.cycles as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} cycles  {msg}")?
            .progress_chars("=> "),
    );
    let ops = match args.metrics_addr {
        Some(addr) => {
            let state = Arc::new(OpsState::new(args.degraded_fraction));
            let (local, _task) = ops::serve(addr, state.clone()).await?;
            eprintln!("mesh-soak [{label}]: metrics on http://{local}/metrics, health on http://{local}/health");
            Some(state)
        }
        None => None,
    };
    let options = RunOptions {
        scenario,
        settled_pause: (args.settled_pause > 0).then(|| Duration::from_secs(args.settled_pause)),
        ..RunOptions::default()
    };
    let mut last_line = Duration::ZERO;
    let outcome = run(options, |sample| {
        if let Some(ops) = &ops {
            ops.publish(sample);
        }
        bar.set_position(sample.cycles);
        #[cfg(feature = "dhat-heap")]
        if sample.quiet
            && (sample.settled || !args.dhat_settled)
            && args.dhat_at_cycle.is_some_and(|at| sample.cycles >= at)
        {
            if let Some(profiler) = PROFILER.lock().unwrap().take() {
                drop(profiler);
                eprintln!(
                    "mesh-soak [{label}]: dhat profile written at cycle {}",
                    sample.cycles
                );
            }
        }
        let peers = sample
            .structures
            .iter()
            .find(|r| r.name == "p2panda_net.address_book.peers")
            .map_or(0, |r| r.value);
        let line = format!(
            "heap {:.1} MiB in {} blocks  rss {:.1} MiB  tasks {}  book {}",
            sample.heap_bytes as f64 / 1048576.0,
            sample.heap_blocks.unwrap_or(0),
            sample.rss_bytes as f64 / 1048576.0,
            sample.tasks,
            peers
        );
        // Without a terminal the bar is hidden: print a plain line every ten seconds instead.
        if bar.is_hidden() && sample.elapsed >= last_line + Duration::from_secs(10) {
            last_line = sample.elapsed;
            eprintln!(
                "mesh-soak [{label}]: {:>4.0} s  {}/{} cycles  {line}",
                sample.elapsed.as_secs_f64(),
                sample.cycles,
                bar.length().unwrap_or(0)
            );
        }
        bar.set_message(line);
    })
    .await?;
    bar.finish();

    let csv = args.out.join(format!("{label}.csv"));
    report::write_csv(&csv, &outcome.samples)?;
    let base = match args.peer_ttl {
        PeerTtl::Short => Criteria::default(),
        PeerTtl::Default => Criteria::remembering_peers(),
    };
    let criteria = Criteria {
        heap_bytes_per_cycle: args.heap_slope_limit.unwrap_or(base.heap_bytes_per_cycle),
        heap_blocks_per_cycle: args.heap_blocks_limit,
        ..base
    };
    let ours = report::summarize(&outcome.samples, &criteria);
    let other = match &args.compare_with {
        Some(path) => Some(report::read_csv(path)?),
        None => None,
    };
    let theirs = other.as_ref().map(|s| report::summarize(s, &criteria));
    let mut runs: Vec<(&str, &[report::Summary])> = vec![(&label, &ours)];
    if let Some(theirs) = &theirs {
        runs.push((&args.compare_label, theirs));
    }
    let table = report::table(&runs);
    let delivery = &outcome.delivery;
    let per_node = delivery.expected / (1 + args.witnesses as u64);
    let witnesses: Vec<String> = delivery
        .delivered_to_witnesses
        .iter()
        .map(|delivered| format!("{delivered}/{per_node}"))
        .collect();
    let summary = format!(
        "{table}\n{label}: {} churn cycles; gossip delivered to long-lived nodes {}/{} ({:.2}%; hub {}/{per_node}, witnesses {}), {} join timeouts, {} operations synced to the hub, {} stalled peers, {} samples with the hub unresponsive, {} witness checks unanswered; the harness's own sample history ({} samples, {:.1} KiB at the end) is left out of process.heap_bytes\n",
        outcome.cycles,
        delivery.delivered,
        delivery.expected,
        delivery.ratio() * 100.0,
        delivery.delivered_to_hub,
        witnesses.join(" "),
        delivery.join_timeouts,
        delivery.synced_operations,
        delivery.peer_stalls,
        delivery.hub_unresponsive,
        delivery.witness_unresponsive,
        outcome.samples.len(),
        outcome.history_bytes as f64 / 1024.0,
    );
    let summary = match report::heap_per_remembered_peer(&outcome.samples) {
        Some(bytes) if args.peer_ttl == PeerTtl::Default => format!(
            "{summary}{label}: heap per departed peer still remembered: {bytes:.0} B (hub and witnesses together, between the settled samples)\n"
        ),
        _ => summary,
    };
    let missed = report::missed_table(&delivery.missed);
    let summary = if missed.is_empty() {
        summary
    } else {
        format!(
            "{summary}\n{label}: {} published messages did not reach every long-lived node:\n\n{missed}",
            delivery.missed.len()
        )
    };
    println!("{summary}");
    std::fs::write(args.out.join(format!("{label}-table.md")), &summary)?;

    let chart = args.out.join("soak.svg");
    let mut series: Vec<(&str, &[probe::Sample])> = vec![(&label, &outcome.samples)];
    if let Some(other) = &other {
        series.push((&args.compare_label, other));
    }
    report::write_chart(&chart, &series)?;
    println!("samples: {}\nchart:   {}", csv.display(), chart.display());

    let failed: Vec<&str> = ours
        .iter()
        .filter(|s| s.verdict.fails())
        .map(|s| s.name.as_str())
        .collect();
    let delivery_ok = delivery.ratio() >= args.min_delivery
        && delivery.peer_stalls == 0
        && delivery.hub_unresponsive == 0
        && delivery.witness_unresponsive == 0;
    if !failed.is_empty() {
        eprintln!(
            "mesh-soak [{label}]: failing figures: {}",
            failed.join(", ")
        );
    }
    if !delivery_ok {
        eprintln!(
            "mesh-soak [{label}]: delivery {:.2}% (at least {:.2}% needed), {} stalled peers, {} samples with the hub unresponsive, {} witness checks unanswered",
            delivery.ratio() * 100.0,
            args.min_delivery * 100.0,
            delivery.peer_stalls,
            delivery.hub_unresponsive,
            delivery.witness_unresponsive
        );
    }
    Ok(args.report_only || (failed.is_empty() && delivery_ok))
}
