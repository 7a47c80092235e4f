//! What a cell leaves behind once its nodes are stopped: per node its traffic, memory and synced
//! operations, and for the cell its deliveries, join times and latencies.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::cell::CellRun;
use crate::delivery::{quantile, tally, Message, Phase};
use crate::faults::{FaultOutcome, HEAL_LIMIT};
use crate::matrix::{Build, Cell};

/// How long a node may take to answer `stats`.
const STATS_TIMEOUT: Duration = Duration::from_secs(10);

/// One long-lived node at the end of a cell.
#[derive(Debug, Clone, Serialize)]
pub struct NodeOutcome {
    /// 0 for the hub.
    pub index: usize,
    /// `hub` or `peer`.
    pub role: &'static str,
    /// Its build.
    pub build: Build,
    /// Bytes its host sent during the cell.
    pub sent_bytes: u64,
    /// Packets its host sent during the cell.
    pub sent_packets: u64,
    /// Its resident set at the end, if it answered.
    pub rss_bytes: Option<u64>,
    /// Operations it received through sync.
    pub synced_ops: u64,
    /// Whether its overlay of the topic ever reported joined (its gossip reaches nobody until it
    /// does).
    pub joined: bool,
}

/// A cell's figures.
#[derive(Debug, Clone)]
pub struct CellOutcome {
    /// The cell.
    pub cell: Cell,
    /// Which run of the cell this is, from 1 (`mesh-lab --repeat`).
    pub run: usize,
    /// Its long-lived nodes.
    pub nodes: Vec<NodeOutcome>,
    /// Gossip deliveries made and expected (steady rounds, partition heal, churn).
    pub delivered: (usize, usize),
    /// The same among the nodes whose overlay joined (see [`Message::among_joined`]): what the
    /// verdicts judge.
    pub delivered_among_joined: (usize, usize),
    /// The same, to upstream nodes only.
    pub delivered_to_upstream: (usize, usize),
    /// Join times, ms.
    pub join_ms: Vec<f64>,
    /// Publish-to-receive latencies, ms.
    pub latency_ms: Vec<f64>,
    /// What the fault measured.
    pub fault: FaultOutcome,
}

impl CellOutcome {
    /// Delivered share, 1.0 when nothing was expected.
    pub fn delivery(&self) -> f64 {
        ratio(self.delivered)
    }

    /// Delivered share among the nodes whose overlay joined.
    pub fn delivery_among_joined(&self) -> f64 {
        ratio(self.delivered_among_joined)
    }

    /// The long-lived nodes whose overlay of the topic never reported joined.
    pub fn islanded(&self) -> Vec<usize> {
        islanded(&self.nodes)
    }

    /// Join time quantile, ms.
    pub fn join(&self, q: f64) -> Option<f64> {
        quantile(&self.join_ms, q)
    }

    /// Latency quantile, ms.
    pub fn latency(&self, q: f64) -> Option<f64> {
        quantile(&self.latency_ms, q)
    }
}

/// `made / expected`, 1.0 when nothing was expected.
pub fn ratio((made, expected): (usize, usize)) -> f64 {
    if expected == 0 {
        1.0
    } else {
        made as f64 / expected as f64
    }
}

/// Messages whose delivery is judged: not those sent into a partition (expected on one side
/// only, and judged by the heal) nor the rejoin probes (sent while the hub is still rejoining).
fn judged(m: &Message) -> bool {
    !matches!(m.phase, Phase::Partitioned | Phase::Rejoin)
}

/// The nodes among `nodes` whose overlay never reported joined.
fn islanded(nodes: &[NodeOutcome]) -> Vec<usize> {
    nodes
        .iter()
        .filter(|n| !n.joined)
        .map(|n| n.index)
        .collect()
}

/// Reads every long-lived node's figures, stops every node, and sums the cell up; `run` counts
/// the cell's runs from 1.
pub async fn finish(
    mut run: CellRun<'_>,
    mut fault: FaultOutcome,
    number: usize,
) -> Result<CellOutcome> {
    run.read_events();
    let mut nodes = Vec::new();
    for member in &mut run.members {
        member.process.drain();
        let traffic = CellRun::sent_since_start(member)?;
        member.process.send("stats").await?;
        let stats = member
            .process
            .wait_for(STATS_TIMEOUT, |e| e.name() == "stats")
            .await;
        let rss = stats.and_then(|e| e.body["readings"]["process.rss_bytes"].as_u64());
        // One event per operation received; `new` when the store did not have it yet.
        let synced_ops = member
            .process
            .history
            .iter()
            .filter(|e| e.name() == "synced" && e.body["new"].as_bool() == Some(true))
            .count() as u64;
        let joined = member.process.history.iter().any(|e| e.name() == "joined");
        nodes.push(NodeOutcome {
            index: member.index,
            role: if member.index == 0 { "hub" } else { "peer" },
            build: member.build,
            sent_bytes: traffic.sent_bytes,
            sent_packets: traffic.sent_packets,
            rss_bytes: rss,
            synced_ops,
            joined,
        });
    }
    for member in &mut run.members {
        member.process.shutdown(Duration::from_secs(10)).await;
    }
    let mesh = run.cell.mesh;
    let to_upstream = |m: &Message| {
        let expected: Vec<usize> = m
            .expected
            .iter()
            .copied()
            .filter(|&i| mesh.build_of(i) == Build::Upstream)
            .collect();
        let made = expected
            .iter()
            .filter(|i| m.received.contains_key(i))
            .count();
        (made, expected.len())
    };
    let delivered_to_upstream = run
        .ledger
        .messages
        .iter()
        .filter(|m| judged(m))
        .map(to_upstream)
        .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
    // An upstream node whose single join attempt drew no dialable peer never joins, in any mesh
    // (docs/lab.md): the verdicts judge delivery and the heal among the others.
    let islanded = islanded(&nodes);
    let among_joined: Vec<Message> = run
        .ledger
        .messages
        .iter()
        .filter_map(|m| m.among_joined(&islanded))
        .collect();
    let delivered_among_joined = tally(among_joined.iter().filter(|m| judged(m)));
    if fault.healed_within_limit.is_some() {
        let healed = among_joined
            .iter()
            .filter(|m| m.phase == Phase::Healed)
            .all(|m| m.complete_within(HEAL_LIMIT));
        fault.healed_within_limit = Some(healed);
    }
    Ok(CellOutcome {
        cell: run.cell,
        run: number,
        delivered: run.ledger.delivered(judged),
        delivered_among_joined,
        delivered_to_upstream,
        latency_ms: run
            .ledger
            .messages
            .iter()
            .filter(|m| judged(m))
            .flat_map(Message::latencies_ms)
            .collect(),
        join_ms: run.join_ms,
        nodes,
        fault,
    })
}

/// Outcomes for the tests of the tables, verdicts and chart.
#[cfg(test)]
pub mod fixture {
    use super::*;
    use crate::matrix::{Fault, Mesh};

    /// Node `index` of `build`, joined, with `sent_bytes` sent and 1,000 B of RSS.
    pub fn node(index: usize, build: Build, sent_bytes: u64) -> NodeOutcome {
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

    /// Run `run` of a cell with a hub that sent 100 B and one peer that sent `peer_sent`,
    /// `delivered` (made, expected) both in all and among joined nodes, and no fault result.
    pub fn outcome(
        mesh: Mesh,
        fault: Fault,
        run: usize,
        delivered: (usize, usize),
        peer_sent: u64,
    ) -> CellOutcome {
        CellOutcome {
            cell: Cell { mesh, fault },
            run,
            nodes: vec![
                node(0, mesh.build_of(0), 100),
                node(1, mesh.build_of(1), peer_sent),
            ],
            delivered,
            delivered_among_joined: delivered,
            delivered_to_upstream: delivered,
            join_ms: vec![],
            latency_ms: vec![],
            fault: FaultOutcome::default(),
        }
    }
}
