//! Helpers for the loopback tests of p2panda-net's bounded address book (see `tests/`):
//! a topic type and a minimal sync protocol usable from outside the crate, and node builders that
//! bind to loopback only (no relay, no mDNS).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures_util::{Sink, SinkExt};
use p2panda_core::PublicKey;
use p2panda_net::config::AddressBookConfig;
use p2panda_net::{Network, NetworkBuilder, SyncConfiguration, TopicId};
use p2panda_sync::{FromSync, SyncError, SyncProtocol, TopicQuery};
use serde::{Deserialize, Serialize};

/// A topic named by a string; its id is the hash of the name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Room(pub String);

impl TopicQuery for Room {}

impl TopicId for Room {
    fn id(&self) -> [u8; 32] {
        *p2panda_core::Hash::new(self.0.as_bytes()).as_bytes()
    }
}

/// Minimal sync protocol: the initiator sends the topic name, the acceptor acknowledges with one
/// byte. Enough for the engine to run real sync sessions (handshake, done) between nodes.
#[derive(Debug, Clone, Default)]
pub struct Handshake;

#[async_trait]
impl<'a> SyncProtocol<'a, Room> for Handshake {
    fn name(&self) -> &'static str {
        "handshake"
    }

    async fn initiate(
        self: Arc<Self>,
        topic: Room,
        mut tx: Box<&'a mut (dyn AsyncWrite + Send + Unpin)>,
        mut rx: Box<&'a mut (dyn AsyncRead + Send + Unpin)>,
        mut app_tx: Box<&'a mut (dyn Sink<FromSync<Room>, Error = SyncError> + Send + Unpin)>,
    ) -> Result<(), SyncError> {
        let name = topic.0.as_bytes();
        let len = u8::try_from(name.len()).expect("short topic names");
        tx.write_all(&[len]).await.map_err(io_err)?;
        tx.write_all(name).await.map_err(io_err)?;
        tx.flush().await.map_err(io_err)?;
        app_tx.send(FromSync::HandshakeSuccess(topic)).await?;
        let mut ack = [0u8; 1];
        rx.read_exact(&mut ack).await.map_err(io_err)?;
        app_tx.flush().await?;
        Ok(())
    }

    async fn accept(
        self: Arc<Self>,
        mut tx: Box<&'a mut (dyn AsyncWrite + Send + Unpin)>,
        mut rx: Box<&'a mut (dyn AsyncRead + Send + Unpin)>,
        mut app_tx: Box<&'a mut (dyn Sink<FromSync<Room>, Error = SyncError> + Send + Unpin)>,
    ) -> Result<(), SyncError> {
        let mut len = [0u8; 1];
        rx.read_exact(&mut len).await.map_err(io_err)?;
        let mut name = vec![0u8; len[0] as usize];
        rx.read_exact(&mut name).await.map_err(io_err)?;
        let name = String::from_utf8(name)
            .map_err(|_| SyncError::UnexpectedBehaviour("topic name is not utf-8".into()))?;
        app_tx.send(FromSync::HandshakeSuccess(Room(name))).await?;
        tx.write_all(&[1]).await.map_err(io_err)?;
        tx.flush().await.map_err(io_err)?;
        app_tx.flush().await?;
        Ok(())
    }
}

fn io_err(err: std::io::Error) -> SyncError {
    SyncError::UnexpectedBehaviour(err.to_string())
}

/// A builder for a node on loopback (ephemeral ports), with sync and the given address book
/// configuration.
pub fn loopback_builder(network_id: [u8; 32], config: AddressBookConfig) -> NetworkBuilder<Room> {
    NetworkBuilder::new(network_id)
        .bind_ip_v4(Ipv4Addr::LOCALHOST)
        .bind_port_v4(0)
        .bind_ip_v6(Ipv6Addr::LOCALHOST)
        .bind_port_v6(0)
        .sync(SyncConfiguration::new(Handshake))
        .address_book(config)
}

/// The loopback IPv4 socket address of a node.
pub async fn loopback_addr(node: &Network<Room>) -> SocketAddr {
    let addr = node.endpoint().node_addr().await.expect("node address");
    addr.direct_addresses
        .iter()
        .copied()
        .find(|addr| addr.is_ipv4())
        .expect("an IPv4 address")
}

/// The public keys the node's address book holds.
pub async fn book_keys(node: &Network<Room>) -> Vec<PublicKey> {
    let mut keys: Vec<PublicKey> = node
        .peers()
        .await
        .expect("engine running")
        .into_iter()
        .map(|peer| peer.public_key)
        .collect();
    keys.sort_by_key(|key| key.to_hex());
    keys
}

/// Polls `check` every 100 ms until it returns true or `limit` has passed.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
