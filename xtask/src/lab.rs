//! `cargo xtask lab`: the mixed-mesh lab. Builds `mesh-node` twice, against our forks (this
//! workspace) and against unpatched upstream (the soak's generated workspace), builds the
//! `mesh-lab` driver, and runs it through `scripts/lab-run`, which gives it an outer namespace
//! with no link to the machine's network.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::pins::cargo;
use crate::repo_root;
use crate::soak::baseline_workspace;

/// Options of `cargo xtask lab`.
#[derive(clap::Args)]
pub struct LabArgs {
    /// Debug builds (quicker to build; slower nodes).
    #[arg(long)]
    debug: bool,
    /// Arguments for `mesh-lab` (after `--`), e.g. `-- --matrix short --out lab-out`.
    #[arg(last = true)]
    lab: Vec<String>,
}

/// The builds a lab run needs: where the two node binaries and the driver are.
struct Binaries {
    fork_node: PathBuf,
    upstream_node: PathBuf,
    driver: PathBuf,
}

/// Builds both `mesh-node`s and the driver, with `--release` unless `debug`.
fn build(root: &Path, debug: bool) -> Result<Binaries> {
    let profile = if debug { "debug" } else { "release" };
    let build = |manifest: &Path, packages: &[&str], features: &[&str]| -> Result<()> {
        let mut cmd = Command::new(cargo());
        cmd.current_dir(root)
            .args(["build", "--quiet", "--manifest-path"])
            .arg(manifest)
            .args(packages)
            .args(features);
        if !debug {
            cmd.arg("--release");
        }
        let status = cmd.status().context("starting cargo build")?;
        if !status.success() {
            bail!("building the lab's binaries failed ({status})");
        }
        Ok(())
    };
    eprintln!("xtask: building mesh-node against our forks, and the mesh-lab driver ({profile})");
    // Two builds: `--bin` selects that binary in every package named.
    build(
        &root.join("Cargo.toml"),
        &["-p", "mesh-harness", "--bin", "mesh-node"],
        &[],
    )?;
    build(&root.join("Cargo.toml"), &["-p", "mesh-lab"], &[])?;
    eprintln!("xtask: building mesh-node against unpatched upstream ({profile})");
    let baseline = baseline_workspace(root)?;
    build(
        &baseline.join("Cargo.toml"),
        &["-p", "mesh-harness", "--bin", "mesh-node"],
        &["--no-default-features"],
    )?;
    Ok(Binaries {
        fork_node: root.join("target").join(profile).join("mesh-node"),
        upstream_node: baseline.join("target").join(profile).join("mesh-node"),
        driver: root.join("target").join(profile).join("mesh-lab"),
    })
}

/// What `cargo xtask test` runs of the lab: the reference and the fork hub among upstream peers
/// across a partition (whose steady rounds before and after are the no-fault cell's), each 3
/// times so that the verdicts judge medians, on debug builds: about 4 minutes.
const SHORT_MATRIX: [&str; 8] = [
    "--matrix",
    "short",
    "--fault",
    "partition",
    "--repeat",
    "3",
    "--out",
    "target/lab-short",
];

/// Runs [`SHORT_MATRIX`], as `cargo xtask lab --debug -- <it>` would.
pub fn short_matrix() -> Result<()> {
    run(&LabArgs {
        debug: true,
        lab: SHORT_MATRIX.iter().map(ToString::to_string).collect(),
    })
}

/// Builds and runs the lab: `mesh-lab` with the arguments given, inside `scripts/lab-run`.
pub fn run(args: &LabArgs) -> Result<()> {
    let root = repo_root();
    let bins = build(&root, args.debug)?;
    eprintln!("xtask: running the lab (scripts/lab-run)");
    let status = Command::new(root.join("scripts/lab-run"))
        .current_dir(&root)
        .arg(&bins.driver)
        .arg("--fork-node")
        .arg(&bins.fork_node)
        .arg("--upstream-node")
        .arg(&bins.upstream_node)
        .args(&args.lab)
        .status()
        .context("starting scripts/lab-run")?;
    if !status.success() {
        bail!("the lab failed ({status})");
    }
    Ok(())
}
