//! A bootstrap node with no neighbour, left alone: its heap and task count stay flat.
//!
//! Upstream p2panda-net 0.4.0 starts another gossip join on every join tick (about once a
//! second) while earlier ones are still pending; none resolves before a first neighbour arrives,
//! and each holds two 2,048-entry channels and a task: about +295 KB of heap and +1.1 tasks per
//! second. Fixed by p2panda-net patch 0005 (one pending join per topic). Real clock:
//! the join ticks come from the engine's own timers, so the test waits 30 s.
//!
//! Against unpatched p2panda-net 0.4.0 (the harness without its `patched` feature) this test fails
//! on both figures, by about the rates above; on the fork both stay flat.

use std::time::Duration;

use mesh_harness::alloc::{self, CountingAlloc};
use mesh_harness::compat::long_lived_store;
use mesh_harness::node::{build_node, NodeSpec, SharedTopicMap};
use mesh_harness::probe::process_figures;
use mesh_harness::report::least_squares;
use mesh_harness::scenario::PeerTtl;
use mesh_harness::topic::MeshTopic;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// How long the node is left alone, and how often it is sampled.
const ALONE: Duration = Duration::from_secs(30);
const EVERY: Duration = Duration::from_secs(2);
/// Highest acceptable heap growth: upstream grows about 295,000 B/s.
const HEAP_BYTES_PER_SECOND: f64 = 10_000.0;
/// Highest acceptable task growth: upstream gains about 1.1 tasks per second.
const TASKS_PER_SECOND: f64 = 0.1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lone_bootstrap_node_stays_flat() {
    assert!(alloc::is_installed());
    let node = build_node(NodeSpec {
        private_key: None,
        bootstrap: true,
        store: long_lived_store(),
        topic_map: SharedTopicMap::default(),
        long_lived: Some(PeerTtl::Short),
    })
    .await
    .expect("building a bootstrap node");
    let mut handles = Vec::new();
    for name in ["alone-a", "alone-b"] {
        handles.push(
            node.subscribe(MeshTopic::new(name))
                .await
                .expect("subscribing"),
        );
    }

    // Let start-up allocations settle before the first sample.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let started = tokio::time::Instant::now();
    let mut heap = Vec::new();
    let mut tasks = Vec::new();
    while started.elapsed() < ALONE {
        let figures = process_figures();
        let t = started.elapsed().as_secs_f64();
        heap.push((t, figures.heap_bytes as f64));
        tasks.push((t, figures.tasks as f64));
        tokio::time::sleep(EVERY).await;
    }
    let heap_slope = least_squares(&heap).expect("heap fit").slope;
    let task_slope = least_squares(&tasks).expect("task fit").slope;
    let (first, last) = (heap[0].1, heap[heap.len() - 1].1);
    eprintln!(
        "lone bootstrap node over {}s: heap {first:.0} -> {last:.0} B ({heap_slope:+.0} B/s), \
         tasks {} -> {} ({task_slope:+.2}/s)",
        ALONE.as_secs(),
        tasks[0].1,
        tasks[tasks.len() - 1].1
    );
    assert!(
        heap_slope < HEAP_BYTES_PER_SECOND,
        "heap of a lone bootstrap node grows {heap_slope:.0} B/s"
    );
    assert!(
        task_slope < TASKS_PER_SECOND,
        "tasks of a lone bootstrap node grow {task_slope:.2}/s"
    );
    drop(handles);
    let _ = tokio::time::timeout(Duration::from_secs(10), node.shutdown()).await;
}
