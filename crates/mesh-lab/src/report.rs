//! The matrix's table, its CSV and its verdicts on every mesh with a fork node: a mixed mesh
//! must deliver as much as the all-upstream mesh of the same fault and must not make an upstream
//! node send or hold more than 1.2x what it does among its own; every such mesh must deliver
//! within 10 s of a heal, and its restarted hub must hear from every peer within 30 s. The
//! all-upstream mesh is the reference: reported, not judged.

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;

use crate::matrix::{Build, Mesh};
use crate::outcome::{ratio, CellOutcome, NodeOutcome};

/// How much more an upstream node may send or hold in a mixed mesh than among its own.
pub const BURDEN_LIMIT: f64 = 1.2;

/// The matrix as a Markdown table, one row per cell.
pub fn table(outcomes: &[CellOutcome]) -> String {
    let mut out = String::from(
        "| fault | mesh | delivered | to upstream nodes | overlays joined | join p50 / p99 | latency p50 / p99 | hub sent | peers sent (max) | hub RSS | peers RSS (max) | fault result |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for o in outcomes {
        let hub = o.nodes.iter().find(|n| n.index == 0);
        let peers = o.nodes.iter().filter(|n| n.index != 0);
        let max_sent = peers.clone().map(|n| n.sent_bytes).max();
        let max_rss = peers.filter_map(|n| n.rss_bytes).max();
        let _ = writeln!(
            out,
            "| {} | {} | {:.1}% ({}/{}) | {} | {}/{} | {} / {} ms | {} / {} ms | {} | {} | {} | {} | {} |",
            o.cell.fault,
            o.cell.mesh,
            100.0 * o.delivery(),
            o.delivered.0,
            o.delivered.1,
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

/// Every verdict the matrix fails, one line each (empty: it passes).
pub fn failures(outcomes: &[CellOutcome]) -> Vec<String> {
    let mut out = Vec::new();
    // The all-upstream mesh is the reference, reported but not judged: its failures are
    // upstream's, and what the verdicts ask is whether our nodes make a mesh worse.
    for o in outcomes.iter().filter(|o| o.cell.mesh != Mesh::AllUpstream) {
        let cell = format!("{} / {}", o.cell.fault, o.cell.mesh);
        if o.fault.healed_within_limit == Some(false) {
            out.push(format!(
                "{cell}: messages sent after the heal did not all arrive within 10 s"
            ));
        }
        if o.fault.rejoin_s == Some(None) {
            out.push(format!(
                "{cell}: the restarted hub did not hear from every peer within 30 s"
            ));
        }
        let Some(reference) = reference_of(outcomes, o) else {
            continue;
        };
        if o.delivery() < reference.delivery() {
            out.push(format!(
                "{cell}: delivered {:.1}%, less than the all-upstream mesh's {:.1}%",
                100.0 * o.delivery(),
                100.0 * reference.delivery()
            ));
        }
        for node in o.nodes.iter().filter(|n| n.build == Build::Upstream) {
            out.extend(burden(&cell, node, reference));
        }
    }
    out
}

/// The all-upstream cell of the same fault, for a mixed cell.
fn reference_of<'a>(outcomes: &'a [CellOutcome], o: &CellOutcome) -> Option<&'a CellOutcome> {
    if !o.cell.mesh.is_mixed() {
        return None;
    }
    outcomes
        .iter()
        .find(|r| r.cell.mesh == Mesh::AllUpstream && r.cell.fault == o.cell.fault)
}

/// Whether the upstream `node` sends or holds more than [`BURDEN_LIMIT`] times what the same
/// node sends or holds in the all-upstream `reference`.
fn burden(cell: &str, node: &NodeOutcome, reference: &CellOutcome) -> Vec<String> {
    let Some(own) = reference.nodes.iter().find(|n| n.index == node.index) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let over = |mine: u64, theirs: u64| mine as f64 > BURDEN_LIMIT * theirs as f64;
    if over(node.sent_bytes, own.sent_bytes) {
        out.push(format!(
            "{cell}: upstream node {} sent {} B, more than 1.2x the {} B it sends among upstream nodes",
            node.index, node.sent_bytes, own.sent_bytes
        ));
    }
    if let (Some(mine), Some(theirs)) = (node.rss_bytes, own.rss_bytes) {
        if over(mine, theirs) {
            out.push(format!(
                "{cell}: upstream node {} holds {mine} B of RSS, more than 1.2x the {theirs} B among upstream nodes",
                node.index
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultOutcome;
    use crate::matrix::{Cell, Fault};

    fn node(index: usize, build: Build, sent_bytes: u64) -> NodeOutcome {
        NodeOutcome {
            index,
            role: if index == 0 { "hub" } else { "peer" },
            build,
            sent_bytes,
            sent_packets: 1,
            rss_bytes: Some(1000),
            synced_ops: 0,
            joined: true,
        }
    }

    fn outcome(mesh: Mesh, delivered: usize, peer_sent: u64, healed: bool) -> CellOutcome {
        CellOutcome {
            cell: Cell {
                mesh,
                fault: Fault::Partition,
            },
            nodes: vec![
                node(0, mesh.build_of(0), 100),
                node(1, mesh.build_of(1), peer_sent),
            ],
            delivered: (delivered, 10),
            delivered_to_upstream: (delivered, 10),
            join_ms: vec![],
            latency_ms: vec![],
            fault: FaultOutcome {
                healed_within_limit: Some(healed),
                ..FaultOutcome::default()
            },
        }
    }

    #[test]
    fn the_reference_is_not_judged_but_a_mesh_with_fork_nodes_is() {
        let reference = outcome(Mesh::AllUpstream, 6, 100, false);
        let fine = outcome(Mesh::ForkHub, 10, 120, true);
        assert!(failures(&[reference.clone(), fine]).is_empty());

        let worse = outcome(Mesh::ForkHub, 5, 121, false);
        let found = failures(&[reference, worse]);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].contains("after the heal"));
        assert!(found[1].contains("less than the all-upstream mesh's 60.0%"));
        assert!(found[2].contains("upstream node 1 sent 121 B"));
    }
}
