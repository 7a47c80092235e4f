//! One cell of the matrix, run: a hub and its long-lived peers started on their hosts, a steady
//! round of messages, the cell's fault, another steady round, then every node's figures.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::delivery::{Ledger, Phase};
use crate::matrix::{Build, Cell};
use crate::net::{self, Host, Traffic};
use crate::node::NodeProcess;

/// The topic every node of the lab joins.
pub const TOPIC: &str = "lab";
/// How long a node may take to print `ready`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a round's messages may take to reach every live subscriber before the cell moves on
/// (the heal verdict has its own, shorter limit).
const ROUND_TIMEOUT: Duration = Duration::from_secs(15);
/// Operations each long-lived node writes before joining, for the others to sync.
pub const OPS_PER_NODE: u64 = 3;

/// What a lab run is made of.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// The `mesh-node` binary built against our forks.
    pub fork_node: PathBuf,
    /// The `mesh-node` binary built against unpatched upstream.
    pub upstream_node: PathBuf,
    /// Long-lived peers besides the hub.
    pub peers: usize,
    /// Messages each live node publishes per round.
    pub messages: usize,
    /// How long a partition lasts.
    pub partition: Duration,
    /// Churn waves, and short-lived peers per wave.
    pub churn: (usize, usize),
    /// Where each node's log goes (`<mesh>-<fault>-node<i>.log`, restarts appended), if set.
    pub logs: Option<PathBuf>,
    /// Whether fork nodes run with iroh-gossip's catch-up (`mesh-node --catch-up`).
    pub fork_catch_up: bool,
    /// Fork nodes' `--min-topic-neighbours`, if set (0: no overlay top-up, as upstream).
    pub fork_min_topic_neighbours: Option<usize>,
}

impl LabOptions {
    /// The binary of `build`.
    pub fn binary(&self, build: Build) -> &PathBuf {
        match build {
            Build::Fork => &self.fork_node,
            Build::Upstream => &self.upstream_node,
        }
    }

    /// Hosts a cell needs: the hub, the peers and one churn wave.
    pub fn hosts(&self) -> usize {
        1 + self.peers + self.churn.1
    }
}

/// A node of a running cell.
pub struct Member {
    /// 0 for the hub, 1.. for the long-lived peers, after them the short-lived ones.
    pub index: usize,
    /// Its host.
    pub host: Host,
    /// Its build.
    pub build: Build,
    /// Seed of its key (a restarted node keeps it).
    pub seed: u64,
    /// The process.
    pub process: NodeProcess,
    /// Its key, hex.
    pub node_id: String,
    /// Its `--peer` address.
    pub addr: String,
    /// Whether it runs and is subscribed.
    pub live: bool,
    /// Partition side (0 unless cut off).
    pub side: u8,
    /// Events already read into the ledger.
    read: usize,
    /// Its host's counters when it started.
    traffic_at_start: Traffic,
}

/// A running cell.
pub struct CellRun<'a> {
    /// The options.
    pub options: &'a LabOptions,
    /// The cell.
    pub cell: Cell,
    /// The hub, the long-lived peers, and any short-lived peers alive.
    pub members: Vec<Member>,
    /// Every message published.
    pub ledger: Ledger,
    /// Milliseconds from `join` to `joined`, per node that joined.
    pub join_ms: Vec<f64>,
    /// Next message number.
    next_message: usize,
}

impl<'a> CellRun<'a> {
    /// Starts the hub, then its peers pointed at it; each writes its operations and joins.
    pub async fn start(options: &'a LabOptions, cell: Cell, seed_base: u64) -> Result<Self> {
        let mut run = Self {
            options,
            cell,
            members: Vec::new(),
            ledger: Ledger::default(),
            join_ms: Vec::new(),
            next_message: 0,
        };
        for index in 0..=options.peers {
            let build = cell.mesh.build_of(index);
            run.spawn(index, build, seed_base + index as u64).await?;
        }
        let everyone: Vec<usize> = (0..run.members.len()).collect();
        run.introduce_authors(&everyone).await?;
        run.join(&everyone).await?;
        Ok(run)
    }

    /// Starts node `index` on host `index + 1` and waits until it is ready.
    pub async fn spawn(&mut self, index: usize, build: Build, seed: u64) -> Result<()> {
        let host = Host::numbered(index as u16 + 1);
        let mut args = vec!["--key-seed".to_owned(), seed.to_string()];
        match self.members.first() {
            Some(hub) if index != 0 => args.extend(["--peer".to_owned(), hub.addr.clone()]),
            _ => args.push("--bootstrap".to_owned()),
        }
        if build == Build::Fork && self.options.fork_catch_up {
            args.push("--catch-up".to_owned());
        }
        if let (Build::Fork, Some(min)) = (build, self.options.fork_min_topic_neighbours) {
            args.extend(["--min-topic-neighbours".to_owned(), min.to_string()]);
        }
        let log = self.options.logs.as_ref().map(|dir| {
            let cell = format!("{}-{}", self.cell.mesh, self.cell.fault).replace([' ', ','], "-");
            dir.join(format!("{cell}-node{index}.log"))
        });
        let binary = self.options.binary(build);
        let mut process = NodeProcess::spawn(binary, &host, &args, log.as_deref())?;
        let addr = process.ready(READY_TIMEOUT).await?;
        let node_id = addr.split('@').next().unwrap_or_default().to_owned();
        // A restarted node's traffic counts from its first start.
        let traffic_at_start = match self.members.iter().find(|m| m.index == index) {
            Some(earlier) => earlier.traffic_at_start,
            None => net::traffic(&host)?,
        };
        let member = Member {
            index,
            traffic_at_start,
            host,
            build,
            seed,
            process,
            node_id,
            addr,
            live: true,
            side: 0,
            read: 0,
        };
        match self.members.iter().position(|m| m.index == index) {
            Some(at) => self.members[at] = member,
            None => self.members.push(member),
        }
        Ok(())
    }

    /// Tells the members at `to` which authors write for the topic (log sync asks its topic
    /// map), and has each of them write its operations. A restarted node is told alone: the
    /// others already know its key, and must not write again.
    pub async fn introduce_authors(&mut self, to: &[usize]) -> Result<()> {
        let authors: Vec<String> = self.members.iter().map(|m| m.node_id.clone()).collect();
        for &at in to {
            let member = &mut self.members[at];
            for author in &authors {
                member
                    .process
                    .send(&format!("author {TOPIC} {author}"))
                    .await?;
            }
            member
                .process
                .send(&format!("write {TOPIC} {OPS_PER_NODE}"))
                .await?;
        }
        Ok(())
    }

    /// Subscribes the members at `members`, and records how long each overlay took to report
    /// it joined (a node whose overlay never says so within the timeout records nothing).
    pub async fn join(&mut self, members: &[usize]) -> Result<()> {
        let mut sent = Vec::new();
        for &at in members {
            self.members[at]
                .process
                .send(&format!("join {TOPIC}"))
                .await?;
            self.members[at].live = true;
            sent.push(Instant::now());
        }
        for (&at, sent) in members.iter().zip(sent) {
            let remaining = READY_TIMEOUT.saturating_sub(sent.elapsed());
            let joined = self.members[at]
                .process
                .wait_for(remaining, |e| e.name() == "joined")
                .await;
            if let Some(event) = joined {
                self.join_ms
                    .push(event.at.duration_since(sent).as_secs_f64() * 1e3);
            }
        }
        Ok(())
    }

    /// Has every live member in `publishers` publish one message of `phase`, expected at every
    /// other live member on its side (during churn: every other long-lived one; short-lived
    /// peers leave too soon to judge what they receive).
    pub async fn publish_from(&mut self, publishers: &[usize], phase: Phase) -> Result<()> {
        for &at in publishers {
            let from = &self.members[at];
            if !from.live {
                continue;
            }
            let expected: Vec<usize> = self
                .members
                .iter()
                .filter(|m| m.live && m.index != from.index && m.side == from.side)
                .filter(|m| phase != Phase::Churn || m.index <= self.options.peers)
                .map(|m| m.index)
                .collect();
            let id = format!("m{}-{}", self.next_message, from.index);
            self.next_message += 1;
            let from_index = from.index;
            self.members[at]
                .process
                .send(&format!("publish {TOPIC} {id}"))
                .await?;
            self.ledger.sent(id, from_index, phase, expected);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// A steady round: every live member publishes the configured number of messages, then the
    /// cell waits until they all arrived (or [`ROUND_TIMEOUT`]).
    pub async fn round(&mut self, phase: Phase) -> Result<()> {
        let everyone: Vec<usize> = (0..self.members.len()).collect();
        for _ in 0..self.options.messages {
            self.publish_from(&everyone, phase).await?;
        }
        self.settle(phase, ROUND_TIMEOUT).await;
        Ok(())
    }

    /// Reads every member's new events into the ledger until the messages of `phase` are all
    /// delivered or `timeout` has passed; whether they were.
    pub async fn settle(&mut self, phase: Phase, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        loop {
            self.read_events();
            if self.ledger.phase_complete(phase) {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Moves every member's new events into the ledger.
    pub fn read_events(&mut self) {
        for member in &mut self.members {
            member.process.drain();
            self.ledger
                .read(member.index, &member.process.history[member.read..]);
            member.read = member.process.history.len();
        }
    }

    /// Bytes and packets `member` has sent since it started.
    pub fn sent_since_start(member: &Member) -> Result<Traffic> {
        let now = net::traffic(&member.host)?;
        Ok(Traffic {
            sent_bytes: now.sent_bytes - member.traffic_at_start.sent_bytes,
            sent_packets: now.sent_packets - member.traffic_at_start.sent_packets,
        })
    }
}
