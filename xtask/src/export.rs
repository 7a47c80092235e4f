//! `patch export`: the patched crates, as committed (pristine + series, never unsaved edits),
//! written into another project, with the `[patch.crates-io]` block that patches them in.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

use crate::series::{self, Fork};

/// Exports the forks that have patches (or all with `all`) into `dir` and prints the block.
pub fn export(forks: &[Fork], dir: &Path, root: Option<&Path>, all: bool) -> Result<()> {
    fs::create_dir_all(dir)?;
    let dir = fs::canonicalize(dir)?;
    let root = match root {
        Some(r) => fs::canonicalize(r)?,
        None => dir.parent().context("DIR has no parent")?.to_path_buf(),
    };
    let mut block = String::from("[patch.crates-io]\n");
    for fork in forks {
        let patches = fork.patches()?;
        if patches.is_empty() && !all {
            continue;
        }
        let dest = dir.join(&fork.pin.name);
        if dest.exists() {
            fs::remove_dir_all(&dest)?;
        }
        series::materialise(fork, &dest, &patches)?;
        fs::remove_dir_all(dest.join(".git"))?;
        eprintln!(
            "exported {} with {} patches to {}",
            fork.pin.id(),
            patches.len(),
            dest.display()
        );
        block.push_str(&format!(
            "{} = {{ path = \"{}\" }}\n",
            fork.pin.name,
            relative(&dest, &root).display()
        ));
    }
    println!("{block}");
    Ok(())
}

fn relative(path: &Path, base: &Path) -> PathBuf {
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::relative;
    use std::path::Path;

    #[test]
    fn paths_are_relative_to_the_project_root() {
        assert_eq!(
            relative(Path::new("/a/b/patch/x"), Path::new("/a/b")),
            Path::new("patch/x")
        );
        assert_eq!(
            relative(Path::new("/a/c/x"), Path::new("/a/b")),
            Path::new("../c/x")
        );
    }
}
