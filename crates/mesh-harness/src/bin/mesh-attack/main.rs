//! `mesh-attack`: the attack suite. For each attack, starts a hub and honest peers on loopback,
//! runs the attacker in a child process, samples the hub before, during and after, and writes a
//! verdict per attack (docs/attacks.md).
//!
//! Run it through `cargo xtask attack` (which also runs it against upstream and puts both side by
//! side), or with `cargo run --release -p mesh-harness --bin mesh-attack -- --help`; cargo's runner
//! puts it in a network namespace that has only `lo`, and the attacker, its child, stays in it.

mod args;
mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use clap::ValueEnum;
use mesh_harness::attack::run::{run_attack, Launcher, RunConfig};
use mesh_harness::attack::summary::{row, Row};
use mesh_harness::attack::target::Target;
use mesh_harness::attack::{attacks, table, Attack, AttackSize};

use args::Args;

#[global_allocator]
static ALLOC: mesh_harness::alloc::CountingAlloc = mesh_harness::alloc::CountingAlloc;

fn main() -> ExitCode {
    // Heap figures must not include anyhow's captured backtraces.
    // SAFETY: single-threaded here, before the runtime starts.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    let args = Args::parse();
    if let Err(refused) = mesh_harness::guard::check("mesh-attack") {
        return refused;
    }
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
        .and_then(|rt| match (args.attacker, &args.target) {
            (Some(attack), Some(target)) => {
                rt.block_on(attacker(attack, target, &args)).map(|()| true)
            }
            _ => rt.block_on(suite(&args)),
        });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("mesh-attack: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// The child: runs `attack` against `target` for the duration and prints its tally as JSON.
async fn attacker(attack: Attack, target: &str, args: &Args) -> Result<()> {
    let target = Target::parse(target)?;
    let duration = args
        .duration
        .map_or(attack.default_duration(), Duration::from_secs);
    let until = tokio::time::Instant::now() + duration;
    let tally = attacks::run(attack, AttackSize::scaled(args.scale), target, until).await?;
    println!("{}", serde_json::to_string(&tally)?);
    Ok(())
}

/// Runs every attack asked for, each in a process of its own (so that one attack's RSS and
/// allocator state do not carry into the next), and writes the files; `Ok(false)` when one
/// failed its verdict.
async fn suite(args: &Args) -> Result<bool> {
    let label = args.label();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let exe = std::env::current_exe().context("finding mesh-attack's own binary")?;
    let attacks = args.attacks();
    let rows = if let [attack] = attacks[..] {
        vec![one(args, &label, attack, &exe).await?]
    } else {
        let mut rows = Vec::new();
        for attack in attacks {
            // A run that fails (a node that does not start, a crash) is a row of its own: the
            // table says so and the suite goes on.
            let row = in_own_process(args, &label, attack, &exe)
                .await
                .unwrap_or_else(|err| Row::failed(attack.name(), &label, &format!("{err:#}")));
            rows.push(row);
        }
        rows
    };
    table::write_rows(&args.out.join(format!("{label}.csv")), &rows)?;
    write_table(args, &label, &rows)?;
    Ok(args.report_only || rows.iter().all(Row::passed))
}

/// Runs `attack` here and writes its samples and its row (`<label>-<attack>.csv`).
async fn one(args: &Args, label: &str, attack: Attack, exe: &Path) -> Result<Row> {
    let launcher = if args.in_process {
        Launcher::InProcess
    } else {
        Launcher::Child(exe.to_owned())
    };
    let config = config(args, attack, launcher);
    let mut progress = progress::Progress::new(label, attack, &config)?;
    let record = run_attack(config, |s| progress.on_sample(s)).await?;
    progress.finish();
    let samples = args
        .out
        .join(format!("{label}-{}-samples.csv", attack.name()));
    table::write_samples(&samples, &record.samples)?;
    let row = row(&record, label);
    eprintln!("mesh-attack [{label}] {}: {}", attack.name(), row.verdict);
    table::write_rows(&row_file(args, label, attack), std::slice::from_ref(&row))?;
    Ok(row)
}

/// Runs `attack` in a new process of this binary and reads its row back.
async fn in_own_process(args: &Args, label: &str, attack: Attack, exe: &Path) -> Result<Row> {
    let mut cmd = tokio::process::Command::new(exe);
    cmd.args(["--attack", attack.name(), "--report-only", "--label", label])
        .arg("--out")
        .arg(&args.out)
        .args([
            "--scale",
            &args.scale.to_string(),
            "--settle",
            &args.settle.to_string(),
        ])
        .arg("--peer-ttl")
        .arg(args.peer_ttl.to_possible_value().expect("named").get_name())
        .stdout(std::process::Stdio::null());
    if let Some(secs) = args.duration {
        cmd.args(["--duration", &secs.to_string()]);
    }
    cmd.args(["--honest-peers", &args.honest_peers.to_string()]);
    if let Some(max) = args.max_peers {
        cmd.args(["--max-peers", &max.to_string()]);
    }
    if args.in_process {
        cmd.arg("--in-process");
    }
    if args.no_catch_up {
        cmd.arg("--no-catch-up");
    }
    let _ = std::fs::remove_file(row_file(args, label, attack));
    let status = cmd.status().await.context("running an attack")?;
    if !status.success() {
        bail!("the {} run exited with {status}", attack.name());
    }
    let rows = table::read_rows(&row_file(args, label, attack))?;
    rows.into_iter()
        .next()
        .context("the attack's run wrote no row")
}

/// Where the run of `attack` writes its row.
fn row_file(args: &Args, label: &str, attack: Attack) -> PathBuf {
    args.out.join(format!("{label}-{}.csv", attack.name()))
}

/// The run's settings for `attack`.
fn config(args: &Args, attack: Attack, launcher: Launcher) -> RunConfig {
    let mut config = RunConfig::new(attack, launcher);
    config.scale = args.scale;
    if let Some(secs) = args.duration {
        config.duration = Duration::from_secs(secs);
    }
    config.settle = Duration::from_secs(args.settle);
    config.settle_max = config.settle + Duration::from_secs(80);
    config.peer_ttl = args.peer_ttl;
    config.max_peers = args.max_peers;
    config.honest_peers = args.honest_peers;
    config.catch_up = !args.no_catch_up;
    config
}

/// Writes `<label>.md`, and with `--compare-with` also `attacks.md` and `attacks.csv` with both
/// runs, attack by attack; prints the table.
fn write_table(args: &Args, label: &str, rows: &[Row]) -> Result<()> {
    let mut all = rows.to_vec();
    if let Some(other) = &args.compare_with {
        let theirs = table::read_rows(other)?;
        all = rows
            .iter()
            .flat_map(|ours| {
                let same = theirs.iter().filter(|t| t.attack == ours.attack).cloned();
                std::iter::once(ours.clone()).chain(same)
            })
            .collect();
        table::write_rows(&args.out.join("attacks.csv"), &all)?;
        std::fs::write(args.out.join("attacks.md"), table::markdown(&all))?;
    }
    let text = table::markdown(rows);
    std::fs::write(args.out.join(format!("{label}.md")), &text)?;
    println!("{}", table::markdown(&all));
    Ok(())
}
