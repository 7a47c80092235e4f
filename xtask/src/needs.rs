//! What the jobs need on this machine, checked before anything is built.
//!
//! As root, missing tools are installed: Debian packages with `scripts/apt-install-no-start`
//! (apt-get, with no service started: the `prometheus` package ships a server, the tests only
//! need its promtool), cargo tools with `cargo install --locked`, toolchain components with
//! rustup. Otherwise the job stops and prints the commands that install them, so a fresh machine
//! never spends half an hour building for a test run that cannot pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Result};

use crate::pins::cargo;
use crate::repo_root;

/// Where a missing tool comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A Debian package, installed with `scripts/apt-install-no-start`.
    Apt(&'static str),
    /// A crate with a binary, installed with `cargo install --locked`.
    Cargo(&'static str),
    /// A toolchain component, added with `rustup component add`.
    Rustup(&'static str),
}

/// How to tell whether a tool is there.
#[derive(Clone, Copy)]
enum Probe {
    /// An executable of the tool's name on `PATH`.
    OnPath,
    /// `cargo <subcommand> --version` succeeds.
    CargoSubcommand(&'static str),
}

/// A tool a job needs.
pub struct Need {
    /// The tool's name.
    pub tool: &'static str,
    /// What the job uses it for.
    pub used_for: &'static str,
    probe: Probe,
    /// Where it comes from.
    pub source: Source,
}

const GIT: Need = Need {
    tool: "git",
    used_for: "materialising the forks",
    probe: Probe::OnPath,
    source: Source::Apt("git"),
};
const UNSHARE: Need = Need {
    tool: "unshare",
    used_for: "the private network namespace every test and node runs in (scripts/netns-run)",
    probe: Probe::OnPath,
    source: Source::Apt("util-linux"),
};
const IP: Need = Need {
    tool: "ip",
    used_for: "bringing `lo` up inside that namespace",
    probe: Probe::OnPath,
    source: Source::Apt("iproute2"),
};
const PROMTOOL: Need = Need {
    tool: "promtool",
    used_for: "checking the alert rules and the /metrics exposition (tests/operator)",
    probe: Probe::OnPath,
    source: Source::Apt("prometheus"),
};
const NEXTEST: Need = Need {
    tool: "cargo-nextest",
    used_for: "running the tests",
    probe: Probe::CargoSubcommand("nextest"),
    source: Source::Cargo("cargo-nextest"),
};
const SEMVER_CHECKS: Need = Need {
    tool: "cargo-semver-checks",
    used_for: "the drop-in API check (skipped with --no-semver)",
    probe: Probe::CargoSubcommand("semver-checks"),
    source: Source::Cargo("cargo-semver-checks"),
};
const RUSTFMT: Need = Need {
    tool: "rustfmt",
    used_for: "linting our packages (cargo fmt --check)",
    probe: Probe::CargoSubcommand("fmt"),
    source: Source::Rustup("rustfmt"),
};
const CLIPPY: Need = Need {
    tool: "clippy",
    used_for: "linting our packages (cargo clippy)",
    probe: Probe::CargoSubcommand("clippy"),
    source: Source::Rustup("clippy"),
};

/// What `cargo xtask test` needs; `semver`: with the drop-in API check.
pub fn for_test(semver: bool) -> Vec<&'static Need> {
    let mut needs = vec![&GIT, &UNSHARE, &IP, &PROMTOOL, &NEXTEST, &RUSTFMT, &CLIPPY];
    if semver {
        needs.push(&SEMVER_CHECKS);
    }
    needs
}

/// What `cargo xtask soak` needs.
pub fn for_soak() -> Vec<&'static Need> {
    vec![&GIT, &UNSHARE, &IP]
}

/// What `cargo xtask lab` needs (`ip` and `tc` both come with iproute2).
pub fn for_lab() -> Vec<&'static Need> {
    vec![&GIT, &UNSHARE, &IP]
}

/// What `cargo xtask semver` needs.
pub fn for_semver() -> Vec<&'static Need> {
    vec![&SEMVER_CHECKS]
}

/// Makes sure every need is there: installs what is missing as root, otherwise fails with the
/// commands that install it. `job` names the command for the messages.
pub fn ensure(job: &str, needs: &[&'static Need]) -> Result<()> {
    let missing: Vec<&Need> = needs.iter().copied().filter(|n| !n.present()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let off_path: Vec<String> = missing.iter().filter_map(|n| n.off_path_hint()).collect();
    if !off_path.is_empty() {
        bail!("{job}: {}", off_path.join("; "));
    }
    if !is_root() {
        bail!("{}", refusal(job, &missing, &repo_root()));
    }
    install(&missing)?;
    let still: Vec<&str> = missing
        .iter()
        .filter(|n| !n.present())
        .map(|n| n.tool)
        .collect();
    if !still.is_empty() {
        bail!(
            "{job}: still missing after installing: {}",
            still.join(", ")
        );
    }
    Ok(())
}

impl Need {
    fn present(&self) -> bool {
        match self.probe {
            Probe::OnPath => on_path(self.tool).is_some(),
            Probe::CargoSubcommand(sub) => Command::new(cargo())
                .args([sub, "--version"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        }
    }

    /// A tool that is installed but not on `PATH` (Debian keeps `ip` in /usr/sbin, which is not
    /// on an ordinary user's PATH): installing cannot help, the PATH has to change.
    fn off_path_hint(&self) -> Option<String> {
        if !matches!(self.probe, Probe::OnPath) {
            return None;
        }
        ["/usr/sbin", "/sbin"]
            .iter()
            .map(|dir| Path::new(dir).join(self.tool))
            .find(|p| is_executable(p))
            .map(|p| {
                let dir = p.parent().unwrap_or(Path::new("/")).display();
                format!(
                    "{} is {}, which is not on PATH: add {dir} to PATH",
                    self.tool,
                    p.display()
                )
            })
    }
}

/// The message for a user who cannot install: what is missing, why, and the commands.
fn refusal(job: &str, missing: &[&Need], root: &Path) -> String {
    let mut text = format!("{job} needs tools this machine does not have:\n");
    for need in missing {
        text.push_str(&format!("  {:<20} {}\n", need.tool, need.used_for));
    }
    text.push_str("Install them with:\n");
    for command in install_commands(missing, root) {
        let sudo = if command[0].ends_with(APT_SCRIPT) {
            "sudo "
        } else {
            ""
        };
        text.push_str(&format!("  {sudo}{}\n", command.join(" ")));
    }
    text.push_str(&format!(
        "and run {job} again (as root it installs them itself)."
    ));
    text
}

/// Installs Debian packages without starting the services they ship.
const APT_SCRIPT: &str = "scripts/apt-install-no-start";

/// The commands that install `missing`, one per installer, in the order of `missing`; `root` is
/// the repository root.
fn install_commands(missing: &[&Need], root: &Path) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = Vec::new();
    for need in missing {
        let (installer, name) = need.source.installer(root);
        match commands.iter_mut().find(|c| c.starts_with(&installer)) {
            Some(command) if command.iter().any(|w| w == name) => {}
            Some(command) => command.push(name.to_string()),
            None => commands.push([installer, vec![name.to_string()]].concat()),
        }
    }
    commands
}

impl Source {
    /// The command that installs from this source (without the name), and the name.
    fn installer(self, root: &Path) -> (Vec<String>, &'static str) {
        match self {
            Source::Apt(package) => (vec![root.join(APT_SCRIPT).display().to_string()], package),
            Source::Cargo(krate) => (words("cargo install --locked"), krate),
            Source::Rustup(component) => (words("rustup component add"), component),
        }
    }
}

fn words(command: &str) -> Vec<String> {
    command.split(' ').map(str::to_string).collect()
}

/// Runs the install commands (as root).
fn install(missing: &[&Need]) -> Result<()> {
    for command in install_commands(missing, &repo_root()) {
        eprintln!("xtask: installing: {}", command.join(" "));
        let program = if command[0] == "cargo" {
            cargo()
        } else {
            command[0].clone()
        };
        let status = Command::new(program).args(&command[1..]).status();
        if !status.is_ok_and(|s| s.success()) {
            bail!("installing failed: {}", command.join(" "));
        }
    }
    Ok(())
}

/// Whether this process runs as root (effective uid 0, from /proc/self/status).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let uids = status.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            Some(uids.split_whitespace().nth(2)? == "0")
        })
        .unwrap_or(false)
}

/// The executable `tool` on `PATH`, if any.
fn on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_who_cannot_install_gets_one_command_per_installer() {
        let missing = [&PROMTOOL, &IP, &NEXTEST, &SEMVER_CHECKS, &CLIPPY];
        let text = refusal("cargo xtask test", &missing, Path::new("/repo"));
        assert!(
            text.contains("  sudo /repo/scripts/apt-install-no-start prometheus iproute2\n"),
            "{text}"
        );
        assert!(
            text.contains("  cargo install --locked cargo-nextest cargo-semver-checks\n"),
            "{text}"
        );
        assert!(text.contains("  rustup component add clippy\n"), "{text}");
        assert!(text.contains("promtool"), "{text}");
    }

    #[test]
    fn the_test_job_asks_for_semver_checks_only_with_the_drop_in_check() {
        let tools = |semver| -> Vec<&str> { for_test(semver).iter().map(|n| n.tool).collect() };
        assert!(tools(true).contains(&"cargo-semver-checks"));
        assert!(!tools(false).contains(&"cargo-semver-checks"));
        assert!(tools(false).contains(&"promtool") && tools(false).contains(&"unshare"));
    }

    #[test]
    fn finds_a_tool_on_path() {
        assert!(on_path("sh").is_some());
        assert!(on_path("no-such-tool-mesh-patches").is_none());
    }
}
