//! `cargo xtask sim`: the protocol simulation (docs/simulation.md). Materialises the forks and
//! the baseline copies (the simulation compiles the fork's iroh-gossip and the pristine upstream
//! sources under patch/), builds `mesh-sim` and runs it with the arguments after `--`. It is pure
//! computation, so it runs on the host, outside any network namespace.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::pins::cargo;
use crate::series::Fork;
use crate::{patch_apply, repo_root};

/// Options of `cargo xtask sim`.
#[derive(clap::Args)]
pub struct SimArgs {
    /// A debug build (quicker to build, far slower to run).
    #[arg(long)]
    debug: bool,
    /// Do not apply the series first.
    #[arg(long)]
    no_apply: bool,
    /// Arguments for `mesh-sim` (after `--`), e.g. `-- --preset scale --seeds 1,2,3`.
    #[arg(last = true)]
    sim: Vec<String>,
}

/// Builds `mesh-sim` (release unless `debug`) and returns its path.
fn build(root: &Path, debug: bool) -> Result<std::path::PathBuf> {
    let profile = if debug { "debug" } else { "release" };
    eprintln!("xtask: building mesh-sim ({profile})");
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root)
        .args(["build", "--quiet", "-p", "mesh-sim", "--bin", "mesh-sim"]);
    if !debug {
        cmd.arg("--release");
    }
    let status = cmd.status().context("starting cargo build")?;
    if !status.success() {
        bail!("building mesh-sim failed ({status})");
    }
    Ok(root.join("target").join(profile).join("mesh-sim"))
}

/// `cargo xtask sim`.
pub fn run(forks: &[Fork], args: &SimArgs) -> Result<()> {
    let root = repo_root();
    if !args.no_apply {
        patch_apply(forks)?;
    }
    let bin = build(&root, args.debug)?;
    let status = Command::new(&bin)
        .current_dir(&root)
        .args(&args.sim)
        .status()
        .with_context(|| format!("starting {}", bin.display()))?;
    if !status.success() {
        bail!("the simulation failed ({status})");
    }
    Ok(())
}
