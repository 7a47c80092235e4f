//! The event loop: one seeded discrete-event simulation of every node, the links between them,
//! churn and the broadcasts.
//!
//! Transport semantics follow upstream's test network (`proto/tests.rs`): a message opens the
//! connection between two peers, `DisconnectPeer` closes it and the other side is told
//! `PeerDisconnected` after the link's latency. Connections are symmetric: both ends hold one
//! from the message that opens it until one end closes it or a departure is noticed, and a
//! message in flight when it closed still arrives. On top of it: a first message on a new connection
//! pays a handshake (one extra round trip), messages on a link arrive in order (QUIC streams), a
//! dial to a peer that is gone fails after the dial timeout, and a peer that vanished is noticed
//! after the idle timeout. Upstream's `Network` is private to its tests and generic over one
//! build, so it cannot carry a mixed mesh; this loop is its event-queue counterpart.

use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap, HashSet};

use n0_future::time::{Duration, Instant};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;

use crate::netmodel::Fate;
use crate::node::{AnyTimer, Build, Input, Node, Output};
use crate::peer::PeerId;
use crate::record::{self, Broadcast, Recorder};
use crate::scenario::Scenario;
use crate::wire::Kind;

/// A scheduled event.
#[derive(Debug)]
enum Ev {
    /// A peer comes up and joins.
    Join { node: u32, churning: bool },
    /// A churning peer goes.
    Depart(u32),
    /// Wire bytes arrive on connection `conn`.
    Deliver {
        to: u32,
        from: u32,
        conn: u64,
        bytes: Vec<u8>,
    },
    /// A node's timer fires.
    Timer { node: u32, timer: AnyTimer },
    /// A node learns that its connection to `peer` is gone; `dead` if the connection died
    /// (a departure or a cut) rather than being closed or never opened.
    Disconnected { node: u32, peer: u32, dead: bool },
    /// The nth broadcast of the measured phase.
    Broadcast(usize),
    /// Forget the in-order bookkeeping of links that are idle.
    Sweep,
    /// The partition begins.
    PartitionStart,
}

/// An event in the queue, ordered by time, then by the order it was scheduled in.
#[derive(Debug)]
struct Item {
    at: u64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// One peer that ever joined.
pub struct Slot {
    /// Its node, while it is up.
    pub node: Option<Node>,
    /// Its build.
    pub build: Build,
    /// When it joined (ns from the start).
    pub joined_ns: u64,
    /// When it went, if it did.
    pub left_ns: Option<u64>,
    /// Peers it has a connection to (as far as it knows), with the connection's id.
    conns: HashMap<u32, u64>,
    /// Distinct peers it has exchanged a message with.
    pub met: HashSet<u32>,
}

/// The simulation of one scenario.
pub struct Sim<'a> {
    sc: &'a Scenario,
    start: Instant,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Item>>,
    /// Every peer that ever joined, by index.
    pub slots: Vec<Slot>,
    /// Indices of the peers that are up, for random picks.
    live: Vec<u32>,
    live_pos: HashMap<u32, usize>,
    rng: ChaCha12Rng,
    link_free: HashMap<(u32, u32), u64>,
    pending_dials: HashSet<(u32, u32)>,
    /// What the run recorded.
    pub rec: Recorder,
    out: Vec<Output>,
}

/// Nanoseconds of a duration.
fn ns(d: Duration) -> u64 {
    d.as_nanos() as u64
}

/// Bootstrap peers a new peer joins through.
const CONTACTS: usize = 2;

/// How often idle links' bookkeeping is dropped.
const SWEEP_NS: u64 = 5_000_000_000;

/// Tags of broadcast payloads carry this bit, so no other payload is taken for one.
const TAG_MARK: u64 = 1 << 63;

impl<'a> Sim<'a> {
    /// A simulation of `sc`, with nothing scheduled yet but the first joins.
    pub fn new(sc: &'a Scenario) -> Self {
        let mut sim = Self {
            sc,
            start: Instant::now(),
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            slots: Vec::new(),
            live: Vec::new(),
            live_pos: HashMap::new(),
            rng: ChaCha12Rng::seed_from_u64(sc.net.seed),
            link_free: HashMap::new(),
            pending_dials: HashSet::new(),
            rec: Recorder::default(),
            out: Vec::new(),
        };
        sim.schedule_start();
        sim
    }

    /// The initial joins, the broadcasts, the sweeps and the partition.
    fn schedule_start(&mut self) {
        let sc = self.sc;
        let churning_from = sc.peers - (sc.churn * sc.peers as f64).round() as usize;
        for i in 0..sc.peers {
            // the bootstrap peers come up first, a little apart; the rest over the join window
            let at = if i < sc.bootstrap {
                i as u64 * 10_000_000
            } else {
                let spread = ns(sc.join_window) as f64 * (i - sc.bootstrap) as f64;
                sc.bootstrap as u64 * 10_000_000 + (spread / sc.peers as f64) as u64
            };
            let churning = i >= churning_from.max(sc.bootstrap);
            self.slots.push(self.new_slot(i as u32));
            self.at(
                at,
                Ev::Join {
                    node: i as u32,
                    churning,
                },
            );
        }
        if sc.broadcasts > 0 {
            self.at(ns(sc.first_broadcast()), Ev::Broadcast(0));
        }
        self.at(SWEEP_NS, Ev::Sweep);
        if let Some(p) = sc.net.partition {
            self.at(ns(p.start), Ev::PartitionStart);
        }
    }

    fn new_slot(&self, index: u32) -> Slot {
        let build = if self.sc.is_fork(index) {
            Build::Fork
        } else {
            Build::Upstream
        };
        Slot {
            node: None,
            build,
            joined_ns: 0,
            left_ns: None,
            conns: HashMap::new(),
            met: HashSet::new(),
        }
    }

    /// Schedules `ev` at `at` ns.
    fn at(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(Item {
            at,
            seq: self.seq,
            ev,
        }));
    }

    /// Runs to the scenario's end, calling `progress` with the simulated time about once per
    /// simulated second.
    pub fn run(&mut self, mut progress: impl FnMut(Duration)) {
        let end = ns(self.sc.end());
        let mut next_report = 0;
        while let Some(Reverse(item)) = self.queue.pop() {
            if item.at > end {
                break;
            }
            self.now = item.at;
            if self.now >= next_report {
                progress(Duration::from_nanos(self.now));
                next_report = self.now + 1_000_000_000;
            }
            self.step(item.ev);
        }
        self.now = end;
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Join { node, churning } => self.join(node, churning),
            Ev::Depart(node) => self.depart(node),
            Ev::Deliver {
                to,
                from,
                conn,
                bytes,
            } => self.deliver(to, from, conn, bytes),
            Ev::Timer { node, timer } => self.feed(node, Input::Timer(timer)),
            Ev::Disconnected { node, peer, dead } => {
                self.pending_dials.remove(&(node, peer));
                if dead {
                    self.slots[node as usize].conns.remove(&peer);
                    self.slots[peer as usize].conns.remove(&node);
                }
                self.feed(node, Input::Disconnected(PeerId::new(peer)));
            }
            Ev::Broadcast(n) => self.broadcast(n),
            Ev::Sweep => self.sweep(),
            Ev::PartitionStart => self.partition_start(),
        }
    }

    /// Feeds `input` to `node` if it is up, and carries out what it asks for.
    fn feed(&mut self, node: u32, input: Input<'_>) {
        let now = self.start + Duration::from_nanos(self.now);
        let mut out = std::mem::take(&mut self.out);
        match self.slots[node as usize].node.as_mut() {
            Some(n) => n.handle(input, now, &mut out),
            None => return,
        }
        let mut nth: Vec<(u32, u32)> = Vec::new();
        for o in out.drain(..) {
            self.carry_out(node, o, &mut nth);
        }
        self.out = out;
    }

    /// Carries out one of `node`'s outputs; `nth` counts its messages per receiver in this turn.
    fn carry_out(&mut self, node: u32, o: Output, nth: &mut Vec<(u32, u32)>) {
        match o {
            Output::Send(to, bytes) => {
                let to = to.index();
                let n = match nth.iter_mut().find(|(p, _)| *p == to) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        nth.push((to, 0));
                        0
                    }
                };
                self.send(node, to, n, bytes);
            }
            Output::Timer(after, timer) => {
                self.at(self.now + ns(after), Ev::Timer { node, timer });
            }
            Output::Disconnect(peer) => self.close(node, peer.index()),
            Output::Delivered { tag, hops } => self.rec.delivered(tag, node, self.now, hops),
            Output::NeighborUp(_) | Output::NeighborDown(_) => {}
        }
    }

    fn measuring(&self) -> bool {
        self.now >= ns(self.sc.first_broadcast()) && self.now < ns(self.sc.measured_end())
    }

    /// `from` sends its `nth` message of this turn to `to`.
    fn send(&mut self, from: u32, to: u32, nth: u32, bytes: Vec<u8>) {
        let build = self.slots[from as usize].build;
        if self.measuring() {
            if let Some(kind) = Kind::of(&bytes) {
                self.rec.sent[record::slot(build)].add(kind, bytes.len());
            }
        }
        self.slots[from as usize].met.insert(to);
        let up = self
            .slots
            .get(to as usize)
            .is_some_and(|s| s.node.is_some());
        let cut = self.sc.net.cut(from, to, Duration::from_nanos(self.now));
        let held = cut.then(|| self.short_partition_heals()).flatten();
        if !up || (cut && held.is_none()) {
            self.rec.lost += 1;
            if !self.slots[from as usize].conns.contains_key(&to)
                && self.pending_dials.insert((from, to))
            {
                let at = self.now + ns(self.sc.dial_timeout);
                self.at(
                    at,
                    Ev::Disconnected {
                        node: from,
                        peer: to,
                        dead: false,
                    },
                );
            }
            return;
        }
        // across a short partition, the stream holds the message until the cut heals
        let mut at = held.unwrap_or(self.now);
        let conn = match self.slots[from as usize].conns.get(&to) {
            Some(conn) => *conn,
            None => {
                // a new connection: the QUIC handshake's round trip comes first
                at += 2 * ns(self.sc.net.base_latency(from, to));
                self.seq += 1;
                self.slots[from as usize].conns.insert(to, self.seq);
                self.slots[to as usize].conns.insert(from, self.seq);
                self.seq
            }
        };
        match self.sc.net.fate(from, to, self.now, nth, bytes.len()) {
            Fate::Lost => self.rec.lost += 1,
            Fate::Arrives(delay) => {
                at += ns(delay);
                let free = self.link_free.entry((from, to)).or_default();
                at = at.max(*free);
                *free = at;
                let ev = Ev::Deliver {
                    to,
                    from,
                    conn,
                    bytes,
                };
                self.at(at, ev);
            }
        }
    }

    /// `node` closes its connection to `peer`; the peer is told after the link's latency, behind
    /// what is in flight. Both ends drop it at once, so that every connection a peer holds is one
    /// its other end also holds; a message still crossing it, or sent next, opens it again.
    fn close(&mut self, node: u32, peer: u32) {
        if self.slots[node as usize].conns.remove(&peer).is_none() {
            return;
        }
        self.slots[peer as usize].conns.remove(&node);
        let latency = ns(self.sc.net.base_latency(node, peer));
        let free = self.link_free.get(&(node, peer)).copied().unwrap_or(0);
        let at = (self.now + latency).max(free + 1);
        self.at(
            at,
            Ev::Disconnected {
                node: peer,
                peer: node,
                dead: false,
            },
        );
    }

    /// When a partition shorter than the idle timeout heals, if one is on (ns from the start).
    fn short_partition_heals(&self) -> Option<u64> {
        let p = self.sc.net.partition?;
        (p.duration < self.sc.idle_timeout).then(|| ns(p.start + p.duration))
    }

    fn deliver(&mut self, to: u32, from: u32, conn: u64, bytes: Vec<u8>) {
        if self.sc.net.cut(from, to, Duration::from_nanos(self.now)) {
            match self.short_partition_heals() {
                Some(heal) => {
                    let ev = Ev::Deliver {
                        to,
                        from,
                        conn,
                        bytes,
                    };
                    self.at(heal, ev)
                }
                None => self.rec.lost += 1,
            }
            return;
        }
        if self.slots[to as usize].node.is_none() {
            self.rec.lost += 1;
            return;
        }
        // What was sent before a close still arrives (iroh-gossip's net layer finishes its send
        // stream, and reads the other's until that one finishes too), and the connection lives
        // on at both ends while messages cross it: so the receiver hears of the sender's
        // departure.
        let reopened = match self.slots[to as usize].conns.entry(from) {
            Entry::Vacant(e) => {
                e.insert(conn);
                true
            }
            Entry::Occupied(_) => false,
        };
        if reopened {
            if self.slots[from as usize].node.is_some() {
                self.slots[from as usize].conns.entry(to).or_insert(conn);
            } else {
                // the sender is gone: this end notices once the connection idles out
                let ev = Ev::Disconnected {
                    node: to,
                    peer: from,
                    dead: true,
                };
                self.at(self.now + ns(self.sc.idle_timeout), ev);
            }
        }
        let slot = &mut self.slots[to as usize];
        slot.met.insert(from);
        let build = slot.build;
        if self.measuring() {
            if let Some(kind) = Kind::of(&bytes) {
                self.rec.received[record::slot(build)].add(kind, bytes.len());
            }
        }
        self.feed(to, Input::Recv(PeerId::new(from), &bytes));
    }

    fn join(&mut self, node: u32, churning: bool) {
        let i = node as usize;
        if i == self.slots.len() {
            self.slots.push(self.new_slot(node));
        }
        let build = self.slots[i].build;
        let seed = crate::netmodel::mix(self.sc.net.seed ^ crate::netmodel::mix(node as u64));
        let mut fresh = Node::new(PeerId::new(node), build, seed);
        if self.sc.fork_catch_up {
            fresh.set_fork_catch_up();
        }
        self.slots[i].node = Some(fresh);
        self.slots[i].joined_ns = self.now;
        let contacts = self.contacts(node);
        self.live_pos.insert(node, self.live.len());
        self.live.push(node);
        self.feed(node, Input::Join(&contacts));
        if churning {
            let life = -(1.0 - self.rng.gen::<f64>()).ln() * self.sc.lifetime.as_secs_f64();
            self.at(self.now + (life * 1e9) as u64, Ev::Depart(node));
        }
    }

    /// Whom a new peer joins through: peer 0 for the other bootstrap peers, else up to
    /// [`CONTACTS`] bootstrap peers that are up.
    fn contacts(&mut self, node: u32) -> Vec<PeerId> {
        let boot = self.sc.bootstrap.min(self.slots.len()) as u32;
        if node < boot {
            return if node == 0 {
                vec![]
            } else {
                vec![PeerId::new(0)]
            };
        }
        let up: Vec<u32> = (0..boot)
            .filter(|b| self.slots[*b as usize].node.is_some())
            .collect();
        let mut picked = Vec::new();
        while picked.len() < CONTACTS.min(up.len()) {
            let b = up[self.rng.gen_range(0..up.len())];
            if !picked.contains(&b) {
                picked.push(b);
            }
        }
        picked.into_iter().map(PeerId::new).collect()
    }

    fn depart(&mut self, node: u32) {
        let clean = self.rng.gen::<f64>() < self.sc.clean_leave;
        if clean {
            self.feed(node, Input::Quit);
        }
        let slot = &mut self.slots[node as usize];
        slot.node = None;
        slot.left_ns = Some(self.now);
        let conns: Vec<u32> = slot.conns.drain().map(|(peer, _)| peer).collect();
        for peer in conns {
            // a clean close reaches the peer after the latency; a vanished peer is noticed
            // only once the connection idles out
            let after = if clean {
                ns(self.sc.net.base_latency(node, peer))
            } else {
                ns(self.sc.idle_timeout)
            };
            // behind what is still in flight on the link, as a QUIC close is
            let free = self.link_free.get(&(node, peer)).copied().unwrap_or(0);
            self.at(
                (self.now + after).max(free + 1),
                // the departed end is gone already; the other end drops it when it notices
                Ev::Disconnected {
                    node: peer,
                    peer: node,
                    dead: true,
                },
            );
        }
        if let Some(pos) = self.live_pos.remove(&node) {
            self.live.swap_remove(pos);
            if let Some(moved) = self.live.get(pos) {
                self.live_pos.insert(*moved, pos);
            }
        }
        // a fresh peer takes the place, after a short gap
        let next = self.slots.len() as u32;
        self.slots.push(self.new_slot(next));
        let gap = self.rng.gen_range(0..1_000_000_000u64);
        self.at(
            self.now + gap,
            Ev::Join {
                node: next,
                churning: true,
            },
        );
    }

    fn broadcast(&mut self, n: usize) {
        let settled = self.now.saturating_sub(ns(self.sc.settle));
        let mut origin = 0;
        for _ in 0..64 {
            let p = self.live[self.rng.gen_range(0..self.live.len())];
            if self.slots[p as usize].joined_ns <= settled {
                origin = p;
                break;
            }
        }
        let tag = TAG_MARK | n as u64;
        let mut payload = tag.to_le_bytes().to_vec();
        payload.resize(self.sc.payload.max(8), b'.');
        let mut live = [0usize; 2];
        for p in &self.live {
            live[record::slot(self.slots[*p as usize].build)] += 1;
        }
        let b = Broadcast {
            tag,
            at_ns: self.now,
            origin,
        };
        self.rec.broadcast(b, live);
        self.feed(origin, Input::Broadcast(&payload));
        if n + 1 < self.sc.broadcasts {
            self.at(
                self.now + ns(self.sc.broadcast_interval),
                Ev::Broadcast(n + 1),
            );
        }
    }

    fn sweep(&mut self) {
        let now = self.now;
        self.link_free.retain(|_, free| *free > now);
        self.at(self.now + SWEEP_NS, Ev::Sweep);
    }

    /// Connections across a cut longer than the idle timeout die: each side notices after the
    /// idle timeout. (Across a shorter one they live, and hold what is sent until it heals.)
    fn partition_start(&mut self) {
        if self.short_partition_heals().is_some() {
            return;
        }
        let at = Duration::from_nanos(self.now);
        let mut dying = Vec::new();
        for p in &self.live {
            for q in self.slots[*p as usize].conns.keys() {
                if self.sc.net.cut(*p, *q, at) {
                    dying.push((*p, *q));
                }
            }
        }
        for (p, q) in dying {
            // until then, what either side sends on it is lost
            self.at(
                self.now + ns(self.sc.idle_timeout),
                Ev::Disconnected {
                    node: p,
                    peer: q,
                    dead: true,
                },
            );
        }
    }
}
