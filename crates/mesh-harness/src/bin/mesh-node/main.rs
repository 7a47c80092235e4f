//! `mesh-node`: one p2panda-net node per process, driven by a line protocol, for the lab (many
//! network namespaces, each running one `mesh-node`, built against our forks or against
//! upstream).
//!
//! Commands come on stdin, one per line (see [`control::Command`]); events go to stdout as JSON
//! objects, one per line, each with `event` and `t_ms`. The end of stdin shuts the node down as
//! `shutdown` does. Before anything else the process checks its network namespace
//! ([`guard`]): it refuses to run, with exit code 97, on a machine's real network.
//!
//! Exit codes: 0 after a clean shutdown, 1 when the shutdown failed or timed out, 2 when the
//! node could not start (and clap's usage errors), 97 when the guard refuses.

mod args;
mod control;
mod node;

use std::io::BufRead;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use mesh_harness::guard;
use tokio::sync::mpsc;

use args::Args;
use control::{Command, Events};
use node::{Flow, MeshNode, Setup};

/// The heap figure of `stats` (`process.heap_bytes`), as a controller's would be counted.
#[global_allocator]
static ALLOC: mesh_metrics::alloc::CountingAlloc = mesh_metrics::alloc::CountingAlloc;

/// Commands read ahead of the node.
const COMMAND_QUEUE: usize = 64;

fn main() -> ExitCode {
    let start = Instant::now();
    let args = Args::parse();
    if let Err(refused) = guard::check("mesh-node") {
        return refused;
    }
    // Heap figures must not include anyhow's captured backtraces.
    // SAFETY: single-threaded here, before the runtime starts.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    install_log_subscriber();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
        .and_then(|rt| rt.block_on(run(args, Events::new(start))));
    match outcome {
        Ok(Flow::Stop { clean: true }) | Ok(Flow::Continue) => ExitCode::SUCCESS,
        Ok(Flow::Stop { clean: false }) => ExitCode::from(1),
        Err(err) => {
            eprintln!("mesh-node: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Starts the node, then carries out commands until `shutdown` or the end of stdin.
async fn run(args: Args, events: Events) -> Result<Flow> {
    let setup = Setup {
        key: args.key(),
        bootstrap: args.bootstrap,
        peer_ttl: args.peer_ttl,
        options: args.node_options(),
    };
    let mut node = MeshNode::start(setup, events).await?;
    let mut commands = read_stdin();
    while let Some(line) = commands.recv().await {
        let flow = match Command::parse(&line) {
            Ok(Some(command)) => node.handle(command).await,
            Ok(None) => Flow::Continue,
            Err(message) => {
                events.error(first_word(&line), message);
                Flow::Continue
            }
        };
        if flow != Flow::Continue {
            return Ok(flow);
        }
    }
    Ok(node.shutdown().await)
}

/// The lines of stdin, read by a thread of their own (not joined: a process that exits does
/// not wait for it, while a runtime would wait for its blocking read).
fn read_stdin() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line).into_owned();
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The command a bad line names, for its `error` event.
fn first_word(line: &str) -> &str {
    line.split_whitespace().next().unwrap_or("")
}

/// The node's logs on stderr, only when asked for (`RUST_LOG=warn`, ...).
fn install_log_subscriber() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .init();
    }
}
