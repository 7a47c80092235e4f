//! An attack run's files: its samples as CSV, the rows of every run as CSV (read back to put
//! fork and upstream side by side), and the markdown table.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

use super::measure::AttackSample;
use super::summary::Row;

/// Writes one row per sample to `path`: phase, time, heap, RSS, CPU, tasks and every reading.
pub fn write_samples(path: &Path, samples: &[AttackSample]) -> Result<()> {
    let mut out =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    out.write_record([
        "phase",
        "elapsed_s",
        "heap_bytes",
        "rss_bytes",
        "cpu_s",
        "tasks",
        "structure",
        "value",
        "bound",
    ])?;
    for s in samples {
        let base = [
            s.phase.name().to_owned(),
            format!("{:.1}", s.elapsed.as_secs_f64()),
            s.heap_bytes.to_string(),
            s.rss_bytes.to_string(),
            format!("{:.2}", s.cpu.as_secs_f64()),
            s.tasks.to_string(),
        ];
        let Some(readings) = &s.structures else {
            out.write_record(
                base.iter()
                    .map(String::as_str)
                    .chain(["unanswered", "", ""]),
            )?;
            continue;
        };
        for r in readings {
            let bound = r.bound.map(|b| b.value.to_string()).unwrap_or_default();
            let value = r.value.to_string();
            out.write_record(base.iter().map(String::as_str).chain([
                r.name.as_str(),
                &value,
                &bound,
            ]))?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Writes `rows` to `path`.
pub fn write_rows(path: &Path, rows: &[Row]) -> Result<()> {
    let mut out =
        csv::Writer::from_path(path).with_context(|| format!("writing {}", path.display()))?;
    for row in rows {
        out.serialize(row)?;
    }
    out.flush()?;
    Ok(())
}

/// Reads what [`write_rows`] wrote.
pub fn read_rows(path: &Path) -> Result<Vec<Row>> {
    let mut input =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    input.deserialize().map(|r| r.map_err(Into::into)).collect()
}

/// The markdown table: one row per attack and build, in the order given.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| attack | build | heap before → peak → after (MiB, margin) | RSS peak, after (MiB) | bounded structures: peak/bound (end) | honest peers at the end | honest delivery before / during / after | probes synced before during after; slowest join (s) | CPU (s) | panics | unanswered during/after | attacker did | verdict |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | ---: | ---: | --- | --- | --- |\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} → {:.1} → {:.1} (±{:.1}) | {:.0}, {:.0} | {} | {} | {} / {} / {} | {}; {} | {:.1} | {} | {} | {} | {} |",
            r.attack,
            r.build,
            r.heap_before_mib,
            r.heap_peak_mib,
            r.heap_after_mib,
            r.heap_margin_mib,
            r.rss_peak_mib,
            r.rss_after_mib,
            if r.structures.is_empty() { "-" } else { &r.structures },
            r.peers_end,
            pct(r.delivery_before),
            pct(r.delivery_during),
            pct(r.delivery_after),
            r.probes_synced,
            r.join_max_s,
            r.cpu_s,
            r.panics,
            r.unanswered,
            r.attacker,
            r.verdict,
        );
    }
    out
}

fn pct(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}
