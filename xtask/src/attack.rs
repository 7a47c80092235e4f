//! `cargo xtask attack`: the attack suite (docs/attacks.md) against unpatched upstream and against
//! our forks, one attack at a time, with the table of both in `attack-out/attacks.md`.
//!
//! Upstream is the soak's generated workspace (`target/soak-baseline/`, see [`crate::soak`]): the
//! integration crate without its `patched` feature and with no `[patch]` section.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::pins::cargo;
use crate::repo_root;
use crate::series::{self, Fork};
use crate::soak::baseline_workspace;

/// Options of `cargo xtask attack`.
#[derive(clap::Args)]
pub struct AttackArgs {
    /// Only run the forks (no upstream run, no side by side).
    #[arg(long, conflicts_with = "only_baseline")]
    no_baseline: bool,
    /// Only run unpatched upstream.
    #[arg(long)]
    only_baseline: bool,
    /// Use the materialised forks as they are instead of applying the series first.
    #[arg(long)]
    no_apply: bool,
    /// Directory for the CSVs and tables.
    #[arg(long, default_value = "attack-out")]
    out: PathBuf,
    /// Arguments for both runs of `mesh-attack` (after `--`), e.g. `-- --attack fresh-keys`.
    #[arg(last = true)]
    attack: Vec<String>,
}

/// `cargo xtask attack` (after `needs::for_soak` is satisfied).
pub fn attack(forks: &[Fork], args: &AttackArgs) -> Result<()> {
    let root = repo_root();
    if !args.no_apply {
        for fork in forks {
            series::apply(fork)?;
        }
    }
    let out = root.join(&args.out);
    fs::create_dir_all(&out)?;
    if !args.no_baseline {
        run_upstream(&root, &out, args)?;
    }
    if args.only_baseline {
        return Ok(());
    }
    run_fork(&root, &out, args)
}

/// `cargo run --release` of `mesh-attack` from `root`, with backtraces off: capturing them
/// costs heap.
fn mesh_attack(root: &Path) -> Command {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root)
        .env("RUST_LIB_BACKTRACE", "0")
        .env_remove("RUST_BACKTRACE")
        .args(["run", "--release", "--quiet"]);
    cmd
}

fn run_upstream(root: &Path, out: &Path, args: &AttackArgs) -> Result<()> {
    let dir = baseline_workspace(root)?;
    let mut cmd = mesh_attack(root);
    cmd.arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .args(["--no-default-features", "--bin", "mesh-attack", "--"])
        .args(["--label", "upstream", "--report-only", "--out"])
        .arg(out)
        .args(&args.attack);
    eprintln!("xtask: attack suite against unpatched upstream (release build)");
    let status = cmd.status().context("starting the upstream attack run")?;
    if !status.success() {
        bail!("the upstream attack run failed to run ({status})");
    }
    Ok(())
}

fn run_fork(root: &Path, out: &Path, args: &AttackArgs) -> Result<()> {
    let mut cmd = mesh_attack(root);
    cmd.args([
        "--locked",
        "-p",
        "mesh-harness",
        "--bin",
        "mesh-attack",
        "--",
    ])
    .args(["--label", "fork", "--out"])
    .arg(out);
    let upstream = out.join("upstream.csv");
    if upstream.exists() && !args.no_baseline {
        cmd.arg("--compare-with").arg(&upstream);
    }
    cmd.args(&args.attack);
    eprintln!("xtask: attack suite against our forks (release build)");
    let status = cmd.status().context("starting the fork's attack run")?;
    if !status.success() {
        bail!(
            "the attack run against our forks failed a verdict or did not run ({status}; see {})",
            out.join("attacks.md").display()
        );
    }
    Ok(())
}
