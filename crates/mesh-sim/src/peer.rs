//! The simulated peer identity: 32 bytes like an iroh `NodeId`, so that messages have the size
//! and states the footprint they have on the real network, with the peer's index in front.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A peer's identity. Every peer that ever joins gets a fresh one (indices are never reused).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PeerId([u8; 32]);

/// The prefix of a peer in `Debug` output. A non-ASCII character: payload bytes are printed
/// escaped, so it only ever marks a peer identity (see [`crate::census`]).
pub const DEBUG_MARK: char = '§';

impl PeerId {
    /// The identity of peer number `index`.
    pub fn new(index: u32) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&index.to_le_bytes());
        // The rest stands for the key's other bytes; fixed, so it costs the hash what a key does.
        bytes[4..].fill(0xa5);
        Self(bytes)
    }

    /// The peer's index.
    pub fn index(&self) -> u32 {
        u32::from_le_bytes(self.0[..4].try_into().expect("4 bytes"))
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{DEBUG_MARK}{}", self.index())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_its_index_and_encodes_to_32_bytes() {
        let p = PeerId::new(123_456);
        assert_eq!(p.index(), 123_456);
        assert_eq!(postcard::to_stdvec(&p).unwrap().len(), 32);
        assert_eq!(format!("{p:?}"), "§123456");
    }
}
