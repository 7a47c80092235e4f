//! A node that stops answering is counted and judged: its series leave the scrape, the count of
//! unanswered reads goes up and `/health` says `unresponsive` (HTTP 503), where a scrape of the
//! process figures alone would otherwise read as healthy.

use std::net::{Ipv4Addr, Ipv6Addr};

use mesh_metrics::{MeshMetrics, Refresh, Sources};
use p2panda_net::{NetworkBuilder, TopicId};
use p2panda_sync::TopicQuery;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Topic([u8; 32]);

impl TopicQuery for Topic {}

impl TopicId for Topic {
    fn id(&self) -> [u8; 32] {
        self.0
    }
}

fn value(metrics: &MeshMetrics, name: &str) -> Option<u64> {
    let readings = metrics.readings()?;
    readings.iter().find(|r| r.name == name).map(|r| r.value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_stops_answering_is_counted_and_unresponsive() {
    let network = NetworkBuilder::<Topic>::new([9; 32])
        .bind_ip_v4(Ipv4Addr::LOCALHOST)
        .bind_port_v4(0)
        .bind_ip_v6(Ipv6Addr::LOCALHOST)
        .bind_port_v6(0)
        .build()
        .await
        .expect("building the node");
    let mut registry = Registry::default();
    let metrics = MeshMetrics::register(&mut registry, Sources::new(&network), Refresh::OnScrape);

    metrics.refresh().await.expect("a running node answers");
    assert_eq!(metrics.health().status, "ok");
    assert_eq!(
        value(&metrics, "mesh_metrics.node_unanswered_total"),
        Some(0)
    );
    assert!(value(&metrics, "p2panda_net.address_book.peers").is_some());

    network.shutdown().await.expect("shutting the node down");
    assert!(
        metrics.refresh().await.is_err(),
        "a stopped node cannot answer"
    );
    let health = metrics.health();
    assert_eq!((health.status, health.http_status()), ("unresponsive", 503));
    assert_eq!(
        value(&metrics, "mesh_metrics.node_unanswered_total"),
        Some(1)
    );
    assert_eq!(
        value(&metrics, "p2panda_net.address_book.peers"),
        None,
        "no stale value for a node that did not answer"
    );
}
