//! A mesh-controller's metrics: a node on loopback with its own address book settings and a
//! capped store, the collector, and `/metrics` and `/health` served.
//!
//! `cargo run -p mesh-metrics --example controller -- 127.0.0.1:9464` (cargo's runner starts it
//! in a network namespace with only `lo`; scrape it from there).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use mesh_metrics::{MeshMetrics, Refresh, Sources};
use p2panda_net::{AddressBookConfig, NetworkBuilder, TopicId};
use p2panda_store::memory::{Capacity, MemoryStore};
use p2panda_sync::TopicQuery;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

// The heap figure the MeshHeapGrowing rule watches.
#[global_allocator]
static ALLOC: mesh_metrics::alloc::CountingAlloc = mesh_metrics::alloc::CountingAlloc;

/// The controller's topic type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Topic([u8; 32]);

impl TopicQuery for Topic {}

impl TopicId for Topic {
    fn id(&self) -> [u8; 32] {
        self.0
    }
}

/// Starts the node and serves its metrics on `addr`: the bound address, and the server task
/// (which keeps the node).
pub async fn serve(addr: SocketAddr) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let address_book = AddressBookConfig::default().max_peers(2_000);
    let store = MemoryStore::<u64>::capped(Capacity::default().with_max_operations(10_000));
    let network = NetworkBuilder::<Topic>::new([7; 32])
        .bind_ip_v4(Ipv4Addr::LOCALHOST)
        .bind_port_v4(0)
        .bind_ip_v6(Ipv6Addr::LOCALHOST)
        .bind_port_v6(0)
        .address_book(address_book.clone())
        .build()
        .await?;

    let mut registry = Registry::default();
    let sources = Sources::new(&network)
        .address_book(&address_book)
        .store(&store);
    let metrics = MeshMetrics::register(
        &mut registry,
        sources,
        Refresh::Every(Duration::from_secs(10)),
    );
    let app = metrics.router(registry);

    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let _node = (network, store);
        axum::serve(listener, app).await.expect("serving metrics");
    });
    Ok((local, server))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let (local, server) = serve(addr.parse()?).await?;
    println!("metrics on http://{local}/metrics, health on http://{local}/health");
    Ok(server.await?)
}
