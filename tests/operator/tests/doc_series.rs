//! docs/operating.md lists exactly the series mesh-metrics exports, with their units, bounds and
//! sources: the table between its `series:begin` and `series:end` markers is what
//! [`series_table`] makes of `mesh_metrics::series::all()`. `MESH_METRICS_BLESS=1` rewrites it.

use mesh_metrics::series::{self, Series};
use operator::repo_root;

const BEGIN: &str = "<!-- series:begin (generated from mesh_metrics::series::all(); tests/operator/tests/doc_series.rs) -->\n";
const END: &str = "<!-- series:end -->";

/// The table of every series.
fn series_table() -> String {
    let mut out = String::from(
        "| metric | unit | bound (`kind`: where it comes from) | read from | meaning |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for s in series::all() {
        out.push_str(&row(s));
    }
    out
}

fn row(s: &Series) -> String {
    let bound = match s.bound {
        Some((kind, what)) => format!("`{}`: {what}", kind.as_str()),
        None => String::new(),
    };
    let upstream = if s.forks_only { "" } else { " (upstream too)" };
    format!(
        "| `{}` | {} | {bound} | `{}`{upstream} | {} |\n",
        s.metric_name(),
        s.unit,
        s.source,
        s.help
    )
}

#[test]
fn operating_md_lists_every_series() {
    let path = repo_root().join("docs/operating.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = doc
        .find(BEGIN)
        .expect("docs/operating.md has no series:begin marker")
        + BEGIN.len();
    let end = start + doc[start..].find(END).expect("no series:end marker");
    let expected = series_table();
    if doc[start..end] != expected {
        if std::env::var_os("MESH_METRICS_BLESS").is_some() {
            std::fs::write(&path, format!("{}{expected}{}", &doc[..start], &doc[end..])).unwrap();
            return;
        }
        panic!(
            "docs/operating.md's series table differs from mesh-metrics (rerun with \
             MESH_METRICS_BLESS=1 to rewrite it); expected:\n{expected}"
        );
    }
}
