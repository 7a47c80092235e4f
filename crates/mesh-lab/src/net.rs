//! The lab's network: one bridge, and per host a network namespace joined to it by a veth pair,
//! with an address of the lab's own (10.77.0.0/16). Everything is created inside the outer
//! namespace `scripts/lab-run` makes, and vanishes with it.
//!
//! A host's interface is `lab0` inside its namespace and `lab-<host>` on the bridge side, so the
//! node binary's guard (every interface `lo` or `lab*`) holds in every host. The bridge-side
//! interface is what faults act on: link down cuts the host off, an HTB qdisc limits its rate,
//! and its counters are what the host sent and received.

use std::net::Ipv4Addr;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The bridge every host hangs off.
const BRIDGE: &str = "labbr";

/// One host of the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Its namespace's name, `h<index>`.
    pub name: String,
    /// Its address on the lab's network.
    pub addr: Ipv4Addr,
}

impl Host {
    /// Host number `index`: namespace `h<index>`, address 10.77.(index / 250).(index % 250 + 1).
    pub fn numbered(index: u16) -> Self {
        let (third, fourth) = (index / 250, index % 250 + 1);
        Self {
            name: format!("h{index}"),
            addr: Ipv4Addr::new(10, 77, third as u8, fourth as u8),
        }
    }

    /// The bridge-side end of its veth pair, in the outer namespace.
    pub fn link(&self) -> String {
        format!("lab-{}", self.name)
    }
}

/// Runs `ip` (or `tc`) with `args`, failing with its stderr.
fn run(tool: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .with_context(|| format!("starting {tool}"))?;
    if !out.status.success() {
        bail!(
            "{tool} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Refuses to build a lab anywhere but in an outer namespace of `scripts/lab-run`: one whose
/// interfaces are only `lo` and the lab's own.
pub fn check_isolated() -> Result<()> {
    let dev = std::fs::read_to_string("/proc/net/dev").context("reading /proc/net/dev")?;
    let foreign: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|line| line.split(':').next().map(str::trim))
        .filter(|name| *name != "lo" && !name.starts_with("lab"))
        .collect();
    if !foreign.is_empty() {
        bail!(
            "refusing to build the lab beside the interfaces {foreign:?}: run it through \
             scripts/lab-run, which gives it a network namespace of its own"
        );
    }
    Ok(())
}

/// Creates the bridge.
pub fn create_bridge() -> Result<()> {
    run("ip", &["link", "add", BRIDGE, "type", "bridge"])?;
    run("ip", &["link", "set", BRIDGE, "up"])
}

/// Creates `host`: its namespace, its veth pair on the bridge, its address, `lo` up.
pub fn create_host(host: &Host) -> Result<()> {
    let link = host.link();
    let peer = format!("{link}p");
    let cidr = format!("{}/16", host.addr);
    run("ip", &["netns", "add", &host.name])?;
    run(
        "ip",
        &["link", "add", &link, "type", "veth", "peer", "name", &peer],
    )?;
    run("ip", &["link", "set", &peer, "netns", &host.name])?;
    let inside = |args: &[&str]| {
        let mut all = vec!["-n", host.name.as_str()];
        all.extend_from_slice(args);
        run("ip", &all)
    };
    inside(&["link", "set", &peer, "name", "lab0"])?;
    inside(&["addr", "add", &cidr, "dev", "lab0"])?;
    inside(&["link", "set", "lab0", "up"])?;
    inside(&["link", "set", "lo", "up"])?;
    run("ip", &["link", "set", &link, "master", BRIDGE])?;
    set_link(host, true)
}

/// Brings `host`'s link up (connected) or down (cut off: a partition).
pub fn set_link(host: &Host, up: bool) -> Result<()> {
    let state = if up { "up" } else { "down" };
    run("ip", &["link", "set", &host.link(), state])
}

/// Limits what reaches `host` to `kbit` kilobits per second (HTB on the bridge side).
pub fn limit_rate(host: &Host, kbit: u32) -> Result<()> {
    let link = host.link();
    let rate = format!("{kbit}kbit");
    run(
        "tc",
        &[
            "qdisc", "add", "dev", &link, "root", "handle", "1:", "htb", "default", "10",
        ],
    )?;
    run(
        "tc",
        &[
            "class", "add", "dev", &link, "parent", "1:", "classid", "1:10", "htb", "rate", &rate,
        ],
    )
}

/// Whether the kernel has netem (delay and loss); probed on `host`'s link and removed again.
pub fn has_netem(host: &Host) -> bool {
    let link = host.link();
    let added = run(
        "tc",
        &[
            "qdisc", "add", "dev", &link, "root", "netem", "delay", "1ms",
        ],
    );
    if added.is_ok() {
        let _ = run("tc", &["qdisc", "del", "dev", &link, "root"]);
    }
    added.is_ok()
}

/// What a host has sent and received so far, from its link's counters (the bridge side receives
/// what the host sends).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes the host sent.
    pub sent_bytes: u64,
    /// Packets the host sent.
    pub sent_packets: u64,
}

/// `host`'s traffic so far.
pub fn traffic(host: &Host) -> Result<Traffic> {
    let stat = |name: &str| -> Result<u64> {
        let path = format!("/sys/class/net/{}/statistics/{name}", host.link());
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        Ok(text.trim().parse()?)
    };
    Ok(Traffic {
        sent_bytes: stat("rx_bytes")?,
        sent_packets: stat("rx_packets")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_get_distinct_lab_addresses() {
        assert_eq!(Host::numbered(1).addr, Ipv4Addr::new(10, 77, 0, 2));
        assert_eq!(Host::numbered(249).addr, Ipv4Addr::new(10, 77, 0, 250));
        assert_eq!(Host::numbered(250).addr, Ipv4Addr::new(10, 77, 1, 1));
        assert_eq!(Host::numbered(7).link(), "lab-h7");
    }
}
