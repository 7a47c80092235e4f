//! One `mesh-node` process on a lab host, driven through its stdin and stdout: commands are
//! lines, events are JSON lines (see crates/mesh-harness/src/bin/mesh-node). Every event is kept
//! with the moment the driver read it, which is the clock latencies are measured on.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use crate::net::Host;

/// The port every node listens on: each host has an address of its own, and a node restarted
/// after a crash comes back at the same address.
pub const NODE_PORT: u16 = 4433;

/// An event a node printed, and when the driver read it.
#[derive(Debug, Clone)]
pub struct Event {
    /// When the driver read the line.
    pub at: Instant,
    /// The event's JSON object.
    pub body: Value,
}

impl Event {
    /// The event's name (`ready`, `received`, ...).
    pub fn name(&self) -> &str {
        self.body["event"].as_str().unwrap_or("")
    }
}

/// A running `mesh-node` process.
pub struct NodeProcess {
    child: Child,
    stdin: ChildStdin,
    events: mpsc::UnboundedReceiver<Event>,
    /// Every event read so far, in order.
    pub history: Vec<Event>,
}

impl NodeProcess {
    /// Starts `binary` in `host`'s namespace with `args` and the host's address to bind; its
    /// stderr (logs, with `RUST_LOG` set) is appended to `log`, or shared with the driver's.
    pub fn spawn(binary: &Path, host: &Host, args: &[String], log: Option<&Path>) -> Result<Self> {
        let stderr = match log {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("opening {}", path.display()))?,
            ),
            None => Stdio::inherit(),
        };
        let mut child = Command::new("ip")
            .args(["netns", "exec", &host.name])
            .arg(binary)
            .args(["--bind", &host.addr.to_string()])
            .args(["--port", &NODE_PORT.to_string()])
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} on {}", binary.display(), host.name))?;
        let stdin = child.stdin.take().context("node stdin")?;
        let stdout = child.stdout.take().context("node stdout")?;
        let (tx, events) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let at = Instant::now();
                if let Ok(body) = serde_json::from_str::<Value>(&line) {
                    if tx.send(Event { at, body }).is_err() {
                        break;
                    }
                }
            }
        });
        Ok(Self {
            child,
            stdin,
            events,
            history: Vec::new(),
        })
    }

    /// Sends one command line.
    pub async fn send(&mut self, command: &str) -> Result<()> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .with_context(|| format!("sending {command:?}"))?;
        self.stdin.flush().await?;
        Ok(())
    }

    /// Moves every event printed so far into [`history`](Self::history).
    pub fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.history.push(event);
        }
    }

    /// Waits up to `timeout` for an event `matches` accepts, keeping every event read on the
    /// way; `None` when none came in time or the process ended.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        matches: impl Fn(&Event) -> bool,
    ) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv()).await;
            let event = event.ok()??;
            self.history.push(event.clone());
            if matches(&event) {
                return Some(event);
            }
        }
    }

    /// Waits for the `ready` event and returns the node's `--peer` address.
    pub async fn ready(&mut self, timeout: Duration) -> Result<String> {
        let Some(ready) = self.wait_for(timeout, |e| e.name() == "ready").await else {
            bail!("the node did not get ready within {timeout:?}");
        };
        ready.body["addr"]
            .as_str()
            .map(str::to_owned)
            .context("a ready event without an address")
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub async fn kill(&mut self) -> Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        self.drain();
        Ok(())
    }

    /// Asks for a clean shutdown and waits up to `timeout` for the process to exit; kills it
    /// after that. Returns whether it exited cleanly.
    pub async fn shutdown(&mut self, timeout: Duration) -> bool {
        let asked = self.send("shutdown").await.is_ok();
        let exited = tokio::time::timeout(timeout, self.child.wait()).await;
        self.drain();
        match exited {
            Ok(Ok(status)) => asked && status.success(),
            _ => {
                let _ = self.kill().await;
                false
            }
        }
    }
}
