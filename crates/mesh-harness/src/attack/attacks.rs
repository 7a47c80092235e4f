//! What each attack does, until its deadline. Every attack paces itself over its window so that
//! the whole of it lands within the attack phase, and closes its nodes at the deadline, so that
//! what the hub keeps afterwards is the hub's own doing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use p2panda_core::PrivateKey;
use p2panda_net::TopicId;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

use super::announce::{announcement, random_topics};
use super::attacker::{AttackerNode, Joined, HONEST_MAX_MESSAGE_SIZE};
use super::target::{honest_topic, network_topic, Target};
use super::{Attack, AttackSize};

/// Dialing identities of the fresh-key flood alive at a time.
const DIAL_CONCURRENCY: usize = 8;
/// Topic ids per announcement of the topic flood: what fits in the honest 4 KiB gossip limit.
const TOPICS_PER_ANNOUNCEMENT: usize = 100;
/// Topic ids each of the many keys of the topic flood announces.
const FEW_TOPICS: usize = 3;
/// Topics the subscribe storm picks from besides the honest one.
const STORM_TOPICS: usize = 32;
/// p2panda-net's sync protocol (`sync::SYNC_CONNECTION_ALPN`, private to the crate).
const SYNC_ALPN: &[u8] = b"/p2panda-net-sync/0";
/// Size of a spam message.
const SPAM_BYTES: usize = 256;
/// Size of an oversized message: sixteen times what an honest node accepts.
const OVERSIZED_BYTES: usize = 64 * 1024;

/// What an attacker did: reported beside the hub's figures.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AttackTally {
    /// Distinct identities that announced themselves or dialed.
    pub identities: u64,
    /// Gossip messages broadcast.
    pub messages: u64,
    /// Bytes of those messages.
    pub bytes: u64,
    /// Topic joins the hub took.
    pub joins: u64,
    /// Topic joins the hub did not take within the join timeout.
    pub joins_refused: u64,
    /// Topic joins sent without waiting for the hub to take them.
    pub joins_unwaited: u64,
}

/// The tally shared by an attack's tasks.
#[derive(Debug, Default)]
struct Tally {
    identities: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
    joins: AtomicU64,
    joins_refused: AtomicU64,
    joins_unwaited: AtomicU64,
}

impl Tally {
    fn sent(&self, bytes: usize) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn joined(&self, joined: bool) {
        let count = if joined {
            &self.joins
        } else {
            &self.joins_refused
        };
        count.fetch_add(1, Ordering::Relaxed);
    }

    fn report(&self) -> AttackTally {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        AttackTally {
            identities: get(&self.identities),
            messages: get(&self.messages),
            bytes: get(&self.bytes),
            joins: get(&self.joins),
            joins_refused: get(&self.joins_refused),
            joins_unwaited: get(&self.joins_unwaited),
        }
    }
}

/// Runs `attack` of `size` against `hub` until `until`, and says what it did.
pub async fn run(
    attack: Attack,
    size: AttackSize,
    hub: Target,
    until: Instant,
) -> Result<AttackTally> {
    let tally = Arc::new(Tally::default());
    match attack {
        Attack::FreshKeys => fresh_keys(size, &hub, until, &tally).await?,
        Attack::TopicFlood => topic_flood(size, &hub, until, &tally).await?,
        Attack::SubscribeStorm => subscribe_storm(size, &hub, until, &tally).await?,
        Attack::GossipSpam => gossip_spam(&hub, until, &tally).await?,
        Attack::SyncStall => sync_stall(size, &hub, until, &tally).await?,
    }
    Ok(tally.report())
}

/// Waits until the `i`-th of `n` events is due, spread evenly over 90% of the window from
/// `start` to `until`.
async fn pace(start: Instant, until: Instant, i: usize, n: usize) {
    let window = until.saturating_duration_since(start).mul_f64(0.9);
    sleep_until(start + window.mul_f64(i as f64 / n.max(1) as f64)).await;
}

/// A node of its own joined to the network-wide topic through the hub, to relay announcements.
async fn relay(key: &PrivateKey, hub: &Target) -> Result<(AttackerNode, Joined)> {
    let node = AttackerNode::bind(key, HONEST_MAX_MESSAGE_SIZE, hub).await?;
    let joined = node
        .join(network_topic(), hub)
        .await?
        .context("the hub did not take the attacker into the network-wide topic")?;
    Ok((node, joined))
}

/// Fresh-key flood: `announced_keys` signed announcements of fresh identities over one relay
/// connection, and `dialing_keys` fresh identities that dial the hub, join the network-wide
/// topic and announce themselves.
async fn fresh_keys(
    size: AttackSize,
    hub: &Target,
    until: Instant,
    tally: &Arc<Tally>,
) -> Result<()> {
    let (node, relay) = relay(&PrivateKey::new(), hub).await?;
    let dialers = tokio::spawn(dial_fresh(
        size.dialing_keys,
        hub.clone(),
        until,
        tally.clone(),
    ));
    let (start, topic) = (Instant::now(), honest_topic().id());
    for i in 0..size.announced_keys {
        pace(start, until, i, size.announced_keys).await;
        let bytes = announcement(&PrivateKey::new(), vec![topic]);
        let len = bytes.len();
        if relay.send_until(bytes, until).await? {
            tally.sent(len);
        }
        tally.identities.fetch_add(1, Ordering::Relaxed);
    }
    let _ = dialers.await;
    sleep_until(until).await;
    drop(relay);
    node.close().await;
    Ok(())
}

/// `count` fresh identities, [`DIAL_CONCURRENCY`] at a time, each dialing the hub, joining the
/// network-wide topic, announcing itself and leaving.
async fn dial_fresh(count: usize, hub: Target, until: Instant, tally: Arc<Tally>) {
    let start = Instant::now();
    let mut dialing = JoinSet::new();
    for i in 0..count {
        pace(start, until, i, count).await;
        while dialing.len() >= DIAL_CONCURRENCY {
            dialing.join_next().await;
        }
        let (hub, tally) = (hub.clone(), tally.clone());
        dialing.spawn(async move {
            let _ = dial_once(&hub, until, &tally).await;
        });
    }
    while dialing.join_next().await.is_some() {}
}

/// One fresh identity's visit: dial, join, announce, leave.
async fn dial_once(hub: &Target, until: Instant, tally: &Tally) -> Result<()> {
    let key = PrivateKey::new();
    let node = AttackerNode::bind(&key, HONEST_MAX_MESSAGE_SIZE, hub).await?;
    tally.identities.fetch_add(1, Ordering::Relaxed);
    let joined = node.join(network_topic(), hub).await?;
    tally.joined(joined.is_some());
    if let Some(joined) = joined {
        let bytes = announcement(&key, vec![honest_topic().id()]);
        let len = bytes.len();
        if joined.send_until(bytes, until).await? {
            tally.sent(len);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    node.close().await;
    Ok(())
}

/// Topic flood: one key announces `flood_topics` topic ids, 100 to an announcement, and joins
/// `joined_topics` gossip topics at the hub; `few_topic_keys` fresh keys announce
/// [`FEW_TOPICS`] each over the same relay connection.
async fn topic_flood(
    size: AttackSize,
    hub: &Target,
    until: Instant,
    tally: &Arc<Tally>,
) -> Result<()> {
    let key = PrivateKey::new();
    let (node, relay) = relay(&key, hub).await?;
    tally.identities.fetch_add(1, Ordering::Relaxed);
    let start = Instant::now();
    let rounds = size.flood_topics.div_ceil(TOPICS_PER_ANNOUNCEMENT);
    let one_key = async {
        for i in 0..rounds {
            pace(start, until, i, rounds).await;
            let bytes = announcement(&key, random_topics(TOPICS_PER_ANNOUNCEMENT));
            let len = bytes.len();
            if relay.send_until(bytes, until).await? {
                tally.sent(len);
            }
        }
        anyhow::Ok(())
    };
    let many_keys = async {
        for i in 0..size.few_topic_keys {
            pace(start, until, i, size.few_topic_keys).await;
            let bytes = announcement(&PrivateKey::new(), random_topics(FEW_TOPICS));
            let len = bytes.len();
            if relay.send_until(bytes, until).await? {
                tally.sent(len);
            }
            tally.identities.fetch_add(1, Ordering::Relaxed);
        }
        anyhow::Ok(())
    };
    let joins = async {
        let mut held = Vec::new();
        for (i, topic) in random_topics(size.joined_topics).into_iter().enumerate() {
            pace(start, until, i, size.joined_topics).await;
            held.push(node.join_now(topic, hub)?);
            tally.joins_unwaited.fetch_add(1, Ordering::Relaxed);
        }
        sleep_until(until).await;
        anyhow::Ok(held)
    };
    let (a, b, held) = tokio::join!(one_key, many_keys, joins);
    a?;
    b?;
    sleep_until(until).await;
    drop((held, relay));
    node.close().await;
    Ok(())
}

/// Subscribe storm: `storm_keys` nodes, each joining a topic (the honest one half the time,
/// else one of [`STORM_TOPICS`]) through the hub, staying 100 to 500 ms and leaving, again and
/// again until the deadline.
async fn subscribe_storm(
    size: AttackSize,
    hub: &Target,
    until: Instant,
    tally: &Arc<Tally>,
) -> Result<()> {
    let topics = random_topics(STORM_TOPICS);
    let mut storms = JoinSet::new();
    for _ in 0..size.storm_keys {
        let (hub, tally, topics) = (hub.clone(), tally.clone(), topics.clone());
        storms.spawn(async move { storm_one(&hub, until, &tally, &topics).await });
    }
    while let Some(result) = storms.join_next().await {
        result??;
    }
    Ok(())
}

/// One key of the subscribe storm.
async fn storm_one(hub: &Target, until: Instant, tally: &Tally, topics: &[[u8; 32]]) -> Result<()> {
    let node = AttackerNode::fresh(HONEST_MAX_MESSAGE_SIZE, hub).await?;
    tally.identities.fetch_add(1, Ordering::Relaxed);
    while Instant::now() < until {
        let (topic, stay) = {
            let mut rng = rand::thread_rng();
            let topic = if rng.gen_bool(0.5) {
                honest_topic().id()
            } else {
                topics[rng.gen_range(0..topics.len())]
            };
            (topic, Duration::from_millis(rng.gen_range(100..500)))
        };
        let joined = node.join(topic, hub).await?;
        tally.joined(joined.is_some());
        tokio::time::sleep(stay).await;
        drop(joined);
    }
    node.close().await;
    Ok(())
}

/// Gossip spam on the honest topic: for the first half of the window, distinct messages as fast
/// as the attacker's node sends them; for a quarter, messages sixteen times the honest limit from
/// a node that allows them; for the last quarter, one message again and again.
async fn gossip_spam(hub: &Target, until: Instant, tally: &Arc<Tally>) -> Result<()> {
    let start = Instant::now();
    let window = until.saturating_duration_since(start);
    let topic = honest_topic().id();
    let node = AttackerNode::fresh(HONEST_MAX_MESSAGE_SIZE, hub).await?;
    let joined = node
        .join(topic, hub)
        .await?
        .context("the hub did not take the spammer in")?;
    tally.identities.fetch_add(1, Ordering::Relaxed);
    let half = start + window / 2;
    while Instant::now() < half {
        let bytes = random_bytes(SPAM_BYTES);
        let len = bytes.len();
        if joined.send_until(bytes, half).await? {
            tally.sent(len);
        }
        tokio::task::yield_now().await;
    }
    oversized(hub, topic, start + window * 3 / 4, tally).await?;
    let same = random_bytes(SPAM_BYTES);
    while Instant::now() < until {
        if joined.send_until(same.clone(), until).await? {
            tally.sent(same.len());
        }
        tokio::task::yield_now().await;
    }
    drop(joined);
    node.close().await;
    Ok(())
}

/// Oversized messages, 20 a second, until `until`, from a node whose own limit allows them.
async fn oversized(hub: &Target, topic: [u8; 32], until: Instant, tally: &Tally) -> Result<()> {
    let node = AttackerNode::fresh(4 * OVERSIZED_BYTES, hub).await?;
    tally.identities.fetch_add(1, Ordering::Relaxed);
    let joined = node.join(topic, hub).await?;
    tally.joined(joined.is_some());
    if let Some(joined) = &joined {
        while Instant::now() < until {
            if joined
                .send_until(random_bytes(OVERSIZED_BYTES), until)
                .await?
            {
                tally.sent(OVERSIZED_BYTES);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    sleep_until(until).await;
    drop(joined);
    node.close().await;
    Ok(())
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    rand::thread_rng().fill(&mut bytes[..]);
    bytes
}

/// Sync stall: `stall_connections` fresh identities each open a sync connection to the hub and
/// `stalled_sessions / stall_connections` streams on it, send one byte on each (a CBOR map
/// header, so the hub's decoder waits for the rest) and hold them until the deadline. Counted as
/// one message of one byte per stream.
async fn sync_stall(
    size: AttackSize,
    hub: &Target,
    until: Instant,
    tally: &Arc<Tally>,
) -> Result<()> {
    let per = size.stalled_sessions.div_ceil(size.stall_connections);
    let start = Instant::now();
    let mut held = JoinSet::new();
    for i in 0..size.stall_connections {
        pace(start, until, i, size.stall_connections).await;
        let (hub, tally) = (hub.clone(), tally.clone());
        held.spawn(async move { stall_one(&hub, per, until, &tally).await });
    }
    while held.join_next().await.is_some() {}
    Ok(())
}

/// One identity of the sync stall.
async fn stall_one(hub: &Target, streams: usize, until: Instant, tally: &Tally) -> Result<()> {
    let node = AttackerNode::fresh(HONEST_MAX_MESSAGE_SIZE, hub).await?;
    tally.identities.fetch_add(1, Ordering::Relaxed);
    let connected =
        tokio::time::timeout_at(until, node.endpoint().connect(hub.node_addr(), SYNC_ALPN)).await;
    let Ok(Ok(connection)) = connected else {
        tally.joined(false);
        node.close().await;
        return Ok(());
    };
    tally.joined(true);
    let mut open = Vec::new();
    for _ in 0..streams {
        let Ok(Ok((mut send, recv))) = tokio::time::timeout_at(until, connection.open_bi()).await
        else {
            break;
        };
        if send.write_all(&[0xa1]).await.is_err() {
            break;
        }
        tally.sent(1);
        open.push((send, recv));
    }
    sleep_until(until).await;
    drop(open);
    connection.close(0u32.into(), b"done");
    node.close().await;
    Ok(())
}
