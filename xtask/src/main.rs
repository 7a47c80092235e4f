//! `cargo xtask`: the project's own tool.
//!
//! It materialises the forks from the pinned crates.io packages plus our patch series, keeps
//! the series in sync with edits, exports the patched crates to another project, writes the
//! index of FIXME resolutions (docs/fixme-resolutions.md), and runs the project's jobs (tests,
//! soak, attack suite, drop-in API check) once the machine has what they need. Node code never
//! runs in this process: tests and soak binaries go through cargo, whose target runner puts them
//! in a network namespace.

mod attack;
mod both_builds;
mod docs;
mod export;
mod git;
mod header;
mod jobs;
mod lab;
mod needs;
mod pins;
mod resolutions;
mod series;
mod sim;
mod soak;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "mesh-patches: fork workspace tool")]
struct Cli {
    /// The pin manifest to use (default: upstream.toml at the repository root).
    #[arg(long, global = true)]
    upstream: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Work with the patch series.
    #[command(subcommand)]
    Patch(PatchCmd),
    /// Apply the series, build everything, and run every test inside the network namespace.
    Test(jobs::TestArgs),
    /// The main job: churn soak against upstream and our forks, side by side (see README).
    Soak(soak::SoakArgs),
    /// The attack suite: floods and abuse against a hub, fork against upstream (see
    /// docs/attacks.md).
    Attack(attack::AttackArgs),
    /// The mixed-mesh lab: fork and upstream nodes, one process per host (see docs/lab.md).
    Lab(lab::LabArgs),
    /// The protocol simulation: fork and upstream state machines, mixed, at scale (see
    /// docs/simulation.md).
    Sim(sim::SimArgs),
    /// Write docs/fixme-resolutions.md from the patch headers and series/resolutions.toml.
    Docs,
    /// Check that every patched fork keeps upstream's public API (cargo-semver-checks).
    Semver {
        /// Only this package.
        #[arg(long = "crate")]
        krate: Option<String>,
    },
}

#[derive(Subcommand)]
enum PatchCmd {
    /// Materialise every fork from its verified pristine package and its series (idempotent).
    Apply,
    /// Regenerate series/<crate>/ from the commits (and edits) inside the materialised forks.
    Save {
        /// Only this package (required with --message-file or --into).
        #[arg(long = "crate")]
        krate: Option<String>,
        /// Commit the fork's uncommitted edits as a new patch whose header is in this file.
        #[arg(long, conflicts_with = "into")]
        message_file: Option<PathBuf>,
        /// Fold the fork's uncommitted edits into patch number N.
        #[arg(long)]
        into: Option<usize>,
        /// Export the commits made inside the fork and leave its uncommitted edits alone.
        #[arg(long, conflicts_with_all = ["message_file", "into"])]
        keep_edits: bool,
    },
    /// Verify that every series applies to pristine, every materialised tree equals it, and
    /// docs/fixme-resolutions.md is what `cargo xtask docs` writes.
    Check,
    /// Write the patched crates into DIR and print the `[patch.crates-io]` block for them.
    Export {
        /// Directory to write the crates into (e.g. ../mesh-controller/patch).
        dir: PathBuf,
        /// The project root the printed paths are relative to (default: DIR's parent).
        #[arg(long)]
        root: Option<PathBuf>,
        /// Export every pinned crate, also those without patches.
        #[arg(long)]
        all: bool,
    },
}

/// The repository root (the parent of this crate's directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repo")
        .to_path_buf()
}

/// Loads the pins and makes sure their packages are fetched and verified.
pub fn forks(manifest: Option<&Path>) -> Result<Vec<series::Fork>> {
    let root = repo_root();
    let manifest = manifest
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("upstream.toml"));
    let pins = pins::load(&manifest)?;
    let files = pins::fetch(&pins, &root.join("target/xtask"))?;
    Ok(pins
        .into_iter()
        .zip(files)
        .map(|(pin, crate_file)| series::Fork {
            tree: root.join(&pin.dir),
            series_dir: root.join("series").join(&pin.name),
            pin,
            crate_file,
        })
        .collect())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let manifest = cli.upstream.as_deref();
    match cli.command {
        Cmd::Patch(PatchCmd::Apply) => patch_apply(&forks(manifest)?),
        Cmd::Patch(PatchCmd::Save {
            krate,
            message_file,
            into,
            keep_edits,
        }) => {
            let take = match (&message_file, into) {
                (Some(f), _) => series::Take::New(f),
                (None, Some(n)) => series::Take::Into(n),
                (None, None) if keep_edits => series::Take::CommitsKeepingEdits,
                (None, None) => series::Take::CommitsOnly,
            };
            patch_save(&forks(manifest)?, krate.as_deref(), take)
        }
        Cmd::Patch(PatchCmd::Check) => patch_check(&forks(manifest)?),
        Cmd::Patch(PatchCmd::Export { dir, root, all }) => {
            export::export(&forks(manifest)?, &dir, root.as_deref(), all)
        }
        Cmd::Test(args) => {
            needs::ensure("cargo xtask test", &needs::for_test(!args.no_semver))?;
            jobs::test(&forks(manifest)?, &args)
        }
        Cmd::Soak(args) => {
            needs::ensure("cargo xtask soak", &needs::for_soak())?;
            soak::soak(&forks(manifest)?, &args)
        }
        Cmd::Attack(args) => {
            needs::ensure("cargo xtask attack", &needs::for_soak())?;
            attack::attack(&forks(manifest)?, &args)
        }
        Cmd::Lab(args) => {
            needs::ensure("cargo xtask lab", &needs::for_lab())?;
            lab::run(&args)
        }
        Cmd::Sim(args) => sim::run(&forks(manifest)?, &args),
        Cmd::Docs => docs::write(&forks(manifest)?, &repo_root()),
        Cmd::Semver { krate } => {
            needs::ensure("cargo xtask semver", &needs::for_semver())?;
            jobs::semver(&forks(manifest)?, krate.as_deref())
        }
    }
}

/// `patch apply`: the baseline copies and every fork, materialised.
fn patch_apply(forks: &[series::Fork]) -> Result<()> {
    let root = repo_root();
    for fork in forks {
        series::baseline(fork, &root)?;
        let what = series::apply(fork)?;
        println!(
            "{:<18} {:<8} {} patches  {what}",
            fork.pin.name,
            fork.pin.version,
            fork.patches()?.len()
        );
    }
    Ok(())
}

/// `patch save`: `take` goes to the one fork named (or the first materialised one); every other
/// fork exports its commits only.
fn patch_save(forks: &[series::Fork], krate: Option<&str>, take: series::Take) -> Result<()> {
    let keep_edits = matches!(take, series::Take::CommitsKeepingEdits);
    if matches!(take, series::Take::New(_) | series::Take::Into(_)) && krate.is_none() {
        bail!("--message-file and --into need --crate NAME");
    }
    let mut take = Some(take);
    for fork in forks {
        if krate.is_some_and(|k| k != fork.pin.name) || !fork.tree.exists() {
            continue;
        }
        let this = take.take().unwrap_or(if keep_edits {
            series::Take::CommitsKeepingEdits
        } else {
            series::Take::CommitsOnly
        });
        let n = series::save(fork, this)?;
        let dir = fork.series_dir.display();
        println!("{:<18} {n} patches in {dir}", fork.pin.name);
    }
    Ok(())
}

/// `patch check`: every series, then the index of FIXME resolutions. Also run by
/// `cargo xtask test`.
pub fn patch_check(forks: &[series::Fork]) -> Result<()> {
    let root = repo_root();
    let mut failed = 0;
    for fork in forks {
        let scratch = root.join("target/xtask/check").join(&fork.pin.name);
        let problems = series::check(fork, &scratch)?.problems;
        let state = if fork.tree.exists() {
            ""
        } else {
            " (not materialised)"
        };
        let summary = format!(
            "{:<18} {} patches{state}",
            fork.pin.name,
            fork.patches()?.len()
        );
        failed += usize::from(!report(&summary, &problems));
    }
    let problems = docs::check(forks, &root)?;
    let index = format!("{:<18} {}", "index", docs::PAGE);
    failed += usize::from(!report(&index, &problems));
    if failed > 0 {
        bail!(
            "{failed} of the checks above failed (`cargo xtask patch save` keeps unsaved edits; \
             `cargo xtask docs` rewrites the index)"
        );
    }
    Ok(())
}

/// Prints `ok` or `FAIL` with the problems; true when there are none.
fn report(summary: &str, problems: &[String]) -> bool {
    if problems.is_empty() {
        println!("ok    {summary}");
        return true;
    }
    println!("FAIL  {summary}");
    for p in problems {
        println!("      {p}");
    }
    false
}
