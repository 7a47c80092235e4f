//! `series/resolutions.toml`: what the index of FIXME resolutions needs beyond the patch headers.
//!
//! One entry per patch, named by the patch's file name without its number (`<crate>/<slug>`), so
//! that renumbering a series keeps its entries. An entry gives the patch's kind; a fix also
//! quotes the upstream code it resolves (verbatim, with a `// FIXME(mesh):` comment of ours) and
//! names the metric that shows the problem. Everything else on the page comes from the headers.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::series::Fork;

/// The data file, relative to the repository root.
pub const DATA: &str = "series/resolutions.toml";

/// What a patch is, for the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Fixes a leak or a bug: listed in full, with the upstream code.
    Fix,
    /// Adds a stats API only.
    Stats,
    /// Adds a setting (a builder method) for a behaviour upstream has no knob for.
    Setting,
    /// Adds tests or benchmarks only.
    Test,
    /// Changes no behaviour (lints, style).
    Cleanup,
}

/// One patch's entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// `<crate>/<patch file name without NNNN- and .patch>`.
    pub name: String,
    /// What the patch is.
    pub kind: Kind,
    /// The decisive test, when the header's Test field does not name it first.
    #[serde(default)]
    pub test: Option<String>,
    /// Prometheus names on the harness's `/metrics` that show the problem or the new figures.
    #[serde(default)]
    pub metrics: Vec<String>,
    /// The upstream code a fix resolves.
    #[serde(default)]
    pub fixme: Vec<Quote>,
}

/// Upstream code as a vendored copy would carry it: verbatim lines of one file of the pinned
/// package, with our `// FIXME(mesh): ...` comment (its continuation lines start with `//` at the
/// same indentation) above the line that causes the problem.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quote {
    /// Path inside the package, e.g. `src/net.rs`.
    pub file: String,
    /// The lines.
    pub code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataFile {
    #[serde(default)]
    patch: Vec<Entry>,
}

/// Reads the data file.
pub fn load(path: &Path) -> Result<Vec<Entry>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let data: DataFile =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(data.patch)
}

/// The entry name of a patch file: `<crate>/<file name without NNNN- and .patch>`.
pub fn entry_name(crate_name: &str, patch: &Path) -> String {
    let file = patch.file_name().and_then(|f| f.to_str()).unwrap_or("");
    let file = file.strip_suffix(".patch").unwrap_or(file);
    let slug = match file.split_once('-') {
        Some((number, rest)) if number.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => file,
    };
    format!("{crate_name}/{slug}")
}

/// Entries by name; a name given twice is a problem.
pub fn by_name<'a>(
    entries: &'a [Entry],
    problems: &mut Vec<String>,
) -> BTreeMap<&'a str, &'a Entry> {
    let mut map = BTreeMap::new();
    for entry in entries {
        if map.insert(entry.name.as_str(), entry).is_some() {
            problems.push(format!(
                "{DATA}: `{}` has two entries: keep one",
                entry.name
            ));
        }
    }
    map
}

/// Patches without an entry and entries without a patch, each with what to do about it.
pub fn unmatched(forks: &[Fork], entries: &BTreeMap<&str, &Entry>) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for fork in forks {
        for patch in fork.patches()? {
            names.push((entry_name(&fork.pin.name, &patch), patch));
        }
    }
    let orphans: Vec<&str> = entries
        .keys()
        .copied()
        .filter(|e| !names.iter().any(|(n, _)| n == e))
        .collect();
    let mut problems: Vec<String> = orphans.iter().map(|o| orphan_problem(o)).collect();
    for (name, patch) in names
        .iter()
        .filter(|(n, _)| !entries.contains_key(n.as_str()))
    {
        problems.push(missing_problem(name, patch, &orphans));
    }
    Ok(problems)
}

fn orphan_problem(name: &str) -> String {
    let (krate, slug) = name.split_once('/').unwrap_or(("?", name));
    format!(
        "{DATA}: entry `{name}` names no patch (no series/{krate}/NNNN-{slug}.patch). If the \
         patch was renamed, set `name` to its new file name without the number and `.patch`; if \
         it was squashed into another or dropped, merge the entry into that patch's or delete it"
    )
}

fn missing_problem(name: &str, patch: &Path, orphans: &[&str]) -> String {
    let krate = name.split('/').next().unwrap_or("");
    let renamed: Vec<&str> = orphans
        .iter()
        .copied()
        .filter(|o| o.starts_with(&format!("{krate}/")))
        .collect();
    let hint = if renamed.is_empty() {
        String::new()
    } else {
        format!(
            " (or, if it is a renamed patch, rename `{}`)",
            renamed.join("` or `")
        )
    };
    format!(
        "{}: no entry in {DATA}. Add `[[patch]]` with `name = \"{name}\"` and `kind = \"fix\"` \
         plus a `[[patch.fixme]]` quoting the upstream code, or `kind = \"stats\"`, \
         `\"setting\"`, `\"test\"` or `\"cleanup\"`{hint}",
        patch.display()
    )
}

/// The lines of a quote that must be upstream's (our FIXME comments left out), and the index
/// among them of the first line after the first FIXME comment: the line the FIXME is about.
pub fn upstream_lines(code: &str) -> (Vec<&str>, Option<usize>) {
    let mut kept = Vec::new();
    let mut annotated = None;
    let mut fixme_indent: Option<&str> = None;
    for line in code.trim_matches('\n').lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        if line.trim_start().starts_with("// FIXME(mesh):") {
            fixme_indent = Some(indent);
            annotated.get_or_insert(kept.len());
            continue;
        }
        let continues = fixme_indent == Some(indent) && line.trim_start().starts_with("//");
        if !continues {
            fixme_indent = None;
            kept.push(line);
        }
    }
    (kept, annotated)
}

/// The 1-based line in `source` where `lines` start as a contiguous run (trailing spaces
/// ignored), if they do.
pub fn find_run(source: &str, lines: &[&str]) -> Option<usize> {
    let source: Vec<&str> = source.lines().map(str::trim_end).collect();
    if lines.is_empty() || lines.len() > source.len() {
        return None;
    }
    (0..=source.len() - lines.len())
        .find(|&start| {
            lines
                .iter()
                .zip(&source[start..])
                .all(|(quoted, actual)| quoted.trim_end() == *actual)
        })
        .map(|start| start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "fn a() {\n    // upstream's comment\n    let x = 1;\n    x\n}\n";

    #[test]
    fn a_quote_is_upstream_code_plus_our_fixme() {
        let code = "    // upstream's comment\n    // FIXME(mesh): x only grows;\n    // for ever.\n    let x = 1;\n    x\n";
        let (lines, annotated) = upstream_lines(code);
        assert_eq!(
            lines,
            ["    // upstream's comment", "    let x = 1;", "    x"]
        );
        assert_eq!(annotated, Some(1));
        assert_eq!(find_run(SOURCE, &lines), Some(2));
    }

    #[test]
    fn an_edited_quote_is_not_found() {
        let (lines, _) = upstream_lines("    // FIXME(mesh): y\n    let x = 2;\n");
        assert_eq!(find_run(SOURCE, &lines), None);
    }

    #[test]
    fn entry_names_leave_out_the_number() {
        assert_eq!(
            entry_name("iroh", Path::new("series/iroh/0004-magicsock-forget.patch")),
            "iroh/magicsock-forget"
        );
    }
}
