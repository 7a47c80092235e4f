//! Helpers of the operator tests: finding promtool and checking an exposition.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `promtool` with `args` (and `stdin`), returning its combined output; panics with an
/// install hint if promtool is missing, and with its output if it fails.
pub fn promtool(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("promtool")
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "promtool not found ({err}): install Debian's `prometheus` package (.ci/run does)"
            )
        });
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input
            .write_all(text.as_bytes())
            .expect("writing to promtool");
    }
    drop(input);
    let out = child.wait_with_output().expect("promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// Parses a text exposition into (metric name with labels, value) samples, checking that every
/// sample belongs to a family declared by a `# TYPE` line before it.
pub fn parse_exposition(text: &str) -> Vec<(String, f64)> {
    let mut families: Vec<(String, String)> = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let name = parts.next().expect("TYPE without a name").to_owned();
            let kind = parts.next().expect("TYPE without a kind").to_owned();
            families.push((name, kind));
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("sample without a value");
        let name = series.split('{').next().unwrap_or(series);
        let declared = families.iter().any(|(family, kind)| {
            name == family || (kind == "counter" && name == format!("{family}_total"))
        });
        assert!(
            declared,
            "sample {name} has no # TYPE line before it:\n{text}"
        );
        samples.push((series.to_owned(), value.parse().expect("numeric value")));
    }
    samples
}
