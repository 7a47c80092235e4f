//! The project's jobs: the full test run and the drop-in API check.
//!
//! Cargo itself runs here, on the host network, because it needs the package registry; every
//! binary it runs (tests, benches) goes through the target runner `scripts/netns-run`, which puts
//! it in a private network namespace with only `lo`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::pins::cargo;
use crate::series::{self, Fork};
use crate::{repo_root, soak};

/// Options of `cargo xtask test`.
#[derive(clap::Args)]
pub struct TestArgs {
    /// Skip the drop-in API check (cargo-semver-checks), e.g. for a quick local run.
    #[arg(long)]
    pub no_semver: bool,
    /// Extra arguments for `cargo nextest run` (after `--`), e.g. a filter.
    #[arg(last = true)]
    nextest: Vec<String>,
}

#[derive(Deserialize)]
struct Skips {
    #[serde(default)]
    skip: Vec<Skip>,
    #[serde(default)]
    lab_host: Vec<Skip>,
}

/// An upstream test that cannot pass in the loopback-only namespace, with the reason
/// (upstream-test-skips.toml): under `[[skip]]` if it cannot pass here at all, under
/// `[[lab_host]]` if it passes in a lab host (scripts/lab-host), where `cargo xtask test` runs it.
#[derive(Deserialize)]
struct Skip {
    package: String,
    test: String,
    reason: String,
}

fn read_skips() -> Result<Skips> {
    let path = repo_root().join("upstream-test-skips.toml");
    toml::from_str(&fs::read_to_string(&path)?)
        .with_context(|| format!("parsing {}", path.display()))
}

/// The nextest filter that leaves out every listed upstream test, by exact name.
fn skip_filter() -> Result<Option<String>> {
    let path = repo_root().join("upstream-test-skips.toml");
    let skips = read_skips()?;
    let mut terms = Vec::new();
    for s in skips.skip.iter().chain(&skips.lab_host) {
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

/// Runs one step, printing what it is and, once it passed, how long it took: CI's log then
/// shows which step spends the run's time budget.
fn run(cmd: &mut Command, what: &str) -> Result<()> {
    eprintln!("xtask: {what}");
    let started = Instant::now();
    let status = cmd.status().with_context(|| format!("starting: {what}"))?;
    if !status.success() {
        bail!("failed: {what} ({status})");
    }
    eprintln!("xtask: took {} s", started.elapsed().as_secs());
    Ok(())
}

/// `cargo xtask test` (after `needs::for_test` is satisfied): apply and check the series and
/// the index, lint, build outside the namespace, run every test inside it, the tests that need a
/// real interface in a lab host and the lab's short matrix, then the drop-in API check.
pub fn test(forks: &[Fork], args: &TestArgs) -> Result<()> {
    let root = repo_root();
    for fork in forks {
        series::baseline(fork, &root)?;
        series::apply(fork)?;
    }
    crate::patch_check(forks)?;
    tool_tests(&root)?;
    lint(&root)?;
    check_upstream_side(&root)?;
    nextest(&root, args)?;
    lab_host_tests(&root)?;
    let lab = Instant::now();
    crate::lab::short_matrix()?;
    eprintln!(
        "xtask: the lab's short matrix took {} s",
        lab.elapsed().as_secs()
    );
    if !args.no_semver {
        semver(forks, None)?;
    }
    Ok(())
}

/// The upstream tests that need a real interface (`[[lab_host]]` in upstream-test-skips.toml),
/// each run alone in a lab host: a namespace on a bridge, inside the outer namespace of
/// scripts/lab-run. They run the unit-test binaries nextest built.
fn lab_host_tests(root: &Path) -> Result<()> {
    let tests = read_skips()?.lab_host;
    if tests.is_empty() {
        return Ok(());
    }
    let binaries = unit_test_binaries(root)?;
    for t in tests {
        let binary = binaries
            .get(&t.package)
            .with_context(|| format!("nextest lists no unit-test binary of {}", t.package))?;
        run(
            Command::new(root.join("scripts/lab-run"))
                .current_dir(root)
                .arg(root.join("scripts/lab-host"))
                .arg(binary)
                .args(["--exact", &t.test]),
            &format!("{} {} in a lab host", t.package, t.test),
        )?;
    }
    Ok(())
}

/// Every package's unit-test binary, as nextest lists the workspace (its own build, reused).
fn unit_test_binaries(root: &Path) -> Result<BTreeMap<String, PathBuf>> {
    let out = Command::new(cargo())
        .current_dir(root)
        .args(["nextest", "list", "--workspace", "--locked"])
        .args(["--message-format", "json"])
        .output()
        .context("starting cargo nextest list")?;
    if !out.status.success() {
        bail!("cargo nextest list failed");
    }
    let list: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("reading nextest's test list")?;
    let suites = list["rust-suites"]
        .as_object()
        .context("nextest's test list has no rust-suites")?;
    Ok(suites
        .iter()
        .filter(|(_, suite)| suite["kind"] == "lib")
        .filter_map(|(name, suite)| {
            let path = suite["binary-path"].as_str()?;
            Some((name.clone(), PathBuf::from(path)))
        })
        .collect())
}

fn tool_tests(root: &Path) -> Result<()> {
    run(
        Command::new(cargo()).current_dir(root).args([
            "test",
            "--quiet",
            "--manifest-path",
            "xtask/Cargo.toml",
            "--target-dir",
            "target/xtask-build",
        ]),
        "the tool's own tests (checksums, patch series, index generator)",
    )
}

/// Builds what the soak and the lab build against unpatched upstream: the harness without its
/// `patched` feature, in the soak's generated workspace without `[patch]`. Only the soak and the
/// lab run that side, so without this it could stop compiling unseen. A debug build, which the
/// short lab matrix then runs.
fn check_upstream_side(root: &Path) -> Result<()> {
    let dir = soak::baseline_workspace(root)?;
    run(
        Command::new(cargo())
            .current_dir(root)
            .args(["build", "--quiet", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .args(["--no-default-features", "--lib", "--bins"]),
        "build of the harness against unpatched upstream (the soak's and the lab's upstream side)",
    )
}

fn nextest(root: &Path, args: &TestArgs) -> Result<()> {
    let mut nextest = Command::new(cargo());
    nextest
        .current_dir(root)
        .args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ])
        // Heap figures in tests must not include anyhow's captured backtraces.
        .env("RUST_LIB_BACKTRACE", "0");
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
    )
}

/// Our own packages (everything under `crates/` and `tests/`), by name: the forks are
/// upstream's code in upstream's style and are not linted.
fn own_packages(root: &Path) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Manifest {
        package: Package,
    }
    #[derive(Deserialize)]
    struct Package {
        name: String,
    }
    let mut names = Vec::new();
    for group in ["crates", "tests"] {
        for entry in fs::read_dir(root.join(group))? {
            let manifest = entry?.path().join("Cargo.toml");
            if manifest.is_file() {
                let parsed: Manifest = toml::from_str(&fs::read_to_string(&manifest)?)
                    .with_context(|| format!("parsing {}", manifest.display()))?;
                names.push(parsed.package.name);
            }
        }
    }
    names.sort();
    Ok(names)
}

/// `cargo fmt --check` and `cargo clippy -D warnings` over our own packages and the tool.
fn lint(root: &Path) -> Result<()> {
    let packages = own_packages(root)?;
    let selected: Vec<String> = packages.iter().map(|p| format!("--package={p}")).collect();
    run(
        Command::new(cargo())
            .current_dir(root)
            .args(["fmt", "--check"])
            .args(&selected),
        "cargo fmt --check on our packages",
    )?;
    run(
        Command::new(cargo()).current_dir(root).args([
            "fmt",
            "--check",
            "--manifest-path",
            "xtask/Cargo.toml",
        ]),
        "cargo fmt --check on the tool",
    )?;
    run(
        Command::new(cargo())
            .current_dir(root)
            // --no-deps: the forks are workspace members too, and not ours to lint.
            .args([
                "clippy",
                "--quiet",
                "--locked",
                "--no-deps",
                "--all-targets",
            ])
            .args(&selected)
            .args(["--", "-D", "warnings"]),
        &format!("cargo clippy -D warnings on {}", packages.join(", ")),
    )?;
    run(
        Command::new(cargo()).current_dir(root).args([
            "clippy",
            "--quiet",
            "--manifest-path",
            "xtask/Cargo.toml",
            "--target-dir",
            "target/xtask-build",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        "cargo clippy -D warnings on the tool",
    )?;
    Ok(())
}

/// Writes `<dir>/.cargo/config.toml` with a `[patch.crates-io]` entry for every fork but `except`.
fn write_patch_config(dir: &Path, forks: &[Fork], except: &str) -> Result<()> {
    let mut entries = toml_edit::Table::new();
    for other in forks.iter().filter(|f| f.pin.name != except) {
        let mut dependency = toml_edit::InlineTable::new();
        dependency.insert("path", other.tree.display().to_string().into());
        entries.insert(&other.pin.name, toml_edit::value(dependency));
    }
    let mut patch = toml_edit::Table::new();
    patch.set_implicit(true);
    patch.insert("crates-io", toml_edit::Item::Table(entries));
    let mut config = toml_edit::DocumentMut::new();
    config.insert("patch", toml_edit::Item::Table(patch));
    let cargo_dir = dir.join(".cargo");
    fs::create_dir_all(&cargo_dir)?;
    fs::write(
        cargo_dir.join("config.toml"),
        format!(
            "# Written by `cargo xtask semver` before each check; see xtask/src/jobs.rs.\n{config}"
        ),
    )?;
    Ok(())
}

/// `cargo xtask semver`: every fork with patches keeps its upstream public API.
pub fn semver(forks: &[Fork], only: Option<&str>) -> Result<()> {
    let root = repo_root();
    for fork in forks {
        if only.is_some_and(|o| o != fork.pin.name)
            || (only.is_none() && fork.patches()?.is_empty())
        {
            continue;
        }
        // By manifest path: cargo-semver-checks looks for packages while honouring .gitignore,
        // and the materialised forks are git-ignored. It builds both versions in placeholder
        // projects under its target dir, outside this workspace and its [patch]: a cargo config
        // there patches every *other* fork in, so both sides build as a controller would have
        // them (upstream p2panda-discovery 0.4.0 does not compile with today's socket2, and the
        // p2panda-net fork needs the iroh-gossip fork), while the crate under check comes from
        // crates.io on the baseline side and from its fork on the current side.
        let target = root.join("target/semver-checks");
        write_patch_config(&target, forks, &fork.pin.name)?;
        let manifest = fork.tree.join("Cargo.toml");
        run(
            // Cargo finds configs from the working directory up: run inside the target dir.
            Command::new(cargo())
                .current_dir(&target)
                .env("CARGO_TARGET_DIR", &target)
                .arg("semver-checks")
                .arg("check-release")
                .arg("--manifest-path")
                .arg(&manifest)
                .args(["--baseline-version", &fork.pin.version])
                // Every feature is checked by default; the quinn crates' `aws-lc-rs-fips` needs
                // aws-lc-fips-sys, which needs Go and CMake to build: check their default
                // features (what iroh and quinn use) there.
                .args(if fork.pin.name.contains("quinn") {
                    &["--default-features"][..]
                } else {
                    &[][..]
                }),
            &format!(
                "drop-in API check of {} against crates.io {}",
                fork.pin.name, fork.pin.version
            ),
        )?;
    }
    Ok(())
}
