//! The tables of a run's report: one row per figure with its verdict ([`table`]), and one row
//! per lost message ([`missed_table`]). Both are Markdown.

use std::fmt::Write as _;

use super::verdict::Summary;
use crate::ledger::MissedMessage;

/// The columns each run has in [`table`], after the figure's name.
const RUN_COLUMNS: [&str; 6] = [
    "start",
    "peak",
    "end",
    "bound",
    "per cycle (2nd half) [95% CI]; settled",
    "verdict",
];

/// A table with one row per figure and one group of columns per run (e.g. fork, upstream).
pub fn table(runs: &[(&str, &[Summary])]) -> String {
    let mut header = vec!["figure".to_owned()];
    for (label, _) in runs {
        header.extend(RUN_COLUMNS.iter().map(|col| format!("{label}: {col}")));
    }
    let body: Vec<Vec<String>> = row_names(runs)
        .into_iter()
        .map(|name| {
            let mut row = vec![name.clone()];
            for (_, summaries) in runs {
                match summaries.iter().find(|s| s.name == name) {
                    Some(s) => row.extend(run_cells(s)),
                    None => row.extend(std::iter::repeat_n("n/a".to_owned(), RUN_COLUMNS.len())),
                }
            }
            row
        })
        .collect();
    markdown(&header, &body)
}

/// Every figure of any run, in the order they first appear.
fn row_names(runs: &[(&str, &[Summary])]) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    for (_, summaries) in runs {
        for s in *summaries {
            if !rows.contains(&s.name) {
                rows.push(s.name.clone());
            }
        }
    }
    rows
}

/// One run's cells of a figure's row, as [`RUN_COLUMNS`] names them.
fn run_cells(s: &Summary) -> [String; 6] {
    let name = s.name.as_str();
    [
        human(name, s.start),
        human(name, s.peak),
        human(name, s.end),
        s.bound.map_or("-".to_owned(), |b| human(name, b)),
        slope_cell(s),
        s.verdict.label().to_owned(),
    ]
}

/// The slope column: the fitted slope, and for the heap figures also its 95% interval and the
/// growth between the settled samples (the heap's verdicts are the ones noise can decide: the
/// cell shows what the run can tell).
fn slope_cell(s: &Summary) -> String {
    let name = s.name.as_str();
    let mut cell = human_slope(name, s.slope_per_cycle);
    match (name, s.slope_interval) {
        ("process.heap_bytes", Some((lo, hi))) => {
            let _ = write!(cell, " [{lo:+.0}, {hi:+.0}]");
        }
        ("process.heap_blocks", Some((lo, hi))) => {
            let _ = write!(cell, " [{lo:+.2}, {hi:+.2}]");
        }
        _ => {}
    }
    match (name, s.settled_per_cycle) {
        ("process.heap_bytes", Some(growth)) => {
            let _ = write!(cell, "; settled {growth:+.0} B");
        }
        ("process.heap_blocks", Some(growth)) => {
            let _ = write!(cell, "; settled {growth:+.3}");
        }
        _ => {}
    }
    cell
}

/// A value of figure `name` as the table shows it: bytes in MiB, anything else as it is.
fn human(name: &str, value: u64) -> String {
    if name.ends_with("bytes") {
        format!("{:.1} MiB", value as f64 / (1024.0 * 1024.0))
    } else {
        value.to_string()
    }
}

/// A slope of figure `name` per cycle as the table shows it.
fn human_slope(name: &str, slope: Option<f64>) -> String {
    match slope {
        None => "-".to_owned(),
        Some(s) if name.ends_with("bytes") => format!("{:+.0} B", s),
        Some(s) => format!("{:+.3}", s),
    }
}

/// A Markdown table with padded columns.
fn markdown(header: &[String], body: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            body.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String], out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "| {} |", padded.join(" | "));
    };
    let mut out = String::new();
    line(header, &mut out);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule, &mut out);
    for row in body {
        line(row, &mut out);
    }
    out
}

/// A flag as the missed table shows it.
fn yes_no(flag: bool) -> &'static str {
    if flag {
        "yes"
    } else {
        "no"
    }
}

/// Most lost messages [`missed_table`] lists; the rest are counted.
pub const MAX_MISSED_ROWS: usize = 30;

/// A table of the messages a run lost (see [`crate::ledger`]): which long-lived nodes each one
/// missed and what its publisher did. Empty when nothing was lost.
pub fn missed_table(missed: &[MissedMessage]) -> String {
    if missed.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "| lost message (cycle/seq) | topic | missed by | publisher lingered | subscription ended | publisher left | neighbours at publish | long-lived neighbour at publish / first met / kept for |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for m in missed.iter().take(MAX_MISSED_ROWS) {
        let _ = writeln!(
            out,
            "| {}/{} | {} | {} | {} ms | {:?} | {:?} | {} | {} / {} / {} |",
            m.cycle,
            m.seq,
            m.topic,
            m.missed_by_names().join(", "),
            m.linger_ms,
            m.ending,
            m.leave,
            m.neighbours_at_publish,
            yes_no(m.long_lived_neighbour_at_publish),
            match m.first_long_lived_neighbour_ms {
                Some(ms) => format!("{ms:+} ms"),
                None => "never".to_string(),
            },
            match (
                m.first_long_lived_neighbour_ms,
                m.long_lived_neighbour_kept_ms
            ) {
                (None, _) => "-".to_string(),
                (Some(_), Some(ms)) => format!("{ms} ms"),
                (Some(_), None) => "until it left".to_string(),
            }
        );
    }
    if missed.len() > MAX_MISSED_ROWS {
        let _ = writeln!(out, "\n... and {} more", missed.len() - MAX_MISSED_ROWS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_table_names_each_lost_message_and_counts_the_rest() {
        use crate::scenario::{Ending, Leave};
        assert_eq!(missed_table(&[]), "");
        let lost = |cycle| MissedMessage {
            cycle,
            seq: 1,
            topic: 3,
            missed_by: vec![0, 2],
            linger_ms: 312,
            ending: Ending::Unsubscribe,
            leave: Leave::Abrupt,
            long_lived_neighbour_at_publish: false,
            neighbours_at_publish: 2,
            first_long_lived_neighbour_ms: Some(412),
            long_lived_neighbour_kept_ms: Some(35),
        };
        let t = missed_table(&[lost(57)]);
        assert!(
            t.contains(
                "| 57/1 | 3 | hub, witness 1 | 312 ms | Unsubscribe | Abrupt | 2 | no / +412 ms / 35 ms |"
            ),
            "{t}"
        );
        let kept = MissedMessage {
            long_lived_neighbour_kept_ms: None,
            ..lost(59)
        };
        assert!(missed_table(&[kept]).contains("| no / +412 ms / until it left |"));
        let never = MissedMessage {
            first_long_lived_neighbour_ms: None,
            long_lived_neighbour_kept_ms: None,
            ..lost(58)
        };
        assert!(missed_table(&[never]).contains("| no / never / - |"));
        let many: Vec<_> = (0..MAX_MISSED_ROWS + 3).map(lost).collect();
        let t = missed_table(&many);
        assert_eq!(t.matches(" ms | Unsubscribe |").count(), MAX_MISSED_ROWS);
        assert!(t.contains("... and 3 more"), "{t}");
    }
}
