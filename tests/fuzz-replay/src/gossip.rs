//! iroh-gossip's wire messages, read and handled as a gossip node does.
//!
//! `net.rs` reads each frame of a peer's stream with `net::util::read_message` (a u32 length
//! prefix, a size limit, then postcard into `proto::Message<PublicKey>`) and hands the message to
//! the protocol state (`proto::State::handle(InEvent::RecvMessage)`). The target does both, both
//! public: the input is the byte stream a connected peer sends, frame after frame, and every
//! timer the state schedules is fired at the end, so that state built from hostile messages is
//! also acted upon.

use std::sync::OnceLock;

use bytes::BytesMut;
use iroh::{PublicKey, SecretKey};
use iroh_gossip::net::util::read_message;
use iroh_gossip::proto::topic::DEFAULT_MAX_MESSAGE_SIZE;
use iroh_gossip::proto::{
    Command, Config, InEvent, Message, OutEvent, PeerData, Scope, State, Timer, TopicId,
};
use n0_future::time::{Duration, Instant};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::block_on::block_on;

/// The topic the node under test has joined: messages for other topics are dropped unread, so
/// the seeds address this one.
pub const TOPIC: [u8; 32] = [7; 32];

/// Timer firings allowed after the input is read: the state re-arms some timers forever.
const MAX_TIMER_FIRINGS: usize = 256;

type GossipState = State<PublicKey, StdRng>;

/// The node under test and the peers its input comes from (round-robin over frames).
struct Keys {
    me: PublicKey,
    peers: [PublicKey; 3],
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = |n: u8| SecretKey::from_bytes(&[n; 32]).public();
        Keys {
            me: key(1),
            peers: [key(2), key(3), key(4)],
        }
    })
}

fn new_state(me: PublicKey) -> GossipState {
    State::new(
        me,
        PeerData::new(b"addr".as_slice()),
        Config::default(),
        StdRng::seed_from_u64(0),
    )
}

/// Feeds `events` to `state`, returning the timers it schedules.
fn handle(
    state: &mut GossipState,
    event: InEvent<PublicKey>,
    now: Instant,
    timers: &mut Vec<(Instant, Timer<PublicKey>)>,
) -> Vec<OutEvent<PublicKey>> {
    let out: Vec<_> = state.handle(event, now).collect();
    for event in &out {
        if let OutEvent::ScheduleTimer(delay, timer) = event {
            timers.push((now + *delay, timer.clone()));
        }
    }
    out
}

/// Reads `data` as the stream of one gossip connection, with `net::util::read_message` as the
/// connection loop reads it, and handles every message it holds.
pub fn fuzz_gossip_message(data: &[u8]) {
    let mut reader = data;
    let mut buffer = BytesMut::new();
    // The loop ends on the stream's end or on the first error, as the connection loop does.
    let messages = std::iter::from_fn(|| {
        block_on(read_message(
            &mut reader,
            &mut buffer,
            DEFAULT_MAX_MESSAGE_SIZE,
        ))
        .ok()
        .flatten()
    });
    handle_messages(messages);
}

/// Decodes each frame of `data` as `read_message` decodes a frame's body (postcard into
/// `proto::Message<PublicKey>`), and handles every message. Frames are a big-endian u16 length
/// and the body, and a short last frame takes what is left: unlike `fuzz_gossip_message`, the
/// input never ends inside a frame, so the run reaches the decoder and the protocol state even
/// while `read_lp` panics on a truncated frame (docs/fuzzing.md, findings).
pub fn fuzz_gossip_frames(data: &[u8]) {
    let mut rest = data;
    let messages = std::iter::from_fn(|| {
        if rest.len() < 2 {
            return None;
        }
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let body = &rest[2..];
        let take = len.min(body.len()).min(DEFAULT_MAX_MESSAGE_SIZE);
        rest = &body[take..];
        postcard::from_bytes::<Message<PublicKey>>(&body[..take]).ok()
    });
    handle_messages(messages);
}

/// Hands `messages` to a node that has joined `TOPIC`, as from its peers in turn, then fires
/// the timers the node arms and disconnects the peers.
fn handle_messages(messages: impl Iterator<Item = Message<PublicKey>>) {
    let keys = keys();
    let mut state = new_state(keys.me);
    let mut now = Instant::now();
    let mut timers = Vec::new();
    handle(
        &mut state,
        InEvent::Command(TopicId::from_bytes(TOPIC), Command::Join(vec![])),
        now,
        &mut timers,
    );
    for (frame, message) in messages.enumerate() {
        let from = keys.peers[frame % keys.peers.len()];
        handle(
            &mut state,
            InEvent::RecvMessage(from, message),
            now,
            &mut timers,
        );
    }

    let mut fired = 0;
    while fired < MAX_TIMER_FIRINGS && !timers.is_empty() {
        timers.sort_by_key(|(at, _)| *at);
        let (at, timer) = timers.remove(0);
        now = now.max(at);
        handle(&mut state, InEvent::TimerExpired(timer), now, &mut timers);
        fired += 1;
    }
    for peer in keys.peers {
        handle(
            &mut state,
            InEvent::PeerDisconnected(peer),
            now,
            &mut timers,
        );
    }
}

/// Seeds of `gossip_frames`: the same messages, framed with a u16 length.
pub fn frame_seeds() -> Vec<Vec<u8>> {
    seeds()
        .into_iter()
        .map(|stream| {
            let mut out = Vec::new();
            let mut rest = stream.as_slice();
            while rest.len() >= 4 {
                let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
                let body = &rest[4..4 + len];
                out.extend_from_slice(&(len as u16).to_be_bytes());
                out.extend_from_slice(body);
                rest = &rest[4 + len..];
            }
            out
        })
        .collect()
}

/// What honest peers send: the messages of two gossip nodes joining `TOPIC` through the node
/// under test and broadcasting, each written as `net.rs` frames it, one seed per sender and
/// message kind mix.
pub fn seeds() -> Vec<Vec<u8>> {
    let keys = keys();
    let topic = TopicId::from_bytes(TOPIC);
    let mut now = Instant::now();
    let mut timers = Vec::new();
    // Two peers that join through `me` and publish: their outgoing messages towards `me` are
    // the seeds, framed as `write_message` frames them.
    let mut me = new_state(keys.me);
    let mut a = new_state(keys.peers[0]);
    let mut b = new_state(keys.peers[1]);
    handle(
        &mut me,
        InEvent::Command(topic, Command::Join(vec![])),
        now,
        &mut timers,
    );
    let mut to_me: Vec<Message<PublicKey>> = Vec::new();
    let mut pending: Vec<(PublicKey, PublicKey, Message<PublicKey>)> = Vec::new();
    let route = |from: PublicKey, out: Vec<OutEvent<PublicKey>>, pending: &mut Vec<_>| {
        for event in out {
            if let OutEvent::SendMessage(to, message) = event {
                pending.push((from, to, message));
            }
        }
    };
    let out = handle(
        &mut a,
        InEvent::Command(topic, Command::Join(vec![keys.me])),
        now,
        &mut timers,
    );
    route(keys.peers[0], out, &mut pending);
    let out = handle(
        &mut b,
        InEvent::Command(topic, Command::Join(vec![keys.me])),
        now,
        &mut timers,
    );
    route(keys.peers[1], out, &mut pending);
    for round in 0..8 {
        if round == 2 {
            for (state, from) in [(&mut a, keys.peers[0]), (&mut b, keys.peers[1])] {
                let payload = bytes::Bytes::from(format!("hello from {round}"));
                let out = handle(
                    state,
                    InEvent::Command(topic, Command::Broadcast(payload, Scope::Swarm)),
                    now,
                    &mut timers,
                );
                route(from, out, &mut pending);
            }
        }
        now += Duration::from_millis(100);
        for (from, to, message) in std::mem::take(&mut pending) {
            let target = if to == keys.me {
                to_me.push(message.clone());
                &mut me
            } else if to == keys.peers[0] {
                &mut a
            } else if to == keys.peers[1] {
                &mut b
            } else {
                continue;
            };
            let out = handle(
                target,
                InEvent::RecvMessage(from, message),
                now,
                &mut timers,
            );
            route(to, out, &mut pending);
        }
    }

    let frame = |message: &Message<PublicKey>| {
        let body = postcard::to_stdvec(message).expect("honest message encodes");
        let mut framed = (body.len() as u32).to_be_bytes().to_vec();
        framed.extend_from_slice(&body);
        framed
    };
    let mut seeds: Vec<Vec<u8>> = to_me.iter().map(frame).collect();
    seeds.push(to_me.iter().flat_map(frame).collect());
    seeds
}
