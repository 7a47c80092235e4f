//! A real hub on loopback, a short churn, and the operator endpoints scraped live with an HTTP
//! client while it runs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mesh_harness::driver::{run, RunOptions};
use mesh_harness::ops::{self, OpsState};
use mesh_harness::scenario::ScenarioConfig;
use operator::{check_metrics, parse_exposition};

#[global_allocator]
static ALLOC: mesh_harness::alloc::CountingAlloc = mesh_harness::alloc::CountingAlloc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_are_served_live() {
    let state = Arc::new(OpsState::new(ops::DEFAULT_DEGRADED_FRACTION));
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let (local, _server) = ops::serve(addr, state.clone()).await.expect("serving");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // Before the first sample the node says it is starting, not that it is fine.
    let early = client
        .get(format!("http://{local}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(early.status().as_u16(), 503);

    let options = RunOptions {
        scenario: ScenarioConfig {
            cycles: 4,
            concurrency: 2,
            witnesses: 0,
            topics: 1,
            duration: Some(Duration::from_secs(60)),
            ..ScenarioConfig::default()
        },
        sample_every: Duration::from_millis(500),
        settle: Duration::from_secs(1),
        ..RunOptions::default()
    };
    let publisher = state.clone();
    let churn = tokio::spawn(run(options, move |sample| publisher.publish(sample)));
    while state.latest().is_none() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Scraped while the churn runs.
    let response = client
        .get(format!("http://{local}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    let samples = parse_exposition(&text);
    let value = |name: &str| {
        samples
            .iter()
            .find(|(series, _)| series == name)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
    };
    assert!(value("mesh_harness_process_heap_bytes") > 0.0);
    assert!(value("mesh_harness_process_open_fds") > 0.0);
    value("p2panda_net_address_book_peers");
    // QUIC's pending incoming attempts reach the exposition through iroh, with their bound
    // (`max_incoming`, quinn's default) for the MeshPendingIncomingNearMax alert.
    value("iroh_quinn_proto_incoming_pending");
    value("iroh_quinn_proto_incoming_initials_dropped_at_saturation_total");
    assert_eq!(
        value(
            r#"mesh_structure_bound{structure="iroh_quinn_proto_incoming_pending",kind="limit"}"#
        ),
        65536.0
    );
    // The exposition is valid for Prometheus itself.
    check_metrics(&text);

    let health: serde_json::Value = client
        .get(format!("http://{local}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        matches!(health["status"].as_str(), Some("ok" | "degraded")),
        "{health}"
    );
    let structures = health["structures"].as_array().expect("structures");
    assert!(
        structures
            .iter()
            .any(|s| s["name"] == "p2panda_net.address_book.peers"),
        "{health}"
    );
    let pending = structures
        .iter()
        .find(|s| s["name"] == "iroh_quinn_proto.incoming.pending")
        .unwrap_or_else(|| panic!("no pending incoming attempts in {health}"));
    assert_eq!(pending["bound"], 65536, "{health}");
    assert_eq!(pending["kind"], "limit", "{health}");

    let outcome = churn.await.unwrap().expect("churn run");
    assert_eq!(outcome.cycles, 4);
}
