//! The report: a Markdown table of the runs, the two verdicts, and the CSVs.

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;

use crate::node::Build;
use crate::outcome::{kind_names, BuildOutcome, RunOutcome};
use crate::verdict::{self, FLAT_LIMIT};

/// One row per run and build.
pub fn table(runs: &[RunOutcome]) -> String {
    let mut out = String::from(
        "| peers | fork | net | loss | seed | build | up | delivered | dup. | latency p50 / p99 | hops p50 / p99 | msgs / bc / peer | bytes / bc / peer | gossip / ihave / graft / prune / memb. bytes | state p50 / max | entries p50 / max | met p50 / max |\n\
         | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in runs {
        for b in &r.builds {
            let sc = &r.scenario;
            let _ = writeln!(
                out,
                "| {} | {:.0}% | {} | {}% | {} | {} | {} | {:.2}%{} | {} | {:.0} / {:.0} ms | {} / {} | {:.1} | {:.0} | {} | {:.1} / {:.1} KiB | {} / {} | {} / {} |",
                sc.peers,
                100.0 * sc.fork_share,
                sc.net.preset,
                100.0 * sc.net.loss,
                sc.net.seed,
                build_label(r, b.build),
                b.nodes,
                100.0 * b.delivery(),
                b.after_heal.map_or(String::new(), |(due, made)| format!(
                    " ({:.2}% after the heal)",
                    100.0 * made as f64 / due.max(1) as f64
                )),
                b.duplicates,
                b.latency_ms.0,
                b.latency_ms.1,
                b.hops.0,
                b.hops.1,
                b.total_msgs(),
                b.total_bytes(),
                b.bytes.map(|x| format!("{x:.0}")).join(" / "),
                b.state_bytes.0 / 1024.0,
                b.state_bytes.2 / 1024.0,
                b.entries.0,
                b.entries.1,
                b.met.0,
                b.met.1,
            );
        }
    }
    out
}

/// A build's name, with the fork's catch-up if it is on.
fn build_label(r: &RunOutcome, build: Build) -> String {
    match build {
        Build::Fork if r.scenario.fork_catch_up => "fork (catch-up)".to_owned(),
        _ => build.to_string(),
    }
}

/// The verdicts as Markdown: state growth per run and build, then upstream peers in mixed
/// meshes against all upstream.
pub fn verdicts(runs: &[RunOutcome]) -> String {
    let mut out = format!(
        "State per node at the end, peers up before the first broadcast: the half that met the fewest peers against the {} that met the most (the fork must stay within {FLAT_LIMIT}x):\n\n\
         | peers | fork | seed | build | peers met | state | entries | growth | verdict |\n\
         | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |\n",
        verdict::TOP,
    );
    for r in runs {
        for b in &r.builds {
            let Some(g) = verdict::growth(r, b.build) else {
                continue;
            };
            let verdict = match b.build {
                Build::Fork if g.bounded() => "bounded",
                Build::Fork => "GROWS",
                Build::Upstream => "reported",
            };
            let _ = writeln!(
                out,
                "| {} | {:.0}% | {} | {} | {} -> {} ({:.0}x) | {:.1} -> {:.1} KiB | {} -> {} | {:.2}x | {verdict} |",
                r.scenario.peers,
                100.0 * r.scenario.fork_share,
                r.scenario.net.seed,
                build_label(r, b.build),
                g.met.0,
                g.met.1,
                g.met_ratio(),
                g.bytes.0 / 1024.0,
                g.bytes.1 / 1024.0,
                g.entries.0,
                g.entries.1,
                g.ratio(),
            );
        }
    }
    out.push_str(&format!(
        "\nUpstream peers in a mixed mesh against the all-upstream mesh (means over seeds; delivery may fall at most {:.1} points short, bytes sent per broadcast may be at most {:.2}x):\n\n\
         | setting | fork | seeds | delivery (mixed / all upstream) | bytes / bc / peer (mixed / all upstream) | verdict |\n\
         | --- | ---: | ---: | ---: | ---: | --- |\n",
        100.0 * verdict::DELIVERY_SLACK,
        verdict::BYTES_LIMIT,
    ));
    for c in verdict::mix_checks(runs) {
        let _ = writeln!(
            out,
            "| {} | {:.0}% | {} | {:.2}% / {:.2}% | {:.0} / {:.0} | {} |",
            c.setting,
            100.0 * c.fork_share,
            c.seeds,
            100.0 * c.delivery.0,
            100.0 * c.delivery.1,
            c.bytes.0,
            c.bytes.1,
            if c.passes() { "as well" } else { "WORSE" },
        );
    }
    out
}

/// runs.csv: one row per run and build, every figure.
pub fn write_runs_csv(path: &Path, runs: &[RunOutcome]) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let mut header: Vec<String> = [
        "peers",
        "fork_share",
        "fork_catch_up",
        "net",
        "loss",
        "loss_mode",
        "churn",
        "seed",
        "build",
        "peers_up",
        "peers_ever",
        "expected",
        "delivered",
        "delivery",
        "duplicates",
        "last_delivery_s",
        "delivery_after_heal",
        "latency_ms_p50",
        "latency_ms_p99",
        "hops_p50",
        "hops_p99",
    ]
    .map(String::from)
    .to_vec();
    for k in kind_names() {
        header.push(format!("msgs_{k}"));
    }
    for k in kind_names() {
        header.push(format!("bytes_{k}"));
    }
    header.extend(
        [
            "recv_bytes",
            "state_bytes_p50",
            "state_bytes_p99",
            "state_bytes_max",
            "entries_p50",
            "entries_max",
            "met_p50",
            "met_max",
            "lost",
            "decode_errors",
            "wall_s",
        ]
        .map(String::from),
    );
    w.write_record(&header)?;
    for r in runs {
        for b in &r.builds {
            w.write_record(row(r, b))?;
        }
    }
    w.flush()?;
    Ok(())
}

fn row(r: &RunOutcome, b: &BuildOutcome) -> Vec<String> {
    let sc = &r.scenario;
    let mut v = vec![
        sc.peers.to_string(),
        sc.fork_share.to_string(),
        sc.fork_catch_up.to_string(),
        sc.net.preset.to_string(),
        sc.net.loss.to_string(),
        format!("{:?}", sc.net.loss_mode).to_lowercase(),
        sc.churn.to_string(),
        sc.net.seed.to_string(),
        b.build.to_string(),
        b.nodes.to_string(),
        r.peers_ever.to_string(),
        b.expected.to_string(),
        b.delivered.to_string(),
        format!("{:.6}", b.delivery()),
        b.duplicates.to_string(),
        format!("{:.1}", r.last_delivery_s),
        b.after_heal.map_or(String::new(), |(due, made)| {
            format!("{:.6}", made as f64 / due.max(1) as f64)
        }),
        format!("{:.1}", b.latency_ms.0),
        format!("{:.1}", b.latency_ms.1),
        b.hops.0.to_string(),
        b.hops.1.to_string(),
    ];
    v.extend(b.msgs.iter().map(|x| format!("{x:.3}")));
    v.extend(b.bytes.iter().map(|x| format!("{x:.1}")));
    v.extend([
        format!("{:.1}", b.recv_bytes),
        format!("{:.0}", b.state_bytes.0),
        format!("{:.0}", b.state_bytes.1),
        format!("{:.0}", b.state_bytes.2),
        b.entries.0.to_string(),
        b.entries.1.to_string(),
        b.met.0.to_string(),
        b.met.1.to_string(),
        r.lost.to_string(),
        r.decode_errors.to_string(),
        format!("{:.2}", r.wall.as_secs_f64()),
    ]);
    v
}

/// state.csv: per run, build and peers-met bin, the median state of the settled peers.
pub fn write_state_csv(path: &Path, runs: &[RunOutcome]) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "peers",
        "fork_share",
        "seed",
        "build",
        "met_bin_floor",
        "peers_in_bin",
        "met_p50",
        "state_bytes_p50",
        "entries_p50",
    ])?;
    for r in runs {
        for b in &r.builds {
            for (floor, n, met, bytes, entries) in verdict::state_bins(r, b.build) {
                w.write_record([
                    r.scenario.peers.to_string(),
                    r.scenario.fork_share.to_string(),
                    r.scenario.net.seed.to_string(),
                    b.build.to_string(),
                    floor.to_string(),
                    n.to_string(),
                    met.to_string(),
                    format!("{bytes:.0}"),
                    entries.to_string(),
                ])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}
