//! Entries of a node's protocol state: the references to other peers it holds.
//!
//! Neither build exposes its per-peer maps (the fork's counter is crate-private and behind the
//! `net` feature), but both derive `Debug` for the whole state, which prints every peer identity
//! it holds with [`DEBUG_MARK`](crate::peer::DEBUG_MARK). Counting those marks counts the same
//! thing in both builds: one entry per peer in a view, a peer-data map, an eager or lazy set, a
//! lazy-push queue, a missing-message record or the peer-to-topics map.

use std::collections::HashSet;

use crate::peer::DEBUG_MARK;

/// Peer references in a state's `Debug` output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Census {
    /// References to peers other than the node itself.
    pub entries: usize,
    /// Distinct peers among them.
    pub distinct: usize,
}

/// Counts the peer references in `debug`, leaving out `me`.
pub fn count(debug: &str, me: u32) -> Census {
    let mut census = Census::default();
    let mut seen = HashSet::new();
    for tail in debug.split(DEBUG_MARK).skip(1) {
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(index) = tail[..digits].parse::<u32>() else {
            continue;
        };
        if index != me {
            census.entries += 1;
            seen.insert(index);
        }
    }
    census.distinct = seen.len();
    census
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_references_to_others() {
        let debug = "State { me: §1, view: [§2, §3], data: {§2: PeerData(48b)}, me2: §1 }";
        let census = count(debug, 1);
        assert_eq!(
            census,
            Census {
                entries: 3,
                distinct: 2
            }
        );
    }
}
