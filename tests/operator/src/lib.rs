//! Helpers of the operator tests: finding promtool, checking an exposition, and the series the
//! alert rules select on ([`rules`]).

pub mod rules;

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
    let (success, text) = run_promtool(args, stdin);
    assert!(success, "promtool {args:?} failed:\n{text}");
    text
}

/// Lints an OpenMetrics exposition with `promtool check metrics`, panicking on every problem it
/// reports but one: promtool reads the Prometheus 0.0.4 text format, in which a counter's samples
/// carry the family name, while OpenMetrics (what prometheus-client writes and Prometheus scrapes
/// as such) names the family `x` and its sample `x_total`. promtool then reports `x_total no help
/// text` although `x` has one; such a line is accepted only if the exposition really declares
/// `x` as a counter with a help text.
pub fn check_metrics(text: &str) {
    let (success, output) = run_promtool(&["check", "metrics"], Some(text));
    if success {
        return;
    }
    let problems: Vec<&str> = output
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter(|line| {
            let Some(sample) = line.strip_suffix(" no help text") else {
                return true;
            };
            let Some(family) = sample.strip_suffix("_total") else {
                return true;
            };
            let declared = text.contains(&format!("# TYPE {family} counter\n"));
            let helped = text
                .lines()
                .any(|l| l.starts_with(&format!("# HELP {family} ")) && l.len() > family.len() + 8);
            !(declared && helped)
        })
        .collect();
    assert!(
        problems.is_empty(),
        "promtool check metrics found problems:\n{}\n--- exposition:\n{text}",
        problems.join("\n")
    );
}

fn run_promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "promtool not found ({err}): `cargo xtask test` installs it as root; otherwise run `sudo scripts/apt-install-no-start prometheus`"
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
    (out.status.success(), text)
}

/// The selectors of every rule in `ops/alerts.yml`.
pub fn alert_selectors() -> Vec<rules::Selector> {
    let path = repo_root().join("ops/alerts.yml");
    let text = std::fs::read_to_string(&path).expect("reading ops/alerts.yml");
    let selectors = rules::selectors(&text);
    assert!(
        !selectors.is_empty(),
        "no selectors found in ops/alerts.yml"
    );
    selectors
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
