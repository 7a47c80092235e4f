//! A hub with the fork's default settings remembers every departed peer for 30 minutes; each
//! must cost it little more than its address-book record, not the connection, gossip, sync or
//! dial state of a connected peer (which cost more than upstream's 39 KB per peer before
//! p2panda-net 0019).
//!
//! Only the hub runs with the default TTL (the witness forgets departed peers after 10 s), so
//! the heap the settled samples gain per departed peer is what the hub keeps for it; the live
//! witness also spares the hub the dials of a node left alone. Peers offer no operations: the
//! hub's capped store would otherwise still be filling between the settled samples, which says
//! nothing about departed peers (the other churn test judges the store). One test per file keeps
//! the counting allocator's figures to one run.

use std::time::Duration;

use churn::short_run;
use mesh_harness::alloc::CountingAlloc;
use mesh_harness::driver::run;
use mesh_harness::report::{self, Criteria, REMEMBERED_PEER_HEAP_BYTES};

/// Heap per remembered departed peer this debug-build test accepts: twice the soak's
/// [`REMEMBERED_PEER_HEAP_BYTES`], which a release build is held to (`mesh-soak --peer-ttl
/// default`). Here the hub keeps about 9 live blocks and 2.6-2.9 KB per remembered peer, where
/// release builds measure 3.5 blocks and 1.3 KB; what the debug build keeps beyond that is not
/// found yet. The bound is still a tenth of upstream's (about 39 KB per peer) and of the fork's
/// before p2panda-net 0019, so either fails it.
const DEBUG_HEAP_PER_REMEMBERED_PEER: f64 = 2.0 * REMEMBERED_PEER_HEAP_BYTES;
use mesh_harness::scenario::PeerTtl;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Fewer departed peers than this between the settled samples cannot resolve 2 KiB per peer
/// against the settled samples' own noise (tens of KiB).
const MIN_REMEMBERED: f64 = 60.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn departed_peers_cost_a_default_hub_only_their_record() {
    let mut options = short_run(13, 160);
    options.scenario.peer_ttl = PeerTtl::Default;
    options.scenario.operations_per_peer = 0;
    // The pauses split the run by cycles (80 departed peers between the settled samples), not
    // by churn time, which a loaded machine stretches.
    options.scenario.duration = Some(Duration::from_secs(900));
    // 70 s after the last peer left: longer than the liveness window (15 s) plus a dial's or a
    // sync attempt's 30 s handshake timeout and QUIC's 30 s idle timeout, so what is left is
    // what the hub keeps while it remembers the departed peers.
    options.settled_pause = Some(Duration::from_secs(70));
    let outcome = run(options, |_| {}).await.expect("churn run");
    assert!(mesh_harness::alloc::is_installed());

    let summaries = report::summarize(&outcome.samples, &Criteria::remembering_peers());
    let table = report::table(&[("run", &summaries)]);
    let settled: Vec<_> = outcome.samples.iter().filter(|s| s.settled).collect();
    assert_eq!(settled.len(), 2, "two settled samples expected\n{table}");
    let peers = |s: &mesh_harness::probe::Sample| {
        s.structures
            .iter()
            .find(|r| r.name == "p2panda_net.address_book.peers")
            .map_or(0, |r| r.value) as f64
    };
    let remembered = peers(settled[1]) - peers(settled[0]);
    assert!(
        remembered >= MIN_REMEMBERED,
        "the hub should still remember the peers that left between the settled samples \
         (default TTL), but its book grew by {remembered}\n{table}"
    );
    let per_peer = report::heap_per_remembered_peer(&outcome.samples)
        .expect("heap per remembered peer between the settled samples");
    println!("{table}\nheap per remembered departed peer: {per_peer:.0} B over {remembered} peers");
    assert!(
        per_peer <= DEBUG_HEAP_PER_REMEMBERED_PEER,
        "the hub keeps {per_peer:.0} B per departed peer it remembers \
         (at most {DEBUG_HEAP_PER_REMEMBERED_PEER} B in a debug build)\n{table}"
    );
}
