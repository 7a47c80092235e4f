//! A lightweight hostile node: an iroh endpoint on loopback with iroh-gossip and nothing else,
//! under a key of the attack's choosing. It speaks to the hub as any gossip peer does; it keeps
//! no address book, no sync and no store.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use iroh::protocol::Router;
use iroh::{Endpoint, RelayMode, SecretKey};
use iroh_gossip::net::{Gossip, GossipReceiver, GossipSender, GOSSIP_ALPN};
use n0_future::StreamExt;
use p2panda_core::PrivateKey;

use super::target::Target;

/// How long an attacker waits for the hub to take it into a topic.
pub const JOIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest gossip message an honest p2panda-net node accepts by default.
pub const HONEST_MAX_MESSAGE_SIZE: usize = 4096;

/// One hostile node.
pub struct AttackerNode {
    gossip: Gossip,
    router: Router,
}

/// A topic an attacker has joined: what it sends with; what arrives is read and dropped.
pub struct Joined {
    /// Broadcasts into the topic.
    pub sender: GossipSender,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Joined {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl AttackerNode {
    /// A node under `key` that sends gossip messages of up to `max_message_size` bytes, and
    /// knows where the hub is.
    pub async fn bind(key: &PrivateKey, max_message_size: usize, hub: &Target) -> Result<Self> {
        let endpoint = Endpoint::builder()
            .secret_key(SecretKey::from_bytes(key.as_bytes()))
            .relay_mode(RelayMode::Disabled)
            .clear_discovery()
            .bind_addr_v4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
            .bind_addr_v6(SocketAddrV6::new(Ipv6Addr::LOCALHOST, 0, 0, 0))
            .bind()
            .await
            .context("binding an attacker's endpoint")?;
        endpoint.add_node_addr(hub.node_addr())?;
        let gossip = Gossip::builder()
            .max_message_size(max_message_size)
            .spawn(endpoint.clone())
            .await?;
        let router = Router::builder(endpoint)
            .accept(GOSSIP_ALPN, gossip.clone())
            .spawn()
            .await?;
        Ok(Self { gossip, router })
    }

    /// A node under a fresh key.
    pub async fn fresh(max_message_size: usize, hub: &Target) -> Result<Self> {
        Self::bind(&PrivateKey::new(), max_message_size, hub).await
    }

    /// Joins `topic` through the hub, waiting at most [`JOIN_TIMEOUT`] for it to take us in
    /// (`None` when it did not).
    pub async fn join(&self, topic: [u8; 32], hub: &Target) -> Result<Option<Joined>> {
        let mut topic = self.gossip.subscribe(topic.into(), vec![hub.node_id])?;
        let joined = tokio::time::timeout(JOIN_TIMEOUT, topic.joined()).await;
        if !matches!(joined, Ok(Ok(()))) {
            return Ok(None);
        }
        let (sender, receiver) = topic.split();
        Ok(Some(Joined {
            sender,
            reader: tokio::spawn(drain(receiver)),
        }))
    }

    /// Joins `topic` through the hub without waiting for it.
    pub fn join_now(&self, topic: [u8; 32], hub: &Target) -> Result<Joined> {
        let topic = self.gossip.subscribe(topic.into(), vec![hub.node_id])?;
        let (sender, receiver) = topic.split();
        Ok(Joined {
            sender,
            reader: tokio::spawn(drain(receiver)),
        })
    }

    /// The node's endpoint, for attacks that speak another protocol than gossip.
    pub fn endpoint(&self) -> &Endpoint {
        self.router.endpoint()
    }

    /// Closes the node's connections and its endpoint.
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.router.shutdown()).await;
    }
}

impl Joined {
    /// Broadcasts `bytes` to the topic (an error when the gossip actor is gone).
    pub async fn send(&self, bytes: Vec<u8>) -> Result<()> {
        self.sender.broadcast(Bytes::from(bytes)).await?;
        Ok(())
    }

    /// Broadcasts `bytes` unless the node's gossip actor does not take it before `until`;
    /// `false` then.
    pub async fn send_until(&self, bytes: Vec<u8>, until: tokio::time::Instant) -> Result<bool> {
        match tokio::time::timeout_at(until, self.send(bytes)).await {
            Ok(sent) => sent.map(|()| true),
            Err(_) => Ok(false),
        }
    }
}

/// Reads what a topic delivers until it ends, keeping nothing.
async fn drain(mut receiver: GossipReceiver) {
    while let Some(event) = receiver.next().await {
        if event.is_err() {
            break;
        }
    }
}
