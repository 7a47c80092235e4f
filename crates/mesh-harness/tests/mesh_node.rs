//! Two `mesh-node` processes on loopback, driven through their stdin and stdout as the lab
//! drives them: gossip, log sync, stats, bad commands and a clean shutdown.
//!
//! Runs through cargo's runner (`scripts/netns-run`): both processes share the test's network
//! namespace, which has only `lo`, so they pass the node's guard.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a node may take to print `ready`.
const READY: Duration = Duration::from_secs(20);
/// How long gossip may take to arrive (and overlays to be joined).
const GOSSIP: Duration = Duration::from_secs(30);
/// How long written operations may take to be synced (resync every 2 s).
const SYNC: Duration = Duration::from_secs(60);
/// How long a command's answer or a shutdown may take.
const ANSWER: Duration = Duration::from_secs(15);

/// A running `mesh-node` and the events it printed.
struct Node {
    name: &'static str,
    child: Child,
    stdin: ChildStdin,
    events: mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl Node {
    /// Starts `mesh-node` on 127.0.0.1 with `args`.
    fn spawn(name: &'static str, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesh-node"))
            .args(["--bind", "127.0.0.1", "--resync", "2"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting mesh-node");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.expect("reading mesh-node's stdout");
                let event = serde_json::from_str(&line)
                    .unwrap_or_else(|err| panic!("not a JSON line ({err}): {line:?}"));
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        Self {
            name,
            child,
            stdin,
            events,
            seen: Vec::new(),
        }
    }

    /// Sends one command line.
    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").expect("writing a command");
        self.stdin.flush().unwrap();
    }

    /// The first event within `timeout` that `matches` accepts; fails the test, showing every
    /// event seen, if none comes.
    fn wait_for(
        &mut self,
        timeout: Duration,
        what: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(event) = self.events.recv_timeout(left) else {
                break;
            };
            self.seen.push(event.clone());
            if matches(&event) {
                return event;
            }
        }
        panic!(
            "{}: no {what} within {timeout:?}; events: {:#?}",
            self.name, self.seen
        );
    }

    /// The first event named `name`.
    fn wait_event(&mut self, timeout: Duration, name: &str) -> Value {
        self.wait_for(timeout, name, |e| e["event"] == name)
    }

    /// Waits for `ready`; returns the node id and the `--peer` address.
    fn ready(&mut self) -> (String, String) {
        let ready = self.wait_event(READY, "ready");
        let text = |field: &str| ready[field].as_str().expect(field).to_owned();
        (text("node_id"), text("addr"))
    }

    /// Sends `shutdown`; checks that `stopped` is printed and the process exits with 0.
    fn shutdown(mut self) {
        self.send("shutdown");
        let stopped = self.wait_event(ANSWER, "stopped");
        assert_eq!(stopped["clean"], true, "{}: {stopped}", self.name);
        let deadline = Instant::now() + ANSWER;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{}: exited with {status}", self.name);
                return;
            }
            assert!(Instant::now() < deadline, "{}: did not exit", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    /// A node left running by a failed test is killed.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Every event has its name and time; this one is of `topic`.
fn of_topic(event: &Value, name: &str, topic: &str) -> bool {
    assert!(event["t_ms"].is_u64(), "no t_ms: {event}");
    event["event"] == name && event["topic"] == topic
}

#[test]
fn two_processes_gossip_sync_report_and_stop() {
    let mut a = Node::spawn("A", &["--key-seed", "1", "--bootstrap"]);
    let (a_id, a_addr) = a.ready();
    assert!(
        a_addr.starts_with(&format!("{a_id}@127.0.0.1:")),
        "{a_addr}"
    );
    let mut b = Node::spawn("B", &["--key-seed", "2", "--peer", &a_addr]);
    let (b_id, _) = b.ready();
    assert_ne!(a_id, b_id);

    a.send(&format!("author t {b_id}"));
    b.send(&format!("author t {a_id}"));
    a.send("join t");
    b.send("join t");
    a.wait_for(GOSSIP, "joined t", |e| of_topic(e, "joined", "t"));
    b.wait_for(GOSSIP, "joined t", |e| of_topic(e, "joined", "t"));

    b.send("publish t hello");
    let received = a.wait_for(GOSSIP, "received hello", |e| {
        of_topic(e, "received", "t") && e["payload"] == "hello"
    });
    assert_eq!(received["from"], b_id.as_str());
    assert_eq!(received["bytes"], 5);

    a.send("write t 3");
    let written = a.wait_for(ANSWER, "written", |e| of_topic(e, "written", "t"));
    assert_eq!(written["height"], 3);
    b.wait_for(SYNC, "A's 3 operations synced", |e| {
        of_topic(e, "synced", "t") && e["author"] == a_id.as_str() && e["ops"] == 3
    });
    let synced: Vec<&Value> = b.seen.iter().filter(|e| e["event"] == "synced").collect();
    assert!(
        synced.iter().all(|e| e["author"] == a_id.as_str()),
        "{synced:#?}"
    );
    let new = synced.iter().filter(|e| e["new"] == true).count();
    assert_eq!(new, 3, "each of A's operations is new once: {synced:#?}");

    b.send("stats");
    let stats = b.wait_event(ANSWER, "stats");
    let readings = &stats["readings"];
    assert!(
        readings["p2panda_net.address_book.peers"].as_u64() >= Some(1),
        "{stats}"
    );
    assert!(readings["process.rss_bytes"].as_u64() > Some(0), "{stats}");
    b.send("peers");
    let peers = b.wait_event(ANSWER, "peers");
    assert!(peers["count"].as_u64() >= Some(1), "{peers}");

    b.send("publish u nobody-joined-u");
    let error = b.wait_event(ANSWER, "error");
    assert_eq!(error["command"], "publish");
    b.send("frobnicate now");
    let error = b.wait_event(ANSWER, "error");
    assert_eq!(error["command"], "frobnicate");

    b.send("leave t");
    b.wait_for(ANSWER, "left t", |e| of_topic(e, "left", "t"));
    b.shutdown();
    a.shutdown();
}
