//! The `/health` verdict: every structure's size against its bound.
//!
//! A structure with a `limit` is degraded above `degraded_fraction` of it; one with a
//! `capacity` only above the capacity itself (a full evicting store is healthy). The node is
//! `degraded` when any structure is, `ok` otherwise, `starting` before the first reading, and
//! `unresponsive` when the latest read of the node failed (its structures are then unknown).
//! Counters and unbounded structures never degrade it.

use serde::Serialize;

use crate::reading::{BoundKind, Reading};

/// Default share of a limit above which a structure is degraded.
pub const DEFAULT_DEGRADED_FRACTION: f64 = 0.8;

/// One structure in `/health`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StructureHealth {
    /// Dotted reading name.
    pub name: String,
    /// Current size.
    pub size: u64,
    /// Configured bound, if any.
    pub bound: Option<u64>,
    /// `size / bound` (a bound of 0 counts as 1), if bounded.
    pub fraction: Option<f64>,
    /// `limit` or `capacity`, if bounded.
    pub kind: Option<&'static str>,
    /// `ok` or `degraded`.
    pub status: &'static str,
}

/// The `/health` document of a node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    /// `ok`, `degraded`, `starting` or `unresponsive`.
    pub status: &'static str,
    /// Share of a limit above which a structure counts as degraded.
    pub degraded_fraction: f64,
    /// Every structure read (counters excluded), in reading order.
    pub structures: Vec<StructureHealth>,
}

impl Health {
    /// The verdict for a node whose latest read failed: `unresponsive`, whatever the structures
    /// still listed say.
    pub fn unresponsive(mut self) -> Self {
        self.status = "unresponsive";
        self
    }

    /// The HTTP status to serve it with: 200 when `ok`, 503 otherwise.
    pub fn http_status(&self) -> u16 {
        if self.status == "ok" {
            200
        } else {
            503
        }
    }
}

/// Judges `readings` (`None`: nothing read yet).
pub fn judge(readings: Option<&[Reading]>, degraded_fraction: f64) -> Health {
    let Some(readings) = readings else {
        return Health {
            status: "starting",
            degraded_fraction,
            structures: Vec::new(),
        };
    };
    let structures: Vec<StructureHealth> = readings
        .iter()
        .filter(|r| !r.is_counter())
        .map(|r| structure(r, degraded_fraction))
        .collect();
    let degraded = structures.iter().any(|s| s.status == "degraded");
    Health {
        status: if degraded { "degraded" } else { "ok" },
        degraded_fraction,
        structures,
    }
}

/// One structure's verdict.
fn structure(r: &Reading, degraded_fraction: f64) -> StructureHealth {
    let fraction = r.bound.map(|b| r.value as f64 / b.value.max(1) as f64);
    // A capacity is meant to be reached (the store then evicts, and counts it); only a
    // structure above it is degraded. A limit is degraded well before it is reached.
    let threshold = match r.bound.map(|b| b.kind) {
        Some(BoundKind::Capacity) => 1.0,
        _ => degraded_fraction,
    };
    StructureHealth {
        name: r.name.clone(),
        size: r.value,
        bound: r.bound.map(|b| b.value),
        fraction,
        kind: r.bound.map(|b| b.kind.as_str()),
        status: if fraction.is_some_and(|f| f > threshold) {
            "degraded"
        } else {
            "ok"
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings(peers: u64, ops: u64) -> Vec<Reading> {
        vec![
            Reading::bounded(
                "p2panda_net.address_book.peers",
                peers,
                100,
                BoundKind::Limit,
            ),
            Reading::new("p2panda_net.address_book.evictions_ttl_total", 5),
            Reading::bounded("p2panda_store.operations", ops, 400, BoundKind::Capacity),
            Reading::new("iroh_gossip.connection_tasks", 3),
        ]
    }

    #[test]
    fn a_limit_degrades_near_it() {
        assert_eq!(judge(None, 0.8).status, "starting");
        let ok = judge(Some(&readings(80, 10)), 0.8);
        assert_eq!((ok.status, ok.http_status()), ("ok", 200));
        assert_eq!(ok.structures.len(), 3, "counters are not structures");
        let degraded = judge(Some(&readings(81, 10)), 0.8);
        assert_eq!((degraded.status, degraded.http_status()), ("degraded", 503));
        let peers = &degraded.structures[0];
        assert_eq!(
            (peers.size, peers.bound, peers.kind, peers.status),
            (81, Some(100), Some("limit"), "degraded")
        );
    }

    #[test]
    fn a_full_capacity_is_healthy_but_over_it_is_not() {
        assert_eq!(judge(Some(&readings(10, 400)), 0.8).status, "ok");
        assert_eq!(judge(Some(&readings(10, 401)), 0.8).status, "degraded");
    }
}
