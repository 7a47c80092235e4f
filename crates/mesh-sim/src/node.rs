//! One simulated node: the protocol state of either build behind one interface.
//!
//! The two builds are distinct crates with identical APIs, so one macro writes the adapter for
//! each. Messages leave a node as wire bytes (postcard of `proto::Message`, as iroh-gossip's net
//! module frames them) and enter the receiver by decoding those bytes with the receiver's own
//! build, so a mixed mesh carries exactly what the network would.

use std::fmt;

use bytes::Bytes;
use n0_future::time::{Duration, Instant};
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;

use crate::meter::{outside, Meter};
use crate::peer::PeerId;
use crate::{census, wire};

/// The fork's protocol module.
use gossip_fork::proto as fork;
/// Unpatched upstream's protocol module.
use gossip_upstream::proto as upstream;

/// The one topic every simulated peer joins.
pub const TOPIC: [u8; 32] = [7; 32];

/// Bytes of opaque peer data each node announces: what an iroh address (a relay URL and a direct
/// address) takes in the net module's encoding.
pub const PEER_DATA_BYTES: usize = 48;

/// Which iroh-gossip a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Build {
    /// This repository's fork.
    Fork,
    /// Unpatched upstream 0.34.1.
    Upstream,
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Build::Fork => "fork",
            Build::Upstream => "upstream",
        })
    }
}

/// A timer a node asked for, to be handed back to the same node when it fires.
#[derive(Clone, Debug)]
pub enum AnyTimer {
    /// A timer of the fork.
    Fork(fork::Timer<PeerId>),
    /// A timer of upstream.
    Upstream(upstream::Timer<PeerId>),
}

/// What the driver feeds a node.
#[derive(Debug)]
pub enum Input<'a> {
    /// Join the topic through these peers.
    Join(&'a [PeerId]),
    /// Broadcast this payload to the swarm.
    Broadcast(&'a [u8]),
    /// Leave the topic (the node then goes away).
    Quit,
    /// Wire bytes from a peer.
    Recv(PeerId, &'a [u8]),
    /// A timer the node asked for fired.
    Timer(AnyTimer),
    /// The connection to a peer is gone.
    Disconnected(PeerId),
}

/// What a node asks of the driver.
#[derive(Debug)]
pub enum Output {
    /// Send these wire bytes.
    Send(PeerId, Vec<u8>),
    /// Hand this timer back after the delay.
    Timer(Duration, AnyTimer),
    /// Close the connection to the peer.
    Disconnect(PeerId),
    /// A broadcast reached the application: the payload's first 8 bytes, and its hops.
    Delivered {
        /// The first 8 bytes of the payload, little endian (the simulation's broadcast id).
        tag: u64,
        /// Hops from the publisher.
        hops: u16,
    },
    /// The node has a new neighbor.
    NeighborUp(PeerId),
    /// The node lost a neighbor.
    NeighborDown(PeerId),
}

/// The protocol state of one build.
enum State {
    Fork(fork::State<PeerId, ChaCha12Rng>),
    Upstream(upstream::State<PeerId, ChaCha12Rng>),
}

/// A simulated node: its identity, build, protocol state and heap meter.
pub struct Node {
    id: PeerId,
    build: Build,
    meter: Meter,
    state: State,
    /// Inputs whose wire bytes neither build could decode.
    pub decode_errors: u64,
}

/// The tag of a payload: its first 8 bytes.
fn tag(content: &[u8]) -> u64 {
    let mut head = [0u8; 8];
    let n = content.len().min(8);
    head[..n].copy_from_slice(&content[..n]);
    u64::from_le_bytes(head)
}

/// Writes `handle_$build`: build the input inside the meter, run the state, translate its output.
macro_rules! adapter {
    ($name:ident, $proto:ident, $variant:ident) => {
        fn $name(
            state: &mut $proto::State<PeerId, ChaCha12Rng>,
            input: Input<'_>,
            now: Instant,
            out: &mut Vec<Output>,
        ) -> bool {
            use $proto::{Command, Event, InEvent, OutEvent, Scope, TopicId};
            let topic = TopicId::from_bytes(TOPIC);
            let event = match input {
                Input::Join(peers) => InEvent::Command(topic, Command::Join(peers.to_vec())),
                Input::Broadcast(data) => InEvent::Command(
                    topic,
                    Command::Broadcast(Bytes::copy_from_slice(data), Scope::Swarm),
                ),
                Input::Quit => InEvent::Command(topic, Command::Quit),
                Input::Recv(from, bytes) => {
                    match postcard::from_bytes::<$proto::Message<PeerId>>(bytes) {
                        Ok(message) => InEvent::RecvMessage(from, message),
                        Err(_) => return false,
                    }
                }
                Input::Timer(AnyTimer::$variant(timer)) => InEvent::TimerExpired(timer),
                Input::Timer(other) => panic!("a timer of the other build: {other:?}"),
                Input::Disconnected(peer) => InEvent::PeerDisconnected(peer),
            };
            for event in state.handle(event, now) {
                let output = match event {
                    OutEvent::SendMessage(to, message) => {
                        let bytes = outside(|| postcard::to_stdvec(&message)).expect("encodes");
                        Output::Send(to, bytes)
                    }
                    OutEvent::ScheduleTimer(delay, timer) => {
                        Output::Timer(delay, AnyTimer::$variant(timer))
                    }
                    OutEvent::DisconnectPeer(peer) => Output::Disconnect(peer),
                    OutEvent::EmitEvent(_, Event::Received(received)) => {
                        let scope = outside(|| postcard::to_stdvec(&received.scope));
                        let hops = scope.ok().as_deref().and_then(wire::hops).unwrap_or(0);
                        Output::Delivered {
                            tag: tag(&received.content),
                            hops,
                        }
                    }
                    OutEvent::EmitEvent(_, Event::NeighborUp(peer)) => Output::NeighborUp(peer),
                    OutEvent::EmitEvent(_, Event::NeighborDown(peer)) => Output::NeighborDown(peer),
                    OutEvent::PeerData(..) => continue,
                };
                outside(|| out.push(output));
            }
            true
        }
    };
}

adapter!(handle_fork, fork, Fork);
adapter!(handle_upstream, upstream, Upstream);

impl Node {
    /// A fresh node: its state seeded from `seed`, announcing [`PEER_DATA_BYTES`] of peer data.
    pub fn new(id: PeerId, build: Build, seed: u64) -> Self {
        let meter = Meter::default();
        let state = {
            let _in = meter.enter();
            let rng = ChaCha12Rng::seed_from_u64(seed);
            let data = vec![0x5a; PEER_DATA_BYTES];
            match build {
                Build::Fork => State::Fork(fork::State::new(
                    id,
                    fork::PeerData::new(data),
                    Default::default(),
                    rng,
                )),
                Build::Upstream => State::Upstream(upstream::State::new(
                    id,
                    upstream::PeerData::new(data),
                    Default::default(),
                    rng,
                )),
            }
        };
        Self {
            id,
            build,
            meter,
            state,
            decode_errors: 0,
        }
    }

    /// Turns on the fork's catch-up of new neighbours (`CatchUp::RECOMMENDED`; the fork's default
    /// is off, as upstream). No-op on an upstream node, which has none.
    pub fn set_fork_catch_up(&mut self) {
        let _in = self.meter.enter();
        if let State::Fork(state) = &mut self.state {
            state.set_catch_up(fork::CatchUp::RECOMMENDED);
        }
    }

    /// The node's identity.
    pub fn id(&self) -> PeerId {
        self.id
    }

    /// The node's build.
    pub fn build(&self) -> Build {
        self.build
    }

    /// Feeds `input` at `now` and appends what the node asks for to `out`.
    pub fn handle(&mut self, input: Input<'_>, now: Instant, out: &mut Vec<Output>) {
        let _in = self.meter.enter();
        let decoded = match &mut self.state {
            State::Fork(state) => handle_fork(state, input, now, out),
            State::Upstream(state) => handle_upstream(state, input, now, out),
        };
        if !decoded {
            self.decode_errors += 1;
        }
    }

    /// Live heap bytes the node's protocol state holds (see [`crate::meter`]).
    pub fn state_bytes(&self) -> i64 {
        self.meter.bytes()
    }

    /// Peer references the node's protocol state holds (see [`crate::census`]).
    pub fn census(&self) -> census::Census {
        census::count(&self.debug(), self.id.index())
    }

    /// The `Debug` output of the node's protocol state.
    pub fn debug(&self) -> String {
        outside(|| match &self.state {
            State::Fork(state) => format!("{state:?}"),
            State::Upstream(state) => format!("{state:?}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two nodes of different builds join through each other and one broadcast crosses as bytes.
    #[test]
    fn a_fork_and_an_upstream_node_exchange_wire_bytes() {
        let now = Instant::now();
        let mut nodes = [
            Node::new(PeerId::new(0), Build::Fork, 1),
            Node::new(PeerId::new(1), Build::Upstream, 2),
        ];
        let mut inbox: Vec<(usize, PeerId, Vec<u8>)> = Vec::new();
        let mut delivered = Vec::new();
        let mut kinds = Vec::new();
        let mut out = Vec::new();
        nodes[1].handle(Input::Join(&[]), now, &mut out);
        nodes[0].handle(Input::Join(&[PeerId::new(1)]), now, &mut out);
        let mut payload = 42u64.to_le_bytes().to_vec();
        payload.extend_from_slice(b" hello");
        let mut broadcast = false;
        for step in 0..20 {
            for o in out.drain(..) {
                match o {
                    Output::Send(to, bytes) => {
                        kinds.push(wire::Kind::of(&bytes).expect("a proto message"));
                        inbox.push((to.index() as usize, PeerId::new(0), bytes));
                    }
                    Output::Delivered { tag, hops } => delivered.push((tag, hops)),
                    _ => {}
                }
            }
            if step == 10 && !broadcast {
                nodes[0].handle(Input::Broadcast(&payload), now, &mut out);
                broadcast = true;
                continue;
            }
            for (to, _, bytes) in std::mem::take(&mut inbox) {
                let from = nodes[1 - to].id();
                nodes[to].handle(Input::Recv(from, &bytes), now, &mut out);
            }
        }
        assert!(kinds.contains(&wire::Kind::Membership));
        assert!(kinds.contains(&wire::Kind::Gossip));
        assert_eq!(delivered, vec![(42, 1)]);
        assert!(nodes.iter().all(|n| n.decode_errors == 0));
        assert!(nodes.iter().all(|n| n.state_bytes() > 0));
        assert_eq!(nodes[0].census().distinct, 1);
    }

    /// The builds differ where patch 0007/0008 change them: a broadcast-layer message from a
    /// peer that is not a neighbor leaves upstream holding that peer after it disconnected.
    #[test]
    fn the_builds_are_the_fork_and_upstream() {
        let now = Instant::now();
        let stranger = PeerId::new(7);
        let mut prune = TOPIC.to_vec();
        prune.extend_from_slice(&[1, 1]);
        assert_eq!(wire::Kind::of(&prune), Some(wire::Kind::Prune));
        let held = |build| {
            let mut node = Node::new(PeerId::new(0), build, 1);
            let mut out = Vec::new();
            node.handle(Input::Join(&[]), now, &mut out);
            node.handle(Input::Recv(stranger, &prune), now, &mut out);
            node.handle(Input::Disconnected(stranger), now, &mut out);
            assert_eq!(node.decode_errors, 0);
            node.census().entries
        };
        assert_eq!(held(Build::Fork), 0);
        assert!(held(Build::Upstream) > 0);
    }
}
