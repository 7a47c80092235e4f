//! The lab's verdicts on every mesh with a fork node, over every run of each cell
//! (`mesh-lab --repeat`). The all-upstream mesh is the reference: reported, not judged.
//!
//! - Every fork node's overlay joins, in every run.
//! - After a partition heals, every message sent reaches every joined subscriber within 10 s, in
//!   every run; a restarted fork hub hears from every peer within 30 s, in every run.
//! - A mixed mesh's median delivery (among the nodes whose overlay joined) is at least the
//!   reference's.
//! - Over the runs in which every node joined: the bytes the upstream nodes send together, and
//!   each upstream node's resident set, have medians within 1.2x of the same nodes' in the
//!   reference. Each upstream node's own bytes are reported ([`node_burdens`]), not judged.
//!
//! Why medians and joined nodes: an upstream node sometimes never joins its topic's overlay, in
//! any mesh (upstream p2panda-net's single join attempt, docs/lab.md). It then gets no gossip,
//! and it and its neighbours send several times their usual bytes. And at tens of KB per node,
//! which node relays for whom changes from run to run: one node's bytes swing by 2x between runs
//! of the same cell, the upstream nodes' total by far less.

use crate::matrix::{Build, Cell, Mesh};
use crate::outcome::{CellOutcome, NodeOutcome};

/// How much more an upstream node may send or hold in a mixed mesh than among its own.
pub const BURDEN_LIMIT: f64 = 1.2;

/// The distinct cells of `outcomes`, in the order they first ran.
pub fn cells(outcomes: &[CellOutcome]) -> Vec<Cell> {
    let mut cells: Vec<Cell> = Vec::new();
    for o in outcomes {
        if !cells.contains(&o.cell) {
            cells.push(o.cell);
        }
    }
    cells
}

/// Every run of `cell`.
fn runs(outcomes: &[CellOutcome], cell: Cell) -> Vec<&CellOutcome> {
    outcomes.iter().filter(|o| o.cell == cell).collect()
}

/// The all-upstream cell of the same fault, for a mixed cell.
fn reference_of(cell: Cell) -> Option<Cell> {
    cell.mesh.is_mixed().then_some(Cell {
        mesh: Mesh::AllUpstream,
        fault: cell.fault,
    })
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// The median delivery among joined nodes over the runs of `cell`.
pub fn median_delivery(outcomes: &[CellOutcome], cell: Cell) -> Option<f64> {
    median(
        runs(outcomes, cell)
            .iter()
            .map(|o| o.delivery_among_joined())
            .collect(),
    )
}

/// The median of `figure` for node `index` over the runs of `cell` in which every node joined.
fn node_median(
    outcomes: &[CellOutcome],
    cell: Cell,
    index: usize,
    figure: fn(&NodeOutcome) -> Option<u64>,
) -> Option<f64> {
    let values = runs(outcomes, cell)
        .into_iter()
        .filter(|o| o.islanded().is_empty())
        .filter_map(|o| o.nodes.iter().find(|n| n.index == index))
        .filter_map(figure)
        .map(|v| v as f64)
        .collect();
    median(values)
}

fn sent_bytes(n: &NodeOutcome) -> Option<u64> {
    Some(n.sent_bytes)
}

fn rss_bytes(n: &NodeOutcome) -> Option<u64> {
    n.rss_bytes
}

/// The upstream nodes of `cell`'s mesh.
fn upstream_nodes(outcomes: &[CellOutcome], cell: Cell) -> Vec<usize> {
    let Some(first) = runs(outcomes, cell).into_iter().next() else {
        return Vec::new();
    };
    first
        .nodes
        .iter()
        .filter(|n| n.build == Build::Upstream)
        .map(|n| n.index)
        .collect()
}

/// Per upstream node of mixed `cell`: its median of `figure` against the reference's, when both
/// have a run in which every node joined.
fn burdens(
    outcomes: &[CellOutcome],
    cell: Cell,
    figure: fn(&NodeOutcome) -> Option<u64>,
) -> Vec<(usize, f64, f64)> {
    let Some(reference) = reference_of(cell) else {
        return Vec::new();
    };
    upstream_nodes(outcomes, cell)
        .into_iter()
        .filter_map(|index| {
            let mine = node_median(outcomes, cell, index, figure)?;
            let theirs = node_median(outcomes, reference, index, figure)?;
            Some((index, mine, theirs))
        })
        .collect()
}

/// Per upstream node of mixed `cell`: the ratio of its median bytes sent to its median in the
/// reference (reported, not judged).
pub fn node_burdens(outcomes: &[CellOutcome], cell: Cell) -> Vec<(usize, f64)> {
    burdens(outcomes, cell, sent_bytes)
        .into_iter()
        .filter(|&(_, _, theirs)| theirs > 0.0)
        .map(|(index, mine, theirs)| (index, mine / theirs))
        .collect()
}

/// The median, over the runs of `of` in which every node joined, of the bytes that the upstream
/// nodes of `cell`'s mesh sent together.
fn together_median(outcomes: &[CellOutcome], cell: Cell, of: Cell) -> Option<f64> {
    let nodes = upstream_nodes(outcomes, cell);
    let totals = runs(outcomes, of)
        .into_iter()
        .filter(|o| o.islanded().is_empty())
        .map(|o| {
            let sent = o.nodes.iter().filter(|n| nodes.contains(&n.index));
            sent.map(|n| n.sent_bytes as f64).sum()
        })
        .collect();
    median(totals)
}

/// The bytes the upstream nodes of mixed `cell` sent together and the same nodes in the
/// reference (medians), when both have a run in which every node joined.
fn together(outcomes: &[CellOutcome], cell: Cell) -> Option<(f64, f64)> {
    if upstream_nodes(outcomes, cell).is_empty() {
        return None;
    }
    let reference = reference_of(cell)?;
    Some((
        together_median(outcomes, cell, cell)?,
        together_median(outcomes, cell, reference)?,
    ))
}

/// The ratio of the bytes the upstream nodes of `cell` send together to what the same nodes
/// send in the reference (medians); `None` without upstream nodes, a reference, or runs in which
/// every node joined.
pub fn upstream_burden(outcomes: &[CellOutcome], cell: Cell) -> Option<f64> {
    together(outcomes, cell)
        .filter(|&(_, theirs)| theirs > 0.0)
        .map(|(mine, theirs)| mine / theirs)
}

/// Every verdict the runs fail, one line each (empty: they pass).
pub fn failures(outcomes: &[CellOutcome]) -> Vec<String> {
    let mut out = Vec::new();
    for cell in cells(outcomes)
        .into_iter()
        .filter(|c| c.mesh != Mesh::AllUpstream)
    {
        let name = format!("{} / {}", cell.fault, cell.mesh);
        for o in runs(outcomes, cell) {
            out.extend(run_failures(&name, o));
        }
        let reference = reference_of(cell);
        if let (Some(mine), Some(theirs)) = (
            median_delivery(outcomes, cell),
            reference.and_then(|r| median_delivery(outcomes, r)),
        ) {
            if mine < theirs {
                out.push(format!(
                    "{name}: delivered {:.1}% (median among joined nodes), less than the all-upstream mesh's {:.1}%",
                    100.0 * mine,
                    100.0 * theirs
                ));
            }
        }
        if let Some((mine, theirs)) = together(outcomes, cell) {
            if mine > BURDEN_LIMIT * theirs {
                out.push(format!(
                    "{name}: the upstream nodes sent {mine:.0} B together (median), more than 1.2x the {theirs:.0} B they send among upstream nodes"
                ));
            }
        }
        for (index, mine, theirs) in burdens(outcomes, cell, rss_bytes) {
            if mine > BURDEN_LIMIT * theirs {
                out.push(format!(
                    "{name}: upstream node {index} holds {mine:.0} B of RSS (median), more than 1.2x the {theirs:.0} B it holds among upstream nodes"
                ));
            }
        }
    }
    out
}

/// What one run of a cell with a fork node fails, whatever the other runs did.
fn run_failures(name: &str, o: &CellOutcome) -> Vec<String> {
    let mut out = Vec::new();
    let run = o.run;
    for index in o.islanded() {
        if o.cell.mesh.build_of(index) == Build::Fork {
            out.push(format!(
                "{name}, run {run}: fork node {index}'s overlay never joined"
            ));
        }
    }
    if o.fault.healed_within_limit == Some(false) {
        out.push(format!(
            "{name}, run {run}: messages sent after the heal did not all reach the joined nodes within 10 s"
        ));
    }
    // A restarted upstream hub knows no peer to rejoin through, among fork peers as among
    // upstream ones: the rejoin is judged where the hub runs the fork (p2panda-net 0024).
    if o.fault.rejoin_s == Some(None) && o.cell.mesh.build_of(0) == Build::Fork {
        out.push(format!(
            "{name}, run {run}: the restarted hub did not hear from every peer within 30 s"
        ));
    }
    out
}

/// Per mixed cell, each upstream node's bytes against its own in the reference (medians), one
/// line each: reported, not judged.
pub fn node_burden_lines(outcomes: &[CellOutcome]) -> Vec<String> {
    cells(outcomes)
        .into_iter()
        .filter_map(|cell| {
            let ratios = node_burdens(outcomes, cell);
            (!ratios.is_empty()).then(|| {
                let each: Vec<String> = ratios
                    .iter()
                    .map(|(index, ratio)| format!("node {index} {ratio:.2}x"))
                    .collect();
                format!("{} / {}: {}", cell.fault, cell.mesh, each.join(", "))
            })
        })
        .collect()
}

/// What the runs could not judge, and why, one line each.
pub fn unjudged(outcomes: &[CellOutcome]) -> Vec<String> {
    let mut out = Vec::new();
    for o in outcomes {
        let islanded = o.islanded();
        if !islanded.is_empty() {
            out.push(format!(
                "{} / {}, run {}: node(s) {islanded:?} never joined the topic's overlay; the run's delivery is judged among the others, its bytes and memory not at all",
                o.cell.fault, o.cell.mesh, o.run
            ));
        }
    }
    for cell in cells(outcomes).into_iter().filter(|c| c.mesh.is_mixed()) {
        if !upstream_nodes(outcomes, cell).is_empty() && together(outcomes, cell).is_none() {
            out.push(format!(
                "{} / {}: bytes and memory not judged: no run of it and of the all-upstream mesh in which every node joined",
                cell.fault, cell.mesh
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultOutcome;
    use crate::matrix::Fault;
    use crate::outcome::fixture;

    fn outcome(mesh: Mesh, run: usize, delivered: usize, peer_sent: u64) -> CellOutcome {
        let mut o = fixture::outcome(mesh, Fault::Partition, run, (delivered, 10), peer_sent);
        o.fault.healed_within_limit = Some(true);
        o
    }

    fn island(mut o: CellOutcome, index: usize) -> CellOutcome {
        o.nodes[index].joined = false;
        o
    }

    #[test]
    fn the_reference_is_not_judged_but_a_mesh_with_fork_nodes_is() {
        let mut reference = outcome(Mesh::AllUpstream, 1, 6, 100);
        reference.fault.healed_within_limit = Some(false);
        let fine = outcome(Mesh::ForkHub, 1, 10, 120);
        assert!(failures(&[reference.clone(), fine]).is_empty());

        let mut worse = outcome(Mesh::ForkHub, 1, 5, 121);
        worse.fault.healed_within_limit = Some(false);
        let found = failures(&[reference, worse]);
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].contains("after the heal"));
        assert!(found[1].contains("less than the all-upstream mesh's 60.0%"));
        assert!(found[2].contains("the upstream nodes sent 121 B together"));
    }

    #[test]
    fn a_restarted_hub_must_rejoin_where_it_runs_the_fork() {
        let crashed = |mesh| {
            let mut o = outcome(mesh, 1, 10, 100);
            o.cell.fault = Fault::HubCrash;
            o.fault = FaultOutcome {
                rejoin_s: Some(None),
                ..FaultOutcome::default()
            };
            o
        };
        let found = failures(&[crashed(Mesh::ForkHub), crashed(Mesh::UpstreamHub)]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].starts_with("hub crash and restart / fork hub"));
    }

    #[test]
    fn medians_over_runs_are_judged() {
        let outcomes = [
            outcome(Mesh::AllUpstream, 1, 10, 100),
            outcome(Mesh::AllUpstream, 2, 10, 100),
            outcome(Mesh::AllUpstream, 3, 10, 100),
            outcome(Mesh::ForkHub, 1, 10, 300),
            outcome(Mesh::ForkHub, 2, 10, 110),
            outcome(Mesh::ForkHub, 3, 9, 100),
        ];
        // One run's 3x and one run's lost message are within the medians.
        assert!(failures(&outcomes).is_empty(), "{:#?}", failures(&outcomes));
        assert_eq!(upstream_burden(&outcomes, outcomes[3].cell), Some(1.1));

        let mut louder = outcomes.clone();
        louder[5].nodes[1].sent_bytes = 130;
        let found = failures(&louder);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].contains("the upstream nodes sent 130 B together (median)"));
    }

    #[test]
    fn one_upstream_node_may_send_more_if_the_upstream_nodes_together_do_not() {
        let pair = |mesh, run, first: u64, second: u64| {
            let mut o = outcome(mesh, run, 10, first);
            o.nodes.push(fixture::node(2, mesh.build_of(2), second));
            o
        };
        let outcomes = [
            pair(Mesh::AllUpstream, 1, 100, 100),
            pair(Mesh::ForkHub, 1, 150, 60),
        ];
        assert!(failures(&outcomes).is_empty(), "{:#?}", failures(&outcomes));
        assert_eq!(upstream_burden(&outcomes, outcomes[1].cell), Some(1.05));
        assert_eq!(
            node_burdens(&outcomes, outcomes[1].cell),
            [(1, 1.5), (2, 0.6)]
        );
    }

    #[test]
    fn an_islanded_upstream_node_sets_its_run_apart_but_a_fork_node_fails() {
        let outcomes = [
            island(outcome(Mesh::AllUpstream, 1, 6, 400), 1),
            outcome(Mesh::AllUpstream, 2, 10, 100),
            island(outcome(Mesh::ForkHub, 1, 6, 900), 1),
            outcome(Mesh::ForkHub, 2, 10, 110),
        ];
        assert!(failures(&outcomes).is_empty(), "{:#?}", failures(&outcomes));
        assert_eq!(unjudged(&outcomes).len(), 2, "{:#?}", unjudged(&outcomes));

        let all_islanded = [outcomes[0].clone(), outcomes[2].clone()];
        let notes = unjudged(&all_islanded);
        assert!(
            notes[2].contains("bytes and memory not judged"),
            "{notes:#?}"
        );

        let fork_islanded = [outcomes[1].clone(), island(outcomes[3].clone(), 0)];
        let found = failures(&fork_islanded);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].contains("fork node 0's overlay never joined"));
    }
}
