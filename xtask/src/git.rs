//! A thin wrapper over the `git` command line, used inside materialised forks.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Identity and fixed dates for the commits the tool itself makes, so that materialising the same
/// pins and series twice gives the same trees and the same exported patch files.
const IDENTITY: [(&str, &str); 2] = [
    ("user.name", "mesh-patches"),
    ("user.email", "mesh-patches@localhost"),
];

fn command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir);
    for (key, value) in IDENTITY {
        cmd.arg("-c").arg(format!("{key}={value}"));
    }
    // Never let a user's global hooks, signing or pager settings leak into the series.
    cmd.args([
        "-c",
        "commit.gpgsign=false",
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "core.pager=cat",
    ]);
    cmd.env("GIT_TERMINAL_PROMPT", "0");
    cmd
}

/// Runs git in `dir`, returning stdout; fails with git's stderr.
pub fn run(dir: &Path, args: &[&str]) -> Result<String> {
    run_env(dir, args, &[])
}

/// Like [`run`], with extra environment variables.
pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<String> {
    let mut cmd = command(dir);
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "git {} failed in {}:\n{}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Creates a repository holding `dir` as it is, as one commit tagged `upstream`.
pub fn init_pristine(dir: &Path, message: &str) -> Result<()> {
    run(dir, &["init", "-q", "-b", "main"])?;
    for (key, value) in IDENTITY {
        run(dir, &["config", key, value])?;
    }
    // `-f`: a package may ship a .gitignore that matches files it also ships.
    run(dir, &["add", "-A", "-f"])?;
    let fixed = [
        ("GIT_AUTHOR_DATE", "2000-01-01T00:00:00Z"),
        ("GIT_COMMITTER_DATE", "2000-01-01T00:00:00Z"),
    ];
    run_env(dir, &["commit", "-q", "--no-verify", "-m", message], &fixed)?;
    run(dir, &["tag", "upstream"])?;
    Ok(())
}
