//! The patch series: `series/<crate>/NNNN-*.patch`, applied in order onto the pristine package.
//!
//! A materialised fork is a git repository of its own (git-ignored by ours): one commit tagged
//! `upstream` holding the pristine package, then one commit per patch, and a tag `applied` where
//! the series as last applied or saved ends. So:
//! - *unsaved work* is anything in the working tree or in commits after `applied`;
//! - `save` turns the commits after `upstream` into patch files with `git format-patch`;
//! - `check` rebuilds pristine + series in a scratch directory and compares file by file.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::git;
use crate::header::{self, Header};
use crate::pins::{self, Pin};

/// A pinned package, where its fork lives and where its series is kept.
pub struct Fork {
    /// The pin.
    pub pin: Pin,
    /// The `.crate` file in cargo's cache (verified before every use).
    pub crate_file: PathBuf,
    /// The materialised tree.
    pub tree: PathBuf,
    /// The directory of its patch files.
    pub series_dir: PathBuf,
}

impl Fork {
    /// The patch files, in order.
    pub fn patches(&self) -> Result<Vec<PathBuf>> {
        let mut patches: Vec<PathBuf> = match fs::read_dir(&self.series_dir) {
            Ok(dir) => dir
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "patch"))
                .collect(),
            Err(_) => Vec::new(),
        };
        patches.sort();
        Ok(patches)
    }

    /// A digest of the series as it is on disk, to know whether a tree is up to date.
    fn series_digest(&self) -> Result<String> {
        let mut all = Vec::new();
        for p in self.patches()? {
            all.extend_from_slice(p.file_name().unwrap().as_encoded_bytes());
            all.extend_from_slice(&fs::read(&p)?);
        }
        Ok(format!("{}\n{}", self.pin.sha256, pins::sha256_bytes(&all)))
    }

    fn stamp(&self) -> PathBuf {
        self.tree.join(".git").join("mesh-series-digest")
    }
}

/// Unpacks the pristine package into `dest` and applies `patches` in order.
pub fn materialise(fork: &Fork, dest: &Path, patches: &[PathBuf]) -> Result<()> {
    pins::unpack(&fork.pin, &fork.crate_file, dest)?;
    git::init_pristine(
        dest,
        &format!(
            "upstream {} (crates.io, sha256 {})",
            fork.pin.id(),
            fork.pin.sha256
        ),
    )?;
    for patch in patches {
        let abs = fs::canonicalize(patch)?;
        let abs = abs.to_str().context("non-UTF-8 path")?;
        if let Err(err) = git::run(
            dest,
            &[
                "am",
                "-q",
                "--committer-date-is-author-date",
                "--whitespace=nowarn",
                abs,
            ],
        ) {
            let _ = git::run(dest, &["am", "--abort"]);
            bail!(
                "{} does not apply to {}:\n{err:#}",
                patch.display(),
                fork.pin.id()
            );
        }
    }
    git::run(dest, &["tag", "-f", "applied"])?;
    Ok(())
}

/// Files in the fork that are not saved into the series: working-tree changes, untracked files
/// and commits made after the series was last applied or saved.
pub fn unsaved(tree: &Path) -> Result<Vec<String>> {
    let mut files = BTreeSet::new();
    for line in git::run(tree, &["status", "--porcelain", "--untracked-files=all"])?.lines() {
        if line.len() > 3 {
            files.insert(line[3..].to_string());
        }
    }
    for line in git::run(tree, &["diff", "--name-only", "applied", "HEAD"])?.lines() {
        files.insert(line.to_string());
    }
    Ok(files.into_iter().collect())
}

/// Materialises the fork at its place; idempotent; refuses to overwrite unsaved work.
pub fn apply(fork: &Fork) -> Result<&'static str> {
    let digest = fork.series_digest()?;
    if fork.tree.exists() {
        if !fork.tree.join(".git").exists() {
            bail!(
                "{} exists but is not a materialised fork (no .git): move it away",
                fork.tree.display()
            );
        }
        let dirty = unsaved(&fork.tree)?;
        if !dirty.is_empty() {
            bail!(
                "{} has unsaved edits; refusing to overwrite them. Save them into the series first \
                 (cargo xtask patch save --crate {} ...), or discard them deliberately.\n  {}",
                fork.tree.display(),
                fork.pin.name,
                dirty.join("\n  ")
            );
        }
        if fs::read_to_string(fork.stamp()).ok().as_deref() == Some(digest.as_str()) {
            return Ok("up to date");
        }
        fs::remove_dir_all(&fork.tree)?;
    }
    materialise(fork, &fork.tree, &fork.patches()?)?;
    fs::write(fork.stamp(), digest)?;
    Ok("materialised")
}

/// Unpacks the pristine package as `<name>-baseline` under `patch/baseline/<name>`, unless it is
/// already there: benches and the side-by-side soak link it next to the fork, so that upstream
/// and patched code are measured in one run. (Two path packages may not share a name and version
/// in one lock file, hence the rename; the library keeps its crate name.)
pub fn baseline(fork: &Fork, root: &Path) -> Result<PathBuf> {
    let dest = root.join("patch/baseline").join(&fork.pin.name);
    let stamp = dest.join(".mesh-baseline-sha256");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(fork.pin.sha256.as_str()) {
        return Ok(dest);
    }
    if dest.exists() {
        fs::remove_dir_all(&dest)?;
    }
    pins::unpack(&fork.pin, &fork.crate_file, &dest)?;
    rename_package(
        &dest.join("Cargo.toml"),
        &format!("{}-baseline", fork.pin.name),
    )?;
    fs::write(stamp, &fork.pin.sha256)?;
    Ok(dest)
}

/// Sets `[package] name` in a manifest, leaving the rest of it as it is.
fn rename_package(manifest: &Path, name: &str) -> Result<()> {
    let mut doc: toml_edit::DocumentMut = fs::read_to_string(manifest)?
        .parse()
        .with_context(|| format!("parsing {}", manifest.display()))?;
    let package = doc
        .get_mut("package")
        .and_then(toml_edit::Item::as_table_like_mut)
        .with_context(|| format!("{}: no [package]", manifest.display()))?;
    if package.insert("name", toml_edit::value(name)).is_none() {
        bail!("{}: [package] has no name", manifest.display());
    }
    fs::write(manifest, doc.to_string())?;
    Ok(())
}

/// How a `save` takes uncommitted edits into the series.
pub enum Take<'a> {
    /// Only export commits already made inside the fork; refuse uncommitted edits.
    CommitsOnly,
    /// Export the commits made inside the fork and leave uncommitted edits where they are (for
    /// two people working on one fork: each commits their own files and exports).
    CommitsKeepingEdits,
    /// Commit the edits as a new patch whose header is in this file.
    New(&'a Path),
    /// Fold the edits into patch number N (1-based, as in its file name).
    Into(usize),
}

/// Regenerates `series/<crate>/` from the fork's commits.
pub fn save(fork: &Fork, take: Take<'_>) -> Result<usize> {
    take_edits(fork, take)?;
    let count = export_commits(fork)?;
    git::run(&fork.tree, &["tag", "-f", "applied"])?;
    fs::write(fork.stamp(), fork.series_digest()?)?;
    Ok(count)
}

/// Turns the fork's uncommitted edits into commits as `take` says, or refuses them.
fn take_edits(fork: &Fork, take: Take<'_>) -> Result<()> {
    let tree = &fork.tree;
    let dirty = !git::run(tree, &["status", "--porcelain", "--untracked-files=all"])?
        .trim()
        .is_empty();
    match (dirty, take) {
        (false, _) => Ok(()),
        (true, Take::CommitsKeepingEdits) => {
            eprintln!(
                "xtask: {} has uncommitted edits; exporting its commits only and leaving the edits",
                tree.display()
            );
            Ok(())
        }
        (true, Take::CommitsOnly) => bail!(
            "{} has uncommitted edits. Say where they go: `--message-file F` makes them a new patch \
             (F holds its header), `--into N` folds them into patch N; or commit them inside the fork.",
            tree.display()
        ),
        (true, Take::New(message)) => commit_as_new_patch(tree, message),
        (true, Take::Into(n)) => fold_into_patch(fork, n),
    }
}

fn commit_as_new_patch(tree: &Path, message: &Path) -> Result<()> {
    let msg = fs::canonicalize(message)?;
    git::run(tree, &["add", "-A"])?;
    git::run(
        tree,
        &[
            "commit",
            "-q",
            "--no-verify",
            "-F",
            msg.to_str().context("path")?,
        ],
    )?;
    Ok(())
}

/// Folds the uncommitted edits into patch `n` (1-based) with git's fixup and autosquash.
fn fold_into_patch(fork: &Fork, n: usize) -> Result<()> {
    let tree = &fork.tree;
    let commits = git::run(tree, &["rev-list", "--reverse", "upstream..HEAD"])?;
    let target = commits
        .lines()
        .nth(n.checked_sub(1).context("patches are numbered from 1")?)
        .with_context(|| format!("{} has no patch number {n}", fork.pin.name))?
        .to_string();
    git::run(tree, &["add", "-A"])?;
    git::run(
        tree,
        &["commit", "-q", "--no-verify", &format!("--fixup={target}")],
    )?;
    let env = [("GIT_SEQUENCE_EDITOR", "true"), ("GIT_EDITOR", "true")];
    let rebase = ["rebase", "-q", "-i", "--autosquash", "upstream"];
    if let Err(err) = git::run_env(tree, &rebase, &env) {
        let _ = git::run(tree, &["rebase", "--abort"]);
        bail!("folding the edits into patch {n} conflicts with a later patch: {err:#}");
    }
    Ok(())
}

/// Replaces `series/<crate>/` with one patch file per commit after `upstream`.
fn export_commits(fork: &Fork) -> Result<usize> {
    for old in fork.patches()? {
        fs::remove_file(old)?;
    }
    let count = git::run(&fork.tree, &["rev-list", "--count", "upstream..HEAD"])?
        .trim()
        .parse::<usize>()?;
    if count > 0 {
        fs::create_dir_all(&fork.series_dir)?;
        let out = fork.series_dir.to_str().context("path")?;
        git::run(
            &fork.tree,
            &[
                "format-patch",
                "-q",
                "-N",
                "--zero-commit",
                "--no-signature",
                "--full-index",
                "-o",
                out,
                "upstream..HEAD",
            ],
        )?;
    } else if fork.series_dir.exists() && fs::read_dir(&fork.series_dir)?.next().is_none() {
        fs::remove_dir(&fork.series_dir)?;
    }
    Ok(count)
}

/// What `check` found for one fork.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Problems found; empty means the fork is consistent.
    pub problems: Vec<String>,
}

/// Checks that the series applies to pristine, that every patch has its header, and that the
/// materialised tree (if any) equals pristine + series.
pub fn check(fork: &Fork, scratch: &Path) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let patches = fork.patches()?;
    for patch in &patches {
        let header = Header::parse(&fs::read_to_string(patch)?);
        if header.subject.is_empty() {
            report
                .problems
                .push(format!("{}: header lacks a subject", patch.display()));
        }
        for field in header::FIELDS.iter().filter(|f| header.field(f).is_none()) {
            report
                .problems
                .push(format!("{}: header lacks `{field}:`", patch.display()));
        }
    }
    if scratch.exists() {
        fs::remove_dir_all(scratch)?;
    }
    if let Err(err) = materialise(fork, scratch, &patches) {
        report.problems.push(format!("{err:#}"));
        return Ok(report);
    }
    if fork.tree.exists() {
        for file in differing_files(scratch, &fork.tree)? {
            report.problems.push(format!(
                "{}: differs from pristine + series (unsaved edit?)",
                fork.tree.join(file).display()
            ));
        }
    }
    fs::remove_dir_all(scratch)?;
    Ok(report)
}

/// Relative paths of files that differ between two trees (ignoring `.git`).
pub fn differing_files(a: &Path, b: &Path) -> Result<Vec<String>> {
    let fa = list_files(a)?;
    let fb = list_files(b)?;
    let mut out = Vec::new();
    for rel in fa.union(&fb) {
        let (pa, pb) = (a.join(rel), b.join(rel));
        let same = match (fs::read(&pa), fs::read(&pb)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        };
        if !same {
            out.push(rel.clone());
        }
    }
    Ok(out)
}

fn list_files(root: &Path) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root)?.to_string_lossy().into_owned();
                out.insert(rel);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pins::tests::{make_crate, pin_for};

    const HEADER: &str = "Add added()\n\nProblem: p\nCause: c\nFix: f\nTest: t\n\
                          Upstream-Status: not yet forwarded\n";

    fn fork_in(dir: &Path, tree: &str) -> Fork {
        let file = dir.join("demo-1.0.0.crate");
        if !file.exists() {
            make_crate(dir, "demo", "1.0.0", None);
        }
        Fork {
            pin: pin_for(&file),
            crate_file: file,
            tree: dir.join(tree),
            series_dir: dir.join("series"),
        }
    }

    #[test]
    fn an_unsaved_edit_is_named_refused_and_then_saved_as_a_patch() {
        let tmp = tempfile::tempdir().unwrap();
        let fork = fork_in(tmp.path(), "tree");
        let scratch = tmp.path().join("scratch");
        assert_eq!(apply(&fork).unwrap(), "materialised");
        assert_eq!(apply(&fork).unwrap(), "up to date");
        assert!(check(&fork, &scratch).unwrap().problems.is_empty());

        fs::write(
            fork.tree.join("src/lib.rs"),
            "pub fn hello() {}\npub fn added() {}\n",
        )
        .unwrap();
        let problems = check(&fork, &scratch).unwrap().problems.join("\n");
        assert!(problems.contains("src/lib.rs"), "{problems}");
        let refused = apply(&fork).unwrap_err().to_string();
        assert!(refused.contains("src/lib.rs"), "{refused}");
        assert!(save(&fork, Take::CommitsOnly).is_err());

        let header = tmp.path().join("header.txt");
        fs::write(&header, HEADER).unwrap();
        assert_eq!(save(&fork, Take::New(&header)).unwrap(), 1);
        assert!(check(&fork, &scratch).unwrap().problems.is_empty());
        let patches = fork.patches().unwrap();
        assert_eq!(patches.len(), 1);
        let text = fs::read_to_string(&patches[0]).unwrap();
        assert!(text.contains("+pub fn added() {}") && text.contains("Problem: p"));

        // The series alone reproduces the edit in a fresh tree.
        let again = fork_in(tmp.path(), "tree2");
        apply(&again).unwrap();
        assert!(fs::read_to_string(again.tree.join("src/lib.rs"))
            .unwrap()
            .contains("added"));
    }

    #[test]
    fn keep_edits_exports_commits_and_leaves_edits_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let fork = fork_in(tmp.path(), "tree");
        apply(&fork).unwrap();
        fs::write(fork.tree.join("src/lib.rs"), "pub fn committed() {}\n").unwrap();
        git::run(&fork.tree, &["add", "src/lib.rs"]).unwrap();
        let header = tmp.path().join("header.txt");
        fs::write(&header, HEADER).unwrap();
        git::run(
            &fork.tree,
            &["commit", "-q", "-F", header.to_str().unwrap()],
        )
        .unwrap();
        fs::write(fork.tree.join("src/other.rs"), "// someone else's work\n").unwrap();

        assert_eq!(save(&fork, Take::CommitsKeepingEdits).unwrap(), 1);
        assert!(fork.tree.join("src/other.rs").exists());
        let text = fs::read_to_string(&fork.patches().unwrap()[0]).unwrap();
        assert!(text.contains("+pub fn committed() {}") && !text.contains("other.rs"));
        let problems = check(&fork, &tmp.path().join("scratch"))
            .unwrap()
            .problems
            .join("\n");
        assert!(problems.contains("src/other.rs"), "{problems}");
    }

    #[test]
    fn a_patch_without_its_header_fields_fails_the_check() {
        let tmp = tempfile::tempdir().unwrap();
        let fork = fork_in(tmp.path(), "tree");
        apply(&fork).unwrap();
        fs::write(fork.tree.join("src/lib.rs"), "pub fn bare() {}\n").unwrap();
        let header = tmp.path().join("header.txt");
        fs::write(&header, "Just a subject\n").unwrap();
        save(&fork, Take::New(&header)).unwrap();
        let problems = check(&fork, &tmp.path().join("scratch"))
            .unwrap()
            .problems
            .join("\n");
        assert!(problems.contains("header lacks `Problem:`"), "{problems}");
    }
}
