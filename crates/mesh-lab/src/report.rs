//! The matrix's table and its CSV, one row per run of a cell (the verdicts are in
//! [`crate::verdict`]).

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;

use crate::outcome::{ratio, CellOutcome};

/// The matrix as a Markdown table, one row per cell.
pub fn table(outcomes: &[CellOutcome]) -> String {
    let mut out = String::from(
        "| fault | mesh | run | delivered | among joined | to upstream nodes | overlays joined | join p50 / p99 | latency p50 / p99 | hub sent | peers sent (max) | hub RSS | peers RSS (max) | fault result |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for o in outcomes {
        let hub = o.nodes.iter().find(|n| n.index == 0);
        let peers = o.nodes.iter().filter(|n| n.index != 0);
        let max_sent = peers.clone().map(|n| n.sent_bytes).max();
        let max_rss = peers.filter_map(|n| n.rss_bytes).max();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.1}% ({}/{}) | {:.1}% | {} | {}/{} | {} / {} ms | {} / {} ms | {} | {} | {} | {} | {} |",
            o.cell.fault,
            o.cell.mesh,
            o.run,
            100.0 * o.delivery(),
            o.delivered.0,
            o.delivered.1,
            100.0 * o.delivery_among_joined(),
            if o.delivered_to_upstream.1 == 0 {
                "-".to_owned()
            } else {
                format!("{:.1}%", 100.0 * ratio(o.delivered_to_upstream))
            },
            o.nodes.iter().filter(|n| n.joined).count(),
            o.nodes.len(),
            ms(o.join(0.5)),
            ms(o.join(0.99)),
            ms(o.latency(0.5)),
            ms(o.latency(0.99)),
            kib(hub.map(|n| n.sent_bytes)),
            kib(max_sent),
            mib(hub.and_then(|n| n.rss_bytes)),
            mib(max_rss),
            fault_result(o),
        );
    }
    out
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{v:.0}"))
}

fn kib(v: Option<u64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{:.0} KiB", v as f64 / 1024.0))
}

fn mib(v: Option<u64>) -> String {
    v.map_or("-".to_owned(), |v| {
        format!("{:.1} MiB", v as f64 / 1048576.0)
    })
}

fn fault_result(o: &CellOutcome) -> String {
    let f = &o.fault;
    match (f.healed_within_limit, f.rejoin_s) {
        (Some(true), _) => "healed: all delivered within 10 s".to_owned(),
        (Some(false), _) => "healed: NOT all delivered within 10 s".to_owned(),
        (_, Some(Some(s))) => format!("hub heard from every peer {s:.1} s after restart"),
        (_, Some(None)) => "hub did NOT hear from every peer within 30 s".to_owned(),
        _ if f.churned > 0 => format!("{} short-lived peers churned", f.churned),
        _ => "-".to_owned(),
    }
}

/// Writes one CSV row per long-lived node of every cell.
pub fn write_csv(path: &Path, outcomes: &[CellOutcome]) -> Result<()> {
    let mut csv = csv::Writer::from_path(path)?;
    csv.write_record([
        "fault",
        "mesh",
        "run",
        "node",
        "role",
        "build",
        "sent_bytes",
        "sent_packets",
        "rss_bytes",
        "synced_ops",
        "joined",
    ])?;
    for o in outcomes {
        for n in &o.nodes {
            csv.write_record([
                format!("{:?}", o.cell.fault),
                format!("{:?}", o.cell.mesh),
                o.run.to_string(),
                n.index.to_string(),
                n.role.to_owned(),
                n.build.to_string(),
                n.sent_bytes.to_string(),
                n.sent_packets.to_string(),
                n.rss_bytes.map_or(String::new(), |v| v.to_string()),
                n.synced_ops.to_string(),
                n.joined.to_string(),
            ])?;
        }
    }
    csv.flush()?;
    Ok(())
}
