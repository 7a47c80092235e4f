//! A harness binary run twice with the same arguments: against unpatched upstream (the soak's
//! generated workspace, [`crate::soak::baseline_workspace`]) and against our forks, the fork's run
//! reading upstream's CSV to show both side by side. `cargo xtask soak` and `cargo xtask attack`
//! are this, with their own binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::pins::cargo;
use crate::repo_root;
use crate::series::{self, Fork};
use crate::soak::baseline_workspace;

/// Which builds run, and whether the series is applied first.
#[derive(clap::Args)]
pub struct Builds {
    /// Only run the forks (no upstream run, no side by side).
    #[arg(long, conflicts_with = "only_baseline")]
    pub no_baseline: bool,
    /// Only run unpatched upstream.
    #[arg(long)]
    pub only_baseline: bool,
    /// Use the materialised forks as they are (e.g. while editing a patch) instead of applying
    /// the series first.
    #[arg(long)]
    pub no_apply: bool,
}

/// One job: the harness binary `bin` (e.g. `mesh-soak`), named `job` in messages (e.g. "soak
/// run"), writing to `out` (relative to the repository) with `extra` arguments for both runs.
pub struct Job<'a> {
    pub bin: &'a str,
    pub job: &'a str,
    pub out: &'a Path,
    pub extra: &'a [String],
}

/// Applies the series (unless `--no-apply`), then runs the job on upstream and on the forks as
/// `builds` says. Fails when a run does not run, or when the fork's run fails its verdicts.
pub fn run(forks: &[Fork], builds: &Builds, job: &Job<'_>) -> Result<()> {
    let root = repo_root();
    if !builds.no_apply {
        for fork in forks {
            series::apply(fork)?;
        }
    }
    let out = root.join(job.out);
    fs::create_dir_all(&out)?;
    if !builds.no_baseline {
        run_upstream(&root, &out, job)?;
    }
    if builds.only_baseline {
        return Ok(());
    }
    run_fork(&root, &out, builds, job)
}

/// `cargo run --release` from `root`, with backtraces off: capturing them costs heap.
fn cargo_run(root: &Path) -> Command {
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root)
        .env("RUST_LIB_BACKTRACE", "0")
        .env_remove("RUST_BACKTRACE")
        .args(["run", "--release", "--quiet"]);
    cmd
}

fn run_upstream(root: &Path, out: &Path, job: &Job<'_>) -> Result<()> {
    let dir = baseline_workspace(root)?;
    let mut cmd = cargo_run(root);
    cmd.arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .args(["--no-default-features", "--bin", job.bin, "--"])
        .args(["--label", "upstream", "--report-only", "--out"])
        .arg(out)
        .args(job.extra);
    eprintln!(
        "xtask: {} against unpatched upstream (release build)",
        job.job
    );
    let status = cmd.status().context("starting the upstream run")?;
    if !status.success() {
        bail!(
            "the {} against unpatched upstream failed to run ({status})",
            job.job
        );
    }
    Ok(())
}

fn run_fork(root: &Path, out: &Path, builds: &Builds, job: &Job<'_>) -> Result<()> {
    let mut cmd = cargo_run(root);
    cmd.args(["--locked", "-p", "mesh-harness", "--bin", job.bin, "--"])
        .args(["--label", "fork", "--out"])
        .arg(out);
    let upstream_csv: PathBuf = out.join("upstream.csv");
    if upstream_csv.exists() && !builds.no_baseline {
        cmd.arg("--compare-with").arg(&upstream_csv);
    }
    cmd.args(job.extra);
    eprintln!("xtask: {} against our forks (release build)", job.job);
    let status = cmd.status().context("starting the fork's run")?;
    if !status.success() {
        bail!(
            "the {} against our forks failed its verdicts or did not run ({status}; see the table above and {})",
            job.job,
            out.display()
        );
    }
    Ok(())
}
