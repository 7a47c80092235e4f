//! What a remembered departed peer costs the hub, between each two settled samples: with the
//! default or a long peer TTL the hub's book grows by one peer per cycle, and the heap it gains
//! between two settled samples (every departed peer's transient state gone) is what it keeps
//! for the peers it still remembers.

use std::fmt::Write;

use crate::probe::Sample;

const PEERS: &str = "p2panda_net.address_book.peers";

/// The hub's heap per remembered peer between two settled samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RememberedStep {
    /// Peers in the hub's book at the first sample.
    pub peers_from: u64,
    /// Peers in the hub's book at the second.
    pub peers_to: u64,
    /// Heap bytes gained per peer the book gained.
    pub heap_bytes_per_peer: f64,
    /// Live heap blocks gained per peer the book gained, where recorded.
    pub heap_blocks_per_peer: Option<f64>,
}

/// A step for each two successive settled samples between which the hub's book grew.
pub fn remembered_peer_steps(samples: &[Sample]) -> Vec<RememberedStep> {
    let settled: Vec<&Sample> = samples.iter().filter(|s| s.settled).collect();
    settled
        .windows(2)
        .filter_map(|pair| step(pair[0], pair[1]))
        .collect()
}

fn step(from: &Sample, to: &Sample) -> Option<RememberedStep> {
    let (peers_from, _) = from.figure(PEERS)?;
    let (peers_to, _) = to.figure(PEERS)?;
    let gained = peers_to.checked_sub(peers_from).filter(|&g| g > 0)? as f64;
    let per_peer = |a: u64, b: u64| (b as f64 - a as f64) / gained;
    Some(RememberedStep {
        peers_from,
        peers_to,
        heap_bytes_per_peer: per_peer(from.heap_bytes, to.heap_bytes),
        heap_blocks_per_peer: from
            .heap_blocks
            .zip(to.heap_blocks)
            .map(|(a, b)| per_peer(a, b)),
    })
}

/// The steps as a Markdown table (empty without steps).
pub fn remembered_table(steps: &[RememberedStep]) -> String {
    if steps.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "| peers remembered | heap per peer | live blocks per peer |\n| --- | ---: | ---: |\n",
    );
    for s in steps {
        let blocks = s
            .heap_blocks_per_peer
            .map_or("n/a".to_owned(), |b| format!("{b:+.2}"));
        let _ = writeln!(
            out,
            "| {} → {} | {:+.0} B | {blocks} |",
            s.peers_from, s.peers_to, s.heap_bytes_per_peer
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{BoundKind, Reading};
    use crate::report::test_samples::sample;

    fn settled(cycles: u64, heap: u64, peers: u64) -> Sample {
        let mut s = sample(cycles, heap, 20);
        s.settled = true;
        s.heap_blocks = Some(peers * 3);
        s.structures = vec![Reading::bounded(PEERS, peers, 10_000, BoundKind::Limit)];
        s
    }

    #[test]
    fn one_step_per_pair_of_settled_samples() {
        let samples = vec![
            settled(100, 1_000_000, 100),
            sample(150, 9_000_000, 20),
            settled(500, 1_800_000, 500),
            settled(1000, 2_900_000, 1000),
        ];
        let steps = remembered_peer_steps(&samples);
        assert_eq!(steps.len(), 2);
        assert_eq!((steps[0].peers_from, steps[0].peers_to), (100, 500));
        assert_eq!(steps[0].heap_bytes_per_peer, 2000.0);
        assert_eq!(steps[1].heap_bytes_per_peer, 2200.0);
        assert_eq!(steps[1].heap_blocks_per_peer, Some(3.0));
        let table = remembered_table(&steps);
        assert!(
            table.contains("| 500 → 1000 | +2200 B | +3.00 |"),
            "{table}"
        );
    }

    #[test]
    fn a_book_that_did_not_grow_is_no_step() {
        let samples = vec![settled(100, 1_000, 40), settled(200, 2_000, 40)];
        assert!(remembered_peer_steps(&samples).is_empty());
        assert_eq!(remembered_table(&[]), "");
    }
}
