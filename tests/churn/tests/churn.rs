//! The soak scenario, short and seeded, with hard assertions. One test per file keeps the
//! counting allocator's figures to one run (nextest runs each test in its own process anyway).

use churn::{assert_flat_and_delivered, churn_criteria, short_run};
use mesh_harness::alloc::CountingAlloc;
use mesh_harness::driver::run;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_stays_flat_and_delivers_under_churn() {
    // 100 cycles (about 100 s in a debug build): the second half, which is judged, starts after
    // the hub's steady state (peer TTL plus QUIC's handshake timeout for dials to departed peers).
    let outcome = run(short_run(11, 100), |_| {}).await.expect("churn run");
    assert!(mesh_harness::alloc::is_installed());
    assert_flat_and_delivered(&outcome, &churn_criteria());
}
