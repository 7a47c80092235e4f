//! The project's jobs: the full test run and the drop-in API check.
//!
//! Cargo itself runs here, on the host network, because it needs the package registry; every
//! binary it runs (tests, benches) goes through the target runner `scripts/netns-run`, which puts
//! it in a private network namespace with only `lo`.

use std::fs;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::pins::cargo;
use crate::repo_root;
use crate::series::{self, Fork};

/// Options of `cargo xtask test`.
#[derive(clap::Args)]
pub struct TestArgs {
    /// Skip the drop-in API check (cargo-semver-checks), e.g. for a quick local run.
    #[arg(long)]
    no_semver: bool,
    /// Extra arguments for `cargo nextest run` (after `--`), e.g. a filter.
    #[arg(last = true)]
    nextest: Vec<String>,
}

#[derive(Deserialize)]
struct Skips {
    #[serde(default)]
    skip: Vec<Skip>,
}

/// An upstream test that cannot pass here, with the reason (upstream-test-skips.toml).
#[derive(Deserialize)]
struct Skip {
    package: String,
    test: String,
    reason: String,
}

/// The nextest filter that leaves out every listed upstream test, by exact name.
fn skip_filter() -> Result<Option<String>> {
    let path = repo_root().join("upstream-test-skips.toml");
    let skips: Skips = toml::from_str(&fs::read_to_string(&path)?)
        .with_context(|| format!("parsing {}", path.display()))?;
    let mut terms = Vec::new();
    for s in &skips.skip {
        if s.reason.trim().len() < 10 {
            bail!(
                "{}: skip of {} {} needs a real reason",
                path.display(),
                s.package,
                s.test
            );
        }
        terms.push(format!("(package({}) & test(={}))", s.package, s.test));
    }
    if terms.is_empty() {
        return Ok(None);
    }
    eprintln!(
        "xtask: leaving out {} upstream tests listed in upstream-test-skips.toml",
        terms.len()
    );
    Ok(Some(format!("not ({})", terms.join(" | "))))
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    eprintln!("xtask: {what}");
    let status = cmd.status().with_context(|| format!("starting: {what}"))?;
    if !status.success() {
        bail!("failed: {what} ({status})");
    }
    Ok(())
}

/// `cargo xtask test`: apply, build outside the namespace, run every test inside it.
pub fn test(forks: &[Fork], args: &TestArgs) -> Result<()> {
    let root = repo_root();
    for fork in forks {
        series::baseline(fork, &root)?;
        series::apply(fork)?;
    }
    // Heap figures in tests must not include anyhow's captured backtraces.
    let quiet_backtraces = [("RUST_LIB_BACKTRACE", "0")];

    run(
        Command::new(cargo()).current_dir(&root).args([
            "test",
            "--quiet",
            "--manifest-path",
            "xtask/Cargo.toml",
            "--target-dir",
            "target/xtask-build",
        ]),
        "the tool's own tests (checksums, patch series)",
    )?;

    let mut nextest = Command::new(cargo());
    nextest
        .current_dir(&root)
        .args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ])
        .envs(quiet_backtraces);
    if std::env::var_os("CI").is_some() {
        nextest.args(["--profile", "ci"]);
    }
    if let Some(filter) = skip_filter()? {
        nextest.args(["-E", &filter]);
    }
    nextest.args(&args.nextest);
    run(
        &mut nextest,
        "every workspace test, forks' own suites included, inside the network namespace",
    )?;

    if !args.no_semver {
        semver(forks, None)?;
    }
    Ok(())
}

/// `cargo xtask semver`: every fork with patches keeps its upstream public API.
pub fn semver(forks: &[Fork], only: Option<&str>) -> Result<()> {
    let root = repo_root();
    let have = Command::new(cargo())
        .args(["semver-checks", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        run(
            Command::new(cargo()).args(["install", "cargo-semver-checks", "--locked"]),
            "installing cargo-semver-checks (once per machine, several minutes)",
        )?;
    }
    for fork in forks {
        if only.is_some_and(|o| o != fork.pin.name)
            || (only.is_none() && fork.patches()?.is_empty())
        {
            continue;
        }
        run(
            Command::new(cargo()).current_dir(&root).args([
                "semver-checks",
                "check-release",
                "-p",
                &fork.pin.name,
                "--baseline-version",
                &fork.pin.version,
            ]),
            &format!(
                "drop-in API check of {} against crates.io {}",
                fork.pin.name, fork.pin.version
            ),
        )?;
    }
    Ok(())
}
