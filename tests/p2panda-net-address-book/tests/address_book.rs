//! A single node on loopback: learned peers expire after the TTL, pinned peers stay until
//! removed, and the stats count both.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use p2panda_core::PrivateKey;
use p2panda_net::config::AddressBookConfig;
use p2panda_net::NodeAddress;
use p2panda_net_address_book::{book_keys, eventually, loopback_builder};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn learned_peer_expires_pinned_peer_stays_until_removed() {
    let network_id = [21; 32];
    let ttl = Duration::from_secs(2);
    // A pinned peer (named by the application) and a learned one; neither exists, so nothing
    // refreshes them after they were added.
    let pinned = PrivateKey::new().public_key();
    let learned = PrivateKey::new().public_key();
    let nowhere = SocketAddr::from((Ipv4Addr::LOCALHOST, 9));

    let node = loopback_builder(network_id, AddressBookConfig::default().peer_ttl(ttl))
        .bootstrap()
        .direct_address(pinned, vec![nowhere], None)
        .build()
        .await
        .unwrap();
    node.add_peer(NodeAddress {
        public_key: learned,
        direct_addresses: vec![nowhere],
        relay_url: None,
    })
    .await
    .unwrap();

    let mut both = vec![pinned, learned];
    both.sort_by_key(|key| key.to_hex());
    assert_eq!(book_keys(&node).await, both);
    let stats = node.address_book_stats().await.unwrap();
    assert_eq!((stats.peers, stats.pinned_peers), (2, 1));

    // After the TTL only the pinned peer is left, without anybody asking.
    assert!(
        eventually(ttl * 10, || async {
            book_keys(&node).await == vec![pinned]
        })
        .await,
        "learned peer not expired: book holds {:?}",
        book_keys(&node).await
    );
    let stats = node.address_book_stats().await.unwrap();
    assert_eq!(stats.evicted_ttl, 1);
    assert_eq!(stats.addresses, 1, "only the pinned peer's address is left");

    // Still there well after the TTL; then removed explicitly.
    tokio::time::sleep(ttl * 2).await;
    assert_eq!(book_keys(&node).await, vec![pinned]);
    assert!(node.remove_peer(pinned).await.unwrap());
    assert!(!node.remove_peer(pinned).await.unwrap(), "already gone");
    assert!(book_keys(&node).await.is_empty());
    let stats = node.address_book_stats().await.unwrap();
    assert_eq!((stats.peers, stats.removed, stats.evicted_ttl), (0, 1, 1));

    // Unknown peers cannot be pinned.
    assert!(!node.pin_peer(learned).await.unwrap());

    node.shutdown().await.unwrap();
}
