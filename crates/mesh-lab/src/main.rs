//! `mesh-lab`: mixed meshes on hosts of their own. Run it through `scripts/lab-run` (or
//! `cargo xtask lab`), which gives it an outer network namespace with no link to the machine's
//! network; it refuses to run anywhere else.

mod cell;
mod chart;
mod delivery;
mod faults;
mod matrix;
mod net;
mod node;
mod outcome;
mod report;
mod verdict;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;

use cell::{CellRun, LabOptions};
use delivery::Phase;
use faults::FaultOutcome;
use matrix::{Cell, Fault, Mesh};
use net::Host;
use outcome::CellOutcome;

/// Mixed meshes of fork and upstream nodes, one process per host, under faults.
#[derive(Debug, Parser)]
struct Args {
    /// `mesh-node` built against our forks.
    #[arg(long)]
    fork_node: PathBuf,
    /// `mesh-node` built against unpatched upstream.
    #[arg(long)]
    upstream_node: PathBuf,
    /// Every mesh under every fault (20 cells), or a short one (4 cells).
    #[arg(long, value_enum, default_value_t = MatrixSize::Full)]
    matrix: MatrixSize,
    /// Only these meshes (default: the matrix's).
    #[arg(long, value_enum, value_delimiter = ',')]
    mesh: Vec<Mesh>,
    /// Only these faults (default: the matrix's).
    #[arg(long, value_enum, value_delimiter = ',')]
    fault: Vec<Fault>,
    /// Runs of every cell, one after the other matrix-wide; the verdicts judge medians over
    /// them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    repeat: u16,
    /// Long-lived peers besides the hub.
    #[arg(long, default_value_t = 4)]
    peers: usize,
    /// Messages each live node publishes per round.
    #[arg(long, default_value_t = 2)]
    messages: usize,
    /// Seconds a partition lasts.
    #[arg(long, default_value_t = 20)]
    partition_secs: u64,
    /// Churn waves.
    #[arg(long, default_value_t = 3)]
    churn_waves: usize,
    /// Short-lived peers per churn wave.
    #[arg(long, default_value_t = 4)]
    churn_size: usize,
    /// Limit every peer's link to this many kbit/s (HTB); the hub's stays free.
    #[arg(long)]
    rate_kbit: Option<u32>,
    /// Directory for the table and the CSV.
    #[arg(long, default_value = "lab-out")]
    out: PathBuf,
    /// Write each node's stderr to a file of its own in this directory (with RUST_LOG set, its
    /// logs).
    #[arg(long)]
    logs: Option<PathBuf>,
    /// Run fork nodes with iroh-gossip's catch-up, off by default (what it costs upstream peers).
    #[arg(long)]
    fork_catch_up: bool,
    /// Fork nodes' overlay top-up threshold (`mesh-node --min-topic-neighbours`; 0 turns it off).
    #[arg(long)]
    fork_min_topic_neighbours: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MatrixSize {
    Full,
    Short,
}

impl Args {
    fn cells(&self) -> Vec<Cell> {
        let base = match self.matrix {
            MatrixSize::Full => matrix::full(),
            MatrixSize::Short => matrix::short(),
        };
        base.into_iter()
            .filter(|c| self.mesh.is_empty() || self.mesh.contains(&c.mesh))
            .filter(|c| self.fault.is_empty() || self.fault.contains(&c.fault))
            .collect()
    }

    fn options(&self) -> LabOptions {
        LabOptions {
            fork_node: self.fork_node.clone(),
            upstream_node: self.upstream_node.clone(),
            peers: self.peers,
            messages: self.messages,
            partition: Duration::from_secs(self.partition_secs),
            churn: (self.churn_waves, self.churn_size),
            logs: self.logs.clone(),
            fork_catch_up: self.fork_catch_up,
            fork_min_topic_neighbours: self.fork_min_topic_neighbours,
        }
    }
}

/// Creates every host the cells need, and says which impairments run.
fn build_lab(args: &Args, options: &LabOptions) -> Result<Vec<String>> {
    net::check_isolated()?;
    net::create_bridge()?;
    let hosts: Vec<Host> = (1..=options.hosts() as u16).map(Host::numbered).collect();
    for host in &hosts {
        net::create_host(host)?;
    }
    let mut impairments = vec![format!(
        "netem (delay, loss): {}",
        if net::has_netem(&hosts[0]) {
            "available, not used by this matrix"
        } else {
            "not in this kernel: no delay or loss emulated"
        }
    )];
    match args.rate_kbit {
        Some(kbit) => {
            for host in &hosts[1..] {
                net::limit_rate(host, kbit)?;
            }
            impairments.push(format!("rate: {kbit} kbit/s on every peer's link (HTB)"));
        }
        None => impairments.push("rate: unlimited".to_owned()),
    }
    Ok(impairments)
}

/// Runs one cell: its nodes, the rounds around its fault, and their figures. `number` numbers
/// every cell run of the lab (it seeds the cell), `run` this cell's runs.
async fn run_cell(
    options: &LabOptions,
    cell: Cell,
    number: u64,
    run: usize,
) -> Result<CellOutcome> {
    let seed_base = number * 1_000;
    let mut cell_run = CellRun::start(options, cell, seed_base).await?;
    cell_run.round(Phase::Before).await?;
    let fault = match cell.fault {
        Fault::None => FaultOutcome::default(),
        Fault::Partition => faults::partition(&mut cell_run).await?,
        Fault::HubCrash => faults::hub_crash(&mut cell_run).await?,
        Fault::Churn => faults::churn(&mut cell_run, seed_base + 100).await?,
    };
    cell_run.round(Phase::After).await?;
    outcome::finish(cell_run, fault, run).await
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let options = args.options();
    let cells = args.cells();
    if cells.is_empty() {
        bail!("no cell left after --mesh and --fault");
    }
    if let Some(logs) = &args.logs {
        std::fs::create_dir_all(logs)?;
    }
    let impairments = build_lab(&args, &options)?;
    let mut outcomes = Vec::new();
    let runs: Vec<(usize, Cell)> = (1..=usize::from(args.repeat))
        .flat_map(|run| cells.iter().map(move |&cell| (run, cell)))
        .collect();
    for (number, &(run, cell)) in runs.iter().enumerate() {
        eprintln!(
            "mesh-lab: cell run {}/{}: {} / {} (run {run})",
            number + 1,
            runs.len(),
            cell.fault,
            cell.mesh
        );
        let outcome = run_cell(&options, cell, number as u64 + 1, run).await?;
        eprintln!(
            "mesh-lab:   delivered {:.1}%, {:.1}% among joined nodes",
            100.0 * outcome.delivery(),
            100.0 * outcome.delivery_among_joined()
        );
        outcomes.push(outcome);
    }
    std::fs::create_dir_all(&args.out)?;
    let table = format!(
        "{}\n{}",
        report::summary(&outcomes),
        report::table(&outcomes)
    );
    let failures = verdict::failures(&outcomes);
    let mut text = format!("{table}\nimpairments: {}\n", impairments.join("; "));
    for line in verdict::node_burden_lines(&outcomes) {
        text.push_str(&format!(
            "each upstream node's bytes against all upstream (medians, not judged): {line}\n"
        ));
    }
    for line in verdict::unjudged(&outcomes) {
        text.push_str(&format!("not judged: {line}\n"));
    }
    for line in &failures {
        text.push_str(&format!("FAIL {line}\n"));
    }
    print!("{text}");
    std::fs::write(args.out.join("lab-table.md"), &text)?;
    report::write_csv(&args.out.join("lab.csv"), &outcomes)?;
    chart::write_chart(&args.out.join("lab.svg"), &outcomes)?;
    println!("csv:   {}", args.out.join("lab.csv").display());
    println!("chart: {}", args.out.join("lab.svg").display());
    if !failures.is_empty() {
        bail!("{} verdicts failed", failures.len());
    }
    Ok(())
}
