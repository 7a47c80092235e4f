//! `cargo xtask docs`: docs/fixme-resolutions.md, the reviewer's index of what each fork fixes.
//!
//! The page is generated from the patch headers (subject, Cause, Test) and
//! `series/resolutions.toml` (kind, quoted upstream code, metric), so it cannot drift from the
//! series: `cargo xtask patch check` fails when the committed page is not what this writes, and
//! the quoted code is checked against the pinned package, which also gives its line numbers.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::header::Header;
use crate::pins;
use crate::resolutions::{self, Entry, Kind, Quote, DATA};
use crate::series::Fork;

/// The generated page, relative to the repository root.
pub const PAGE: &str = "docs/fixme-resolutions.md";

/// One fork's part of the page.
struct Section {
    name: String,
    version: String,
    items: Vec<Item>,
}

/// One patch, as the page shows it.
struct Item {
    number: String,
    file_name: String,
    subject: String,
    kind: Kind,
    cause: String,
    test: Option<String>,
    metrics: Vec<String>,
    quotes: Vec<Located>,
}

/// A quote with the line of the package it annotates.
struct Located {
    file: String,
    line: usize,
    code: String,
}

/// Writes the page; refuses while the series and the data file disagree.
pub fn write(forks: &[Fork], root: &Path) -> Result<()> {
    let (page, problems) = generate(forks, root)?;
    if !problems.is_empty() {
        bail!("{PAGE} not written:\n  {}", problems.join("\n  "));
    }
    fs::write(root.join(PAGE), &page)?;
    println!("wrote {PAGE} ({} lines)", page.lines().count());
    Ok(())
}

/// What is wrong with the committed page, the data file or the quotes; empty when nothing is.
pub fn check(forks: &[Fork], root: &Path) -> Result<Vec<String>> {
    let (page, mut problems) = match generate(forks, root) {
        Ok(generated) => generated,
        Err(err) => return Ok(vec![format!("{err:#}")]),
    };
    let committed = fs::read_to_string(root.join(PAGE)).unwrap_or_default();
    if problems.is_empty() && committed != page {
        problems.push(format!(
            "{PAGE} is not what the patch headers and {DATA} give: run `cargo xtask docs` and \
             commit the page (edit the headers or {DATA}, never the page)"
        ));
    }
    Ok(problems)
}

/// The page and the problems found on the way.
fn generate(forks: &[Fork], root: &Path) -> Result<(String, Vec<String>)> {
    let entries = resolutions::load(&root.join(DATA))?;
    let mut problems = Vec::new();
    let by_name = resolutions::by_name(&entries, &mut problems);
    problems.extend(resolutions::unmatched(forks, &by_name)?);
    let mut sections = Vec::new();
    for fork in forks {
        sections.push(section(fork, &by_name, &mut problems)?);
    }
    Ok((render(&sections), problems))
}

fn section(
    fork: &Fork,
    entries: &BTreeMap<&str, &Entry>,
    problems: &mut Vec<String>,
) -> Result<Section> {
    let mut matched: Vec<(PathBuf, &Entry)> = Vec::new();
    for patch in fork.patches()? {
        let name = resolutions::entry_name(&fork.pin.name, &patch);
        // A patch without an entry is reported by `unmatched`.
        if let Some(entry) = entries.get(name.as_str()) {
            matched.push((patch, entry));
        }
    }
    let sources = upstream_sources(fork, matched.iter().map(|(_, e)| *e))?;
    let mut items = Vec::new();
    for (patch, entry) in matched {
        let (item, mut found) = item(fork, &patch, entry, &sources)?;
        problems.append(&mut found);
        items.push(item);
    }
    Ok(Section {
        name: fork.pin.name.clone(),
        version: fork.pin.version.clone(),
        items,
    })
}

/// The package files the entries quote, read from the verified `.crate`.
fn upstream_sources<'a>(
    fork: &Fork,
    entries: impl Iterator<Item = &'a Entry>,
) -> Result<BTreeMap<String, String>> {
    let wanted: BTreeSet<String> = entries
        .flat_map(|e| e.fixme.iter().map(|q| q.file.clone()))
        .collect();
    if wanted.is_empty() {
        return Ok(BTreeMap::new());
    }
    pins::read_files(&fork.pin, &fork.crate_file, &wanted)
}

/// One patch's item and what is wrong with its entry.
fn item(
    fork: &Fork,
    patch: &Path,
    entry: &Entry,
    sources: &BTreeMap<String, String>,
) -> Result<(Item, Vec<String>)> {
    let header = Header::parse(&fs::read_to_string(patch)?);
    let mut problems = Vec::new();
    let test = decisive_test(entry, &header).unwrap_or_else(|p| {
        problems.push(p);
        None
    });
    let mut quotes = Vec::new();
    for quote in &entry.fixme {
        match locate(fork, quote, sources) {
            Ok(located) => quotes.push(located),
            Err(p) => problems.push(p),
        }
    }
    problems.extend(kind_problem(entry));
    let file_name = patch.file_name().and_then(|f| f.to_str()).unwrap_or("");
    let item = Item {
        number: file_name.split('-').next().unwrap_or("").to_string(),
        file_name: file_name.to_string(),
        subject: header.subject.clone(),
        kind: entry.kind,
        cause: header.cause_summary().unwrap_or_default(),
        test,
        metrics: entry.metrics.clone(),
        quotes,
    };
    let problems = problems
        .into_iter()
        .map(|p| format!("{DATA}: `{}`: {p}", entry.name))
        .collect();
    Ok((item, problems))
}

/// A fix quotes upstream code; nothing else does.
fn kind_problem(entry: &Entry) -> Option<String> {
    match (entry.kind, entry.fixme.is_empty()) {
        (Kind::Fix, true) => Some(
            "a fix quotes the upstream code it resolves: add a `[[patch.fixme]]` with `file` and \
             `code`"
                .to_string(),
        ),
        (Kind::Stats | Kind::Setting | Kind::Test | Kind::Cleanup, false) => {
            Some("only `kind = \"fix\"` entries quote upstream code".to_string())
        }
        _ => None,
    }
}

/// The entry's `test` if the header names it, otherwise the first test path of the Test field;
/// only a fix must have one.
fn decisive_test(entry: &Entry, header: &Header) -> Result<Option<String>, String> {
    let Some(test) = &entry.test else {
        return match (header.first_test(), entry.kind) {
            (None, Kind::Fix) => Err("the Test field names no test path (`module::test_name`) \
                                      first: add `test = \"...\"`"
                .to_string()),
            (first, _) => Ok(first),
        };
    };
    if !named_in(test, &header.text) {
        return Err(format!("test `{test}` is not named in the patch header"));
    }
    Ok(Some(test.clone()))
}

/// A test path counts as named when its last segment is in the header (headers may shorten the
/// module path); a phrase when each of its `code spans` is, or, without any, the whole phrase.
fn named_in(test: &str, header: &str) -> bool {
    let normal = |s: &str| {
        s.replace('`', "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let header = normal(header);
    let spans: Vec<&str> = test.split('`').skip(1).step_by(2).collect();
    if !spans.is_empty() {
        return spans
            .iter()
            .all(|s| !s.is_empty() && header.contains(&normal(s)));
    }
    if test.contains(' ') {
        return header.contains(&normal(test));
    }
    let last = test.rsplit("::").next().unwrap_or("");
    !last.is_empty() && header.contains(last)
}

/// Checks a quote against the package and finds the line its FIXME annotates.
fn locate(
    fork: &Fork,
    quote: &Quote,
    sources: &BTreeMap<String, String>,
) -> Result<Located, String> {
    let (lines, annotated) = resolutions::upstream_lines(&quote.code);
    let Some(annotated) = annotated else {
        return Err(format!(
            "{}: the quote has no `// FIXME(mesh):` line",
            quote.file
        ));
    };
    let Some(source) = sources.get(&quote.file) else {
        return Err(format!("{} has no file {}", fork.pin.id(), quote.file));
    };
    let Some(start) = resolutions::find_run(source, &lines) else {
        return Err(format!(
            "{}: without the FIXME comment the quoted lines are not a verbatim run of {} (copy \
             them from `git -C {} show upstream:{}`; a FIXME comment sits above code, its lines \
             at the code's indentation)",
            quote.file,
            fork.pin.id(),
            fork.pin.dir.display(),
            quote.file
        ));
    };
    Ok(Located {
        file: quote.file.clone(),
        line: start + annotated,
        code: quote.code.trim_matches('\n').to_string(),
    })
}

const INTRO: &str = "# FIXME resolutions

<!-- Generated by `cargo xtask docs` from the patch headers (series/<crate>/*.patch) and
series/resolutions.toml. Edit those, never this page: `cargo xtask patch check` fails when it
differs from what they give. -->

What each fork fixes, for a reviewer: one entry per patch that fixes something, under its fork.
The number links to the patch, whose header tells the whole story (Problem, Cause, Fix, Test).
Each entry has:

- the upstream code at fault, quoted verbatim from the pinned crates.io package, with one
  `// FIXME(mesh):` comment of ours above the line at fault (the line number is the package's);
- **Cause:** the start of the header's Cause field (ending in \"...\" where it goes on);
- **Test:** the test that proves the fix, a path inside the fork's crate as the test runner
  prints it (the header says how it fails without the fix);
- **Metric:** the Prometheus name on the harness's `/metrics` that shows the problem, if any.

Patches that only add stats APIs, tests or benchmarks, or only tidy, are listed after each fork's
fixes. The investigations behind the fixes are in [fixes/](fixes/).

";

fn render(sections: &[Section]) -> String {
    let mut page = String::from(INTRO);
    page.push_str(&overview(sections));
    for section in sections.iter().filter(|s| !s.items.is_empty()) {
        page.push_str(&render_section(section));
    }
    page.trim_end().to_string() + "\n"
}

fn overview(sections: &[Section]) -> String {
    let mut table =
        String::from("| fork | upstream | fixes | other patches |\n| --- | --- | --- | --- |\n");
    for s in sections {
        let fixes = s.items.iter().filter(|i| i.kind == Kind::Fix).count();
        let heading = format!("{} {}", s.name, s.version);
        table.push_str(&format!(
            "| [{}](#{}) | {} | {fixes} | {} |\n",
            s.name,
            anchor(&heading),
            s.version,
            s.items.len() - fixes
        ));
    }
    table + "\n"
}

fn render_section(section: &Section) -> String {
    let mut out = format!("## {} {}\n\n", section.name, section.version);
    let (fixes, others): (Vec<&Item>, Vec<&Item>) =
        section.items.iter().partition(|i| i.kind == Kind::Fix);
    for item in fixes {
        out.push_str(&render_fix(&section.name, item));
    }
    if !others.is_empty() {
        out.push_str(&format!("### Other {} patches\n\n", section.name));
        for item in others {
            out.push_str(&render_other(&section.name, item));
        }
        out.push('\n');
    }
    out
}

fn render_fix(crate_name: &str, item: &Item) -> String {
    let mut out = format!(
        "### [{}]({}) {}\n\n",
        item.number,
        patch_path(crate_name, &item.file_name),
        item.subject
    );
    for q in &item.quotes {
        let language = fence_language(&q.file);
        let (file, line, code) = (&q.file, q.line, &q.code);
        out.push_str(&format!(
            "`{file}`, line {line}:\n```{language}\n{code}\n```\n"
        ));
    }
    let test = item.test.as_deref().unwrap_or("");
    out.push_str(&format!("- **Cause:** {}\n", item.cause));
    out.push_str(&format!(
        "- **Test:** {} · **Metric:** {}\n\n",
        as_code(test),
        metrics(&item.metrics)
    ));
    out
}

fn render_other(crate_name: &str, item: &Item) -> String {
    let kind = match item.kind {
        Kind::Stats => "Stats API",
        Kind::Setting => "Setting",
        Kind::Test => "Tests",
        _ => "No behaviour change",
    };
    let mut line = format!(
        "- [{}]({}) *{kind}:* {}.",
        item.number,
        patch_path(crate_name, &item.file_name),
        item.subject.trim_end_matches('.'),
    );
    if let Some(test) = &item.test {
        line.push_str(&format!(" Test: {}.", as_code(test)));
    }
    if !item.metrics.is_empty() {
        line.push_str(&format!(" Metric: {}.", metrics(&item.metrics)));
    }
    line + "\n"
}

fn patch_path(crate_name: &str, file_name: &str) -> String {
    format!("../series/{crate_name}/{file_name}")
}

/// A test path in backticks; a phrase as it is.
fn as_code(text: &str) -> String {
    if text.contains([' ', '`']) {
        text.to_string()
    } else {
        format!("`{text}`")
    }
}

fn metrics(names: &[String]) -> String {
    if names.is_empty() {
        return "none on `/metrics`".to_string();
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

fn fence_language(file: &str) -> &'static str {
    match Path::new(file).extension().and_then(|e| e.to_str()) {
        Some("rs") => "rust",
        Some("toml") => "toml",
        _ => "",
    }
}

/// The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pins::tests::{make_crate_with, pin_for};

    const UPSTREAM: &str = "pub struct Book {\n    peers: Vec<u32>,\n}\n\nimpl Book {\n    \
        pub fn add(&mut self, p: u32) {\n        self.peers.push(p);\n    }\n}\n";

    fn patch(subject: &str, cause: &str, test: &str) -> String {
        format!(
            "From 0 Mon Sep 17 00:00:00 2001\nFrom: m <m@l>\nDate: x\nSubject: [PATCH] {subject}\n\n\
             Problem: p.\nCause: {cause}\nFix: f.\nTest: {test}\nUpstream-Status: not yet \
             forwarded\n---\n src/lib.rs | 1 +\n"
        )
    }

    const DATA_TEXT: &str = r#"
[[patch]]
name = "demo/book-forget-peers"
kind = "fix"
metrics = ["demo_book_peers"]
[[patch.fixme]]
file = "src/lib.rs"
code = '''
    pub fn add(&mut self, p: u32) {
        // FIXME(mesh): never removed.
        self.peers.push(p);
'''

[[patch]]
name = "demo/book-stats"
kind = "stats"
"#;

    /// A fake repository: one pinned package, two patches, the data file and an empty page.
    fn fake_repo(dir: &Path, data: &str) -> Vec<Fork> {
        let file = make_crate_with(dir, "demo", "1.0.0", UPSTREAM);
        let series = dir.join("series/demo");
        fs::create_dir_all(&series).unwrap();
        let fix = patch(
            "book: forget peers",
            "`add` only pushes.",
            "book::tests::peers_are_forgotten (upstream: 5).",
        );
        fs::write(series.join("0001-book-forget-peers.patch"), fix).unwrap();
        let stats = patch("book: stats", "no accessor.", "book::tests::stats_count");
        fs::write(series.join("0002-book-stats.patch"), stats).unwrap();
        fs::write(dir.join(DATA), data).unwrap();
        fs::create_dir_all(dir.join("docs")).unwrap();
        vec![Fork {
            pin: pin_for(&file),
            crate_file: file,
            tree: dir.join("patch/demo"),
            series_dir: series,
        }]
    }

    #[test]
    fn the_page_is_generated_from_headers_and_data() {
        let tmp = tempfile::tempdir().unwrap();
        let forks = fake_repo(tmp.path(), DATA_TEXT);
        let problems = check(&forks, tmp.path()).unwrap();
        assert!(
            problems[0].contains("run `cargo xtask docs`"),
            "{problems:?}"
        );
        write(&forks, tmp.path()).unwrap();
        assert!(check(&forks, tmp.path()).unwrap().is_empty());
        let page = fs::read_to_string(tmp.path().join(PAGE)).unwrap();
        for expected in [
            "| [demo](#demo-100) | 1.0.0 | 1 | 1 |",
            "## demo 1.0.0",
            "### [0001](../series/demo/0001-book-forget-peers.patch) book: forget peers\n",
            "`src/lib.rs`, line 7:\n```rust\n",
            "        // FIXME(mesh): never removed.\n        self.peers.push(p);\n```\n",
            "- **Cause:** `add` only pushes.\n",
            "- **Test:** `book::tests::peers_are_forgotten` · **Metric:** `demo_book_peers`\n",
            "- [0002](../series/demo/0002-book-stats.patch) *Stats API:* book: stats. Test: \
             `book::tests::stats_count`.",
        ] {
            assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
        }
    }

    #[test]
    fn a_renamed_patch_names_its_orphaned_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DATA_TEXT.replace("demo/book-stats", "demo/book-statistics");
        let problems = check(&fake_repo(tmp.path(), &data), tmp.path())
            .unwrap()
            .join("\n");
        assert!(
            problems.contains("entry `demo/book-statistics` names no patch"),
            "{problems}"
        );
        assert!(
            problems.contains("0002-book-stats.patch: no entry in series/resolutions.toml")
                && problems.contains("rename `demo/book-statistics`"),
            "{problems}"
        );
    }

    #[test]
    fn a_quote_that_is_not_upstream_code_fails() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DATA_TEXT.replace("self.peers.push(p);", "self.peers.insert(p);");
        let problems = check(&fake_repo(tmp.path(), &data), tmp.path())
            .unwrap()
            .join("\n");
        assert!(
            problems.contains("not a verbatim run of demo-1.0.0"),
            "{problems}"
        );
        assert!(write(&fake_repo(tmp.path(), &data), tmp.path()).is_err());
    }

    #[test]
    fn a_fix_without_a_quote_and_a_missing_test_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let forks = fake_repo(tmp.path(), "[[patch]]\nname = \"demo/book-forget-peers\"\nkind = \"fix\"\n\
             test = \"book::tests::other\"\n[[patch]]\nname = \"demo/book-stats\"\nkind = \"stats\"\n");
        let problems = check(&forks, tmp.path()).unwrap().join("\n");
        assert!(
            problems.contains("a fix quotes the upstream code"),
            "{problems}"
        );
        assert!(
            problems.contains("test `book::tests::other` is not named"),
            "{problems}"
        );
    }
}
