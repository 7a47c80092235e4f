//! What the simulation reads off the wire bytes: the kind of a message and the hops of a
//! delivery. Both builds share the encoding (postcard of `proto::Message`: the 32-byte topic, then
//! the layer's and the message's enum variant indices), so one reader serves both; iroh-gossip
//! keeps the message's fields private, so the bytes are the only public view of the kind.

use serde::Deserialize;

/// The kind of a protocol message, as the overhead columns split them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Plumtree: a message's payload.
    Gossip,
    /// Plumtree: ids of messages the sender has.
    IHave,
    /// Plumtree: a request for a payload, and for the link to become eager.
    Graft,
    /// Plumtree: a request for the link to become lazy.
    Prune,
    /// HyParView: every membership message (Join, ForwardJoin, Shuffle, ShuffleReply, Neighbor,
    /// Disconnect).
    Membership,
}

impl Kind {
    /// Every kind, in column order.
    pub const ALL: [Kind; 5] = [
        Kind::Gossip,
        Kind::IHave,
        Kind::Graft,
        Kind::Prune,
        Kind::Membership,
    ];

    /// The column name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Gossip => "gossip",
            Kind::IHave => "ihave",
            Kind::Graft => "graft",
            Kind::Prune => "prune",
            Kind::Membership => "membership",
        }
    }

    /// The kind of an encoded `proto::Message`, or `None` if it is not one.
    pub fn of(wire: &[u8]) -> Option<Kind> {
        // topic (32 bytes, a fixed array), then `topic::Message` (Swarm = 0, Gossip = 1), then
        // `plumtree::Message` (Gossip = 0, Prune = 1, Graft = 2, IHave = 3); indices below 128 are
        // one varint byte.
        match (wire.get(32)?, wire.get(33)?) {
            (0, 0..=5) => Some(Kind::Membership),
            (1, 0) => Some(Kind::Gossip),
            (1, 1) => Some(Kind::Prune),
            (1, 2) => Some(Kind::Graft),
            (1, 3) => Some(Kind::IHave),
            _ => None,
        }
    }
}

/// Mirror of `plumtree::DeliveryScope`, whose round has no public accessor.
#[derive(Deserialize)]
enum Scope {
    Swarm(u16),
    Neighbors,
}

/// The hops a delivered message took (1 for a direct neighbor of the publisher), from the
/// encoding of its `DeliveryScope`.
pub fn hops(encoded_scope: &[u8]) -> Option<u16> {
    match postcard::from_bytes::<Scope>(encoded_scope).ok()? {
        Scope::Swarm(round) => Some(round + 1),
        Scope::Neighbors => Some(1),
    }
}
