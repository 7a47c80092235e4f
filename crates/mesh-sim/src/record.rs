//! What a run records as it goes: broadcasts and their deliveries, traffic by build and kind,
//! and the live peers at each broadcast.

use std::collections::HashMap;

use crate::node::Build;
use crate::wire::Kind;

/// Index of a build in per-build arrays.
pub fn slot(build: Build) -> usize {
    match build {
        Build::Fork => 0,
        Build::Upstream => 1,
    }
}

/// Messages and bytes by kind.
#[derive(Clone, Debug, Default)]
pub struct Traffic {
    /// Messages, by [`Kind::ALL`] position.
    pub msgs: [u64; 5],
    /// Wire bytes, by [`Kind::ALL`] position.
    pub bytes: [u64; 5],
}

impl Traffic {
    /// Counts one message.
    pub fn add(&mut self, kind: Kind, len: usize) {
        let i = Kind::ALL.iter().position(|k| *k == kind).expect("a kind");
        self.msgs[i] += 1;
        self.bytes[i] += len as u64;
    }

    /// All messages.
    pub fn total_msgs(&self) -> u64 {
        self.msgs.iter().sum()
    }

    /// All bytes.
    pub fn total_bytes(&self) -> u64 {
        self.bytes.iter().sum()
    }
}

/// One broadcast of the measured phase.
#[derive(Clone, Debug)]
pub struct Broadcast {
    /// Its payload's tag.
    pub tag: u64,
    /// When it was published (ns from the start).
    pub at_ns: u64,
    /// The publisher.
    pub origin: u32,
}

/// Everything recorded during a run.
#[derive(Debug, Default)]
pub struct Recorder {
    /// The broadcasts, in order.
    pub broadcasts: Vec<Broadcast>,
    /// First delivery of each broadcast tag at each node: (node, ns from the start, hops).
    pub deliveries: HashMap<u64, Vec<(u32, u64, u16)>>,
    /// Traffic sent during the measured phase, by sender build.
    pub sent: [Traffic; 2],
    /// Traffic received during the measured phase, by receiver build.
    pub received: [Traffic; 2],
    /// Live peers of each build at each broadcast.
    pub live: Vec<[usize; 2]>,
    /// Messages lost to loss in drop mode, to a peer that is gone, or across a cut.
    pub lost: u64,
}

impl Recorder {
    /// Records a delivery (the protocol emits each message once per node).
    pub fn delivered(&mut self, tag: u64, node: u32, at_ns: u64, hops: u16) {
        if let Some(list) = self.deliveries.get_mut(&tag) {
            list.push((node, at_ns, hops));
        }
    }

    /// Records a broadcast and the live peers at that time.
    pub fn broadcast(&mut self, b: Broadcast, live: [usize; 2]) {
        self.deliveries.insert(b.tag, Vec::new());
        self.broadcasts.push(b);
        self.live.push(live);
    }
}
