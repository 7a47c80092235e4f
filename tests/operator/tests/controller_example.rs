//! The example controller of mesh-metrics (`crates/mesh-metrics/examples/controller.rs`), run and
//! scraped once: the exposition is valid for Prometheus, every series an alert rule selects is in
//! it, and `/health` judges the node's own bounds.

#[allow(dead_code)]
#[path = "../../../crates/mesh-metrics/examples/controller.rs"]
mod controller;

use std::time::Duration;

use operator::{alert_selectors, check_metrics, parse_exposition};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_exports_every_alert_series() {
    let (addr, server) = controller::serve("127.0.0.1:0".parse().unwrap())
        .await
        .expect("starting the example controller");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let get = |path: &str| client.get(format!("http://{addr}{path}")).send();

    // The collector reads at once; give it a moment rather than racing it.
    let mut text = String::new();
    for _ in 0..50 {
        let response = get("/metrics").await.unwrap();
        if response.status().as_u16() == 200 {
            text = response.text().await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!text.is_empty(), "/metrics never answered 200");
    check_metrics(&text);
    let samples = parse_exposition(&text);
    for selector in alert_selectors() {
        assert!(
            samples.iter().any(|(series, _)| selector.matches(series)),
            "{} selects {} {:?}, absent from the scrape:\n{text}",
            selector.alert,
            selector.name,
            selector.matchers
        );
    }
    // The node's own bound (max_peers 2000), not the default.
    let bound = samples
        .iter()
        .find(|(s, _)| {
            s == r#"mesh_structure_bound{structure="p2panda_net_address_book_peers",kind="limit"}"#
        })
        .map(|(_, v)| *v);
    assert_eq!(bound, Some(2000.0), "{text}");

    let health = get("/health").await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    let ops = health["structures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "p2panda_store.operations")
        .unwrap_or_else(|| panic!("no store in {health}"));
    assert_eq!(
        (&ops["bound"], &ops["kind"]),
        (&10_000.into(), &"capacity".into())
    );
    if std::env::var_os("MESH_METRICS_PRINT_SCRAPE").is_some() {
        println!("{text}\n{health:#}");
    }
    server.abort();
}
