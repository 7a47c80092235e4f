//! What a soak run leaves and says at the end: the CSV, the table with its summary lines
//! (printed and written), the chart, and whether the run passes its criteria.

use anyhow::{Context, Result};
use mesh_harness::driver::{Delivery, RunOutcome};
use mesh_harness::probe::Sample;
use mesh_harness::report::{self, Summary};

use crate::args::Args;

/// Writes `<label>.csv`, `<label>-table.md` (also printed) and `soak.svg` to the output
/// directory, with the compared run's CSV beside this run's in the table and the chart; returns
/// this run's summaries.
pub fn write(args: &Args, label: &str, outcome: &RunOutcome) -> Result<Vec<Summary>> {
    let csv = args.out.join(format!("{label}.csv"));
    report::write_csv(&csv, &outcome.samples)?;
    let criteria = args.criteria();
    let ours = report::summarize(&outcome.samples, &criteria);
    let other = match &args.compare_with {
        Some(path) => Some(report::read_csv(path)?),
        None => None,
    };
    let theirs = other.as_ref().map(|s| report::summarize(s, &criteria));
    let mut runs: Vec<(&str, &[Summary])> = vec![(label, &ours)];
    if let Some(theirs) = &theirs {
        runs.push((&args.compare_label, theirs));
    }
    let summary = summary(args, label, outcome, &report::table(&runs));
    println!("{summary}");
    let table_file = args.out.join(format!("{label}-table.md"));
    std::fs::write(&table_file, &summary)
        .with_context(|| format!("writing {}", table_file.display()))?;

    let chart = args.out.join("soak.svg");
    let mut series: Vec<(&str, &[Sample])> = vec![(label, &outcome.samples)];
    if let Some(other) = &other {
        series.push((&args.compare_label, other));
    }
    report::write_chart(&chart, &series)?;
    println!("samples: {}\nchart:   {}", csv.display(), chart.display());
    Ok(ours)
}

/// The table, the delivery line, the heap per remembered peer (with the default peer TTL) and
/// the lost messages, as printed and written to `<label>-table.md`.
fn summary(args: &Args, label: &str, outcome: &RunOutcome, table: &str) -> String {
    let mut summary = format!(
        "{table}\n{}\n",
        delivery_line(label, outcome, args.witnesses)
    );
    if args.peer_ttl.remembers_departed_peers() {
        if let Some(bytes) = report::heap_per_remembered_peer(&outcome.samples) {
            summary.push_str(&format!(
                "{label}: heap per departed peer still remembered: {bytes:.0} B (between the first and last settled samples; witnesses forget departed peers after 10 s, so with witnesses this is the hub's)\n"
            ));
        }
        let steps = report::remembered_peer_steps(&outcome.samples);
        if steps.len() > 1 {
            summary.push_str(&format!("\n{}", report::remembered_table(&steps)));
        }
    }
    let missed = &outcome.delivery.missed;
    if !missed.is_empty() {
        summary.push_str(&format!(
            "\n{label}: {} published messages did not reach every long-lived node:\n\n{}",
            missed.len(),
            report::missed_table(missed)
        ));
    }
    summary
}

/// The summary line: cycles, gossip delivered per long-lived node, join timeouts, synced
/// operations, stalls, unanswered calls, and the sample history left out of the heap.
fn delivery_line(label: &str, outcome: &RunOutcome, witnesses: usize) -> String {
    let delivery = &outcome.delivery;
    let per_node = delivery.expected / (1 + witnesses as u64);
    let to_witnesses: Vec<String> = delivery
        .delivered_to_witnesses
        .iter()
        .map(|delivered| format!("{delivered}/{per_node}"))
        .collect();
    format!(
        "{label}: {} churn cycles; gossip delivered to long-lived nodes {}/{} ({:.2}%; hub {}/{per_node}, witnesses {}), {} join timeouts, {} operations synced to the hub, {} stalled peers, {} samples with the hub unresponsive, {} witness checks unanswered; the harness's own sample history ({} samples, {:.1} KiB at the end) is left out of process.heap_bytes",
        outcome.cycles,
        delivery.delivered,
        delivery.expected,
        delivery.ratio() * 100.0,
        delivery.delivered_to_hub,
        to_witnesses.join(" "),
        delivery.join_timeouts,
        delivery.synced_operations,
        delivery.peer_stalls,
        delivery.hub_unresponsive,
        delivery.witness_unresponsive,
        outcome.samples.len(),
        outcome.history_bytes as f64 / 1024.0,
    )
}

/// Whether every figure passes its verdict and delivery meets the criteria (enough gossip
/// delivered, no stalled peer, every hub sample and witness check answered); says on stderr
/// what did not.
pub fn passes(args: &Args, label: &str, ours: &[Summary], delivery: &Delivery) -> bool {
    let failed: Vec<&str> = ours
        .iter()
        .filter(|s| s.verdict.fails())
        .map(|s| s.name.as_str())
        .collect();
    let delivery_ok = delivery.ratio() >= args.min_delivery
        && delivery.peer_stalls == 0
        && delivery.hub_unresponsive == 0
        && delivery.witness_unresponsive == 0;
    if !failed.is_empty() {
        eprintln!(
            "mesh-soak [{label}]: failing figures: {}",
            failed.join(", ")
        );
    }
    if !delivery_ok {
        eprintln!(
            "mesh-soak [{label}]: delivery {:.2}% (at least {:.2}% needed), {} stalled peers, {} samples with the hub unresponsive, {} witness checks unanswered",
            delivery.ratio() * 100.0,
            args.min_delivery * 100.0,
            delivery.peer_stalls,
            delivery.hub_unresponsive,
            delivery.witness_unresponsive
        );
    }
    failed.is_empty() && delivery_ok
}
