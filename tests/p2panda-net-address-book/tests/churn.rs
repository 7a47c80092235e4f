//! Churn on loopback: peers with fresh keys join a hub and leave. After the TTL the hub's address
//! book and sync state hold only the live and the pinned peers, and the live peers still exchange
//! messages.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use p2panda_core::PrivateKey;
use p2panda_net::config::AddressBookConfig;
use p2panda_net::{FromNetwork, Network, ToNetwork, TopicId};
use p2panda_net_address_book::{book_keys, eventually, loopback_addr, loopback_builder, Room};
use tokio::sync::mpsc;

const ROUNDS: usize = 3;
const PER_ROUND: usize = 3;
const WAIT: Duration = Duration::from_secs(45);

/// Sends `bytes` every 500 ms until `rx` receives it (gossip gives no delivery guarantee right
/// after joining); false if it never arrives within `WAIT`.
async fn deliver(
    tx: &mpsc::Sender<ToNetwork>,
    rx: &mut mpsc::Receiver<FromNetwork>,
    bytes: &[u8],
) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        tx.send(ToNetwork::Message {
            bytes: bytes.to_vec(),
        })
        .await
        .unwrap();
        let got = tokio::time::timeout(Duration::from_millis(500), async {
            loop {
                match rx.recv().await {
                    Some(FromNetwork::GossipMessage { bytes: got, .. }) if got == bytes => {
                        return true
                    }
                    Some(_) => continue,
                    None => return false,
                }
            }
        })
        .await;
        if let Ok(true) = got {
            return true;
        }
    }
    false
}

/// Whether the hub's book holds `peer` with the topic id of `room` (its announcement arrived, so
/// the hub's sync manager has been told about it).
async fn knows_interest(hub: &Network<Room>, peer: p2panda_core::PublicKey, room: &Room) -> bool {
    hub.peers()
        .await
        .unwrap()
        .iter()
        .any(|info| info.public_key == peer && info.topic_ids.contains(&room.id()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churned_peers_are_forgotten_live_peers_keep_talking() {
    let network_id = [22; 32];
    let ttl = Duration::from_secs(4);
    let config = AddressBookConfig::default().peer_ttl(ttl);
    let room = Room("churn room".into());
    // A peer the application pinned on the hub; it never shows up, and must stay.
    let pinned = PrivateKey::new().public_key();
    let nowhere = SocketAddr::from((Ipv4Addr::LOCALHOST, 9));

    let hub = loopback_builder(network_id, config.clone())
        .bootstrap()
        .direct_address(pinned, vec![nowhere], None)
        .build()
        .await
        .unwrap();
    let hub_id = hub.node_id();
    let hub_addr = loopback_addr(&hub).await;
    let (hub_tx, mut hub_rx, _hub_ready) = hub.subscribe(room.clone()).await.unwrap();

    let stable = loopback_builder(network_id, config.clone())
        .direct_address(hub_id, vec![hub_addr], None)
        .build()
        .await
        .unwrap();
    let (stable_tx, mut stable_rx, _stable_ready) = stable.subscribe(room.clone()).await.unwrap();

    let mut peak_sync_peers = 0;
    let mut churned = Vec::new();
    for round in 0..ROUNDS {
        let mut batch = Vec::new();
        for _ in 0..PER_ROUND {
            let peer = loopback_builder(network_id, config.clone())
                .direct_address(hub_id, vec![hub_addr], None)
                .build()
                .await
                .unwrap();
            let streams = peer.subscribe(room.clone()).await.unwrap();
            batch.push((peer, streams));
        }
        for (peer, _) in &batch {
            let id = peer.node_id();
            assert!(
                eventually(WAIT, || knows_interest(&hub, id, &room)).await,
                "round {round}: hub never learned about {id}"
            );
        }
        let stats = hub.address_book_stats().await.unwrap();
        peak_sync_peers = peak_sync_peers.max(stats.sync_peers);
        for (peer, _streams) in batch {
            churned.push(peer.node_id());
            peer.shutdown().await.unwrap();
        }
    }
    assert!(
        peak_sync_peers >= 2,
        "the hub should have had sync state for departed peers (peak {peak_sync_peers})"
    );

    // After the TTL only the live and the pinned peer are left in the hub's book ...
    let mut expected = vec![stable.node_id(), pinned];
    expected.sort_by_key(|key| key.to_hex());
    assert!(
        eventually(WAIT, || async { book_keys(&hub).await == expected }).await,
        "hub's book still holds {:?}, expected only {:?}",
        book_keys(&hub).await,
        expected
    );
    let stats = hub.address_book_stats().await.unwrap();
    assert!(
        stats.evicted_ttl >= churned.len() as u64,
        "evicted_ttl {} < churned {}",
        stats.evicted_ttl,
        churned.len()
    );
    assert_eq!(stats.pinned_peers, 1);

    // ... and in its sync state: sessions only for the live peer (the pinned one never
    // announced a topic, so it has none).
    assert!(
        eventually(WAIT, || async {
            let stats = hub.address_book_stats().await.unwrap();
            stats.sync_peers <= 1 && stats.sync_sessions <= 1
        })
        .await,
        "hub keeps sync state of departed peers: {:?}",
        hub.address_book_stats().await.unwrap()
    );

    // The live peers still exchange messages, both ways.
    assert!(
        deliver(&stable_tx, &mut hub_rx, b"stable to hub").await,
        "stable -> hub"
    );
    assert!(
        deliver(&hub_tx, &mut stable_rx, b"hub to stable").await,
        "hub -> stable"
    );

    stable.shutdown().await.unwrap();
    hub.shutdown().await.unwrap();
}
