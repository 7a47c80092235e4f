//! The soak scenario, short and seeded, with hard assertions. One test per file keeps the
//! counting allocator's figures to one run (nextest runs each test in its own process anyway).

use churn::{assert_flat_and_delivered, short_run};
use mesh_harness::alloc::CountingAlloc;
use mesh_harness::driver::run;
use mesh_harness::report::Criteria;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_stays_flat_and_delivers_under_churn() {
    let outcome = run(short_run(11, 40), |_| {}).await.expect("churn run");
    assert!(mesh_harness::alloc::is_installed());
    assert_flat_and_delivered(&outcome, &Criteria::default());
}
