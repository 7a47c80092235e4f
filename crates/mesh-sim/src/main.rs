//! `mesh-sim`: runs a preset matrix (or one setting) of simulated meshes and writes the report
//! (see docs/simulation.md). `cargo xtask sim` builds it in release mode and runs it.

use std::fs;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use n0_future::time::Duration;

use mesh_sim::netmodel::{LossMode, Partition, Preset};
use mesh_sim::outcome::RunOutcome;
use mesh_sim::presets::{self, Knobs, Matrix};
use mesh_sim::{chart, report, verdict};

#[derive(Parser)]
#[command(
    name = "mesh-sim",
    about = "iroh-gossip's protocol, fork and upstream, simulated"
)]
struct Args {
    /// Which runs: small (CI check), scale (100/1,000/10,000 peers x mixes), loss (1,000 peers x
    /// mixes x 0/1/5% loss), state (state against peers ever met), one (the flags below).
    #[arg(long, default_value = "small")]
    preset: Matrix,
    /// Peers up at any time (`one` only; a comma-separated list runs each).
    #[arg(long, value_delimiter = ',', default_value = "100")]
    peers: Vec<usize>,
    /// Fork peers in percent (`one` only; a comma-separated list runs each).
    #[arg(long, value_delimiter = ',', default_value = "0,50,100")]
    mix: Vec<f64>,
    /// Fork peers pass recent messages on to new neighbours (the fork's catch-up, off by
    /// default as in upstream).
    #[arg(long)]
    fork_catch_up: bool,
    /// Latency preset: lan, continental, intercontinental.
    #[arg(long, default_value = "continental")]
    net: Preset,
    /// Packet loss in percent (varied by the loss preset).
    #[arg(long, default_value_t = 1.0)]
    loss: f64,
    /// What a lost packet does: stream (retransmitted, as on QUIC) or drop (the message is gone).
    #[arg(long, default_value = "stream")]
    loss_mode: LossMode,
    /// Peers that churn, in percent.
    #[arg(long, default_value_t = 20.0)]
    churn: f64,
    /// Mean lifetime of a churning peer, in seconds.
    #[arg(long, default_value_t = 30.0)]
    lifetime: f64,
    /// Broadcasts measured.
    #[arg(long, default_value_t = 20)]
    broadcasts: usize,
    /// Seconds of churn only after the measured phase.
    #[arg(long, default_value_t = 0.0)]
    tail: f64,
    /// A partition: START,DURATION,SHARE (seconds, seconds, share of peers cut off).
    #[arg(long, value_delimiter = ',')]
    partition: Option<Vec<f64>>,
    /// Seeds; each run is repeated per seed.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    seeds: Vec<u64>,
    /// Where the report goes.
    #[arg(long, default_value = "sim-out")]
    out: PathBuf,
    /// Exit non-zero if a verdict fails.
    #[arg(long)]
    check: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runs = plan(&args)?;
    let outcomes = run_all(&runs);
    write_report(&args, &outcomes)
}

/// The knobs of every run, for every seed.
fn plan(args: &Args) -> Result<Vec<Knobs>> {
    let partition = match args.partition.as_deref() {
        None => None,
        Some([start, duration, share]) => Some(Partition {
            start: Duration::from_secs_f64(*start),
            duration: Duration::from_secs_f64(*duration),
            share: *share,
        }),
        Some(_) => bail!("--partition takes START,DURATION,SHARE"),
    };
    let mut all = Vec::new();
    for seed in &args.seeds {
        let base = Knobs {
            net: args.net,
            fork_catch_up: args.fork_catch_up,
            loss: args.loss / 100.0,
            loss_mode: args.loss_mode,
            churn: args.churn / 100.0,
            lifetime: Duration::from_secs_f64(args.lifetime),
            broadcasts: args.broadcasts,
            tail: Duration::from_secs_f64(args.tail),
            partition,
            seed: *seed,
            ..Knobs::default()
        };
        if args.preset == Matrix::One {
            for peers in &args.peers {
                for mix in &args.mix {
                    all.push(Knobs {
                        peers: *peers,
                        fork_share: mix / 100.0,
                        ..base.clone()
                    });
                }
            }
        } else {
            all.extend(presets::runs(args.preset, &base));
        }
    }
    Ok(all)
}

/// Runs each in turn behind one progress bar over the simulated time of all of them.
fn run_all(runs: &[Knobs]) -> Vec<RunOutcome> {
    let scenarios: Vec<_> = runs.iter().map(presets::scenario).collect();
    let total: u64 = scenarios
        .iter()
        .map(|s| s.end().as_millis() as u64 * s.peers as u64)
        .sum();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {percent}% eta {eta} {msg}")
            .expect("a valid template"),
    );
    let mut done = 0u64;
    let mut outcomes = Vec::new();
    for sc in &scenarios {
        bar.set_message(format!(
            "{} peers, {:.0}% fork, {}, {}% loss, seed {}",
            sc.peers,
            100.0 * sc.fork_share,
            sc.net.preset,
            100.0 * sc.net.loss,
            sc.net.seed
        ));
        let weight = sc.peers as u64;
        let outcome = mesh_sim::run(sc, |t| {
            bar.set_position(done + t.as_millis() as u64 * weight);
        });
        done += sc.end().as_millis() as u64 * weight;
        bar.set_position(done);
        let line = format!(
            "{} peers, {:.0}% fork, seed {}: {:.1} s",
            sc.peers,
            100.0 * sc.fork_share,
            sc.net.seed,
            outcome.wall.as_secs_f64()
        );
        if bar.is_hidden() {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
        outcomes.push(outcome);
    }
    bar.finish_and_clear();
    outcomes
}

/// Prints the table and verdicts and writes them, the CSVs and the charts to `--out`.
fn write_report(args: &Args, outcomes: &[RunOutcome]) -> Result<()> {
    let dir = &args.out;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let table = report::table(outcomes);
    let verdicts = report::verdicts(outcomes);
    println!("{table}\n{verdicts}");
    fs::write(dir.join("table.md"), format!("{table}\n{verdicts}"))?;
    report::write_runs_csv(&dir.join("runs.csv"), outcomes)?;
    report::write_state_csv(&dir.join("state.csv"), outcomes)?;
    chart::write_state_chart(&dir.join("state.svg"), outcomes)?;
    chart::write_mix_chart(&dir.join("mix.svg"), outcomes)?;
    println!(
        "wrote {0}/table.md, runs.csv, state.csv, state.svg, mix.svg",
        dir.display()
    );
    if args.check {
        check(outcomes)?;
    }
    Ok(())
}

/// Fails if a fork's state grows, an upstream peer fares worse in a mixed mesh, or a message
/// could not be decoded.
fn check(outcomes: &[RunOutcome]) -> Result<()> {
    let mut failures = Vec::new();
    for r in outcomes {
        if r.decode_errors > 0 {
            failures.push(format!("{} undecodable messages", r.decode_errors));
        }
        if let Some(g) = verdict::growth(r, mesh_sim::node::Build::Fork) {
            if !g.bounded() {
                failures.push(format!(
                    "fork state grows {:.2}x to {} references in {}",
                    g.ratio(),
                    g.entries.1,
                    verdict::setting(r)
                ));
            }
        }
    }
    for c in verdict::mix_checks(outcomes) {
        if !c.passes() {
            failures.push(format!(
                "upstream peers fare worse at {:.0}% fork in {}",
                100.0 * c.fork_share,
                c.setting
            ));
        }
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("; "));
    }
    Ok(())
}
