//! `mesh-soak`: the soak run. Churns short-lived peers through a hub on loopback, samples memory
//! and structure sizes every second, and reports tables, a CSV and a chart.
//!
//! Run it through `cargo xtask soak` (which also builds the upstream side by side), or directly
//! with `cargo run --release -p mesh-harness --bin mesh-soak -- --help`; cargo's runner puts it in
//! a network namespace that has only `lo`. `RUST_LOG` (e.g. `RUST_LOG=warn`) prints the nodes'
//! logs to stderr; without it no log subscriber is installed.

mod args;
mod outputs;
mod progress;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use mesh_harness::driver::run;
use mesh_harness::ops::{self, OpsState};
use mesh_harness::scenario::ScenarioConfig;

use args::Args;
use progress::Progress;

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
pub static PROFILER: std::sync::Mutex<Option<dhat::Profiler>> = std::sync::Mutex::new(None);

fn main() -> ExitCode {
    // Heap figures must not include anyhow's captured backtraces.
    // SAFETY: single-threaded here, before the runtime starts.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    let args = Args::parse();
    if let Err(refused) = mesh_harness::guard::check("mesh-soak") {
        return refused;
    }
    install_log_subscriber();
    #[cfg(feature = "dhat-heap")]
    start_profiler(&args);
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

/// The nodes' logs on stderr, only when asked for (`RUST_LOG=warn`, ...): a default run
/// installs no subscriber, so logging costs its heap figures nothing.
fn install_log_subscriber() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
}

/// Starts the dhat profiler, writing to `<out>/dhat-heap.json`.
#[cfg(feature = "dhat-heap")]
fn start_profiler(args: &Args) {
    let _ = std::fs::create_dir_all(&args.out);
    *PROFILER.lock().unwrap() = Some(
        dhat::Profiler::builder()
            .file_name(args.out.join("dhat-heap.json"))
            .build(),
    );
}

/// Runs the soak and reports it; `Ok(false)` when it fails its criteria (and `--report-only` is
/// not given).
async fn soak(args: Args) -> Result<bool> {
    let label = args.label();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let options = args.run_options();
    announce(&label, &options.scenario, args.duration);
    let ops = serve_ops(&args, &label).await?;
    let mut progress = Progress::new(
        &label,
        options.scenario.cycles,
        ops,
        #[cfg(feature = "dhat-heap")]
        progress::DhatAt {
            cycle: args.dhat_at_cycle,
            settled: args.dhat_settled,
        },
    )?;
    let outcome = run(options, |sample| progress.on_sample(sample)).await?;
    progress.finish();
    let ours = outputs::write(&args, &label, &outcome)?;
    let passed = outputs::passes(&args, &label, &ours, &outcome.delivery);
    Ok(args.report_only || passed)
}

/// Says what the run will do.
fn announce(label: &str, scenario: &ScenarioConfig, duration_secs: u64) {
    eprintln!(
        "mesh-soak [{label}]: {} cycles at most, {duration_secs} s at most, {} at a time, {} topics, {} witnesses, seed {}, {:?} peer TTL",
        scenario.cycles, scenario.concurrency, scenario.topics, scenario.witnesses, scenario.seed, scenario.peer_ttl
    );
}

/// Serves `/metrics` and `/health` on `--metrics-addr`, if given, for as long as the process
/// runs; returns the state each sample is published to.
async fn serve_ops(args: &Args, label: &str) -> Result<Option<Arc<OpsState>>> {
    let Some(addr) = args.metrics_addr else {
        return Ok(None);
    };
    let state = Arc::new(OpsState::new(args.degraded_fraction));
    let (local, _task) = ops::serve(addr, state.clone()).await?;
    eprintln!(
        "mesh-soak [{label}]: metrics on http://{local}/metrics, health on http://{local}/health"
    );
    Ok(Some(state))
}
