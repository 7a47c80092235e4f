//! Churn tests live in `tests/`; this library holds what they share: the short scenario and the
//! assertion that reads like the soak's report when it fails.

use std::time::Duration;

use mesh_harness::driver::{RunOptions, RunOutcome};
use mesh_harness::report::{self, Criteria};
use mesh_harness::scenario::ScenarioConfig;

/// The short, seeded scenario the churn tests run: waves of four peers, about a second per cycle
/// in a debug build on an idle machine; never more than 150 s of churn.
pub fn short_run(seed: u64, cycles: usize) -> RunOptions {
    RunOptions {
        scenario: ScenarioConfig {
            seed,
            cycles,
            duration: Some(Duration::from_secs(150)),
            concurrency: 4,
            topics: 3,
            witnesses: 1,
            messages_per_peer: 2,
            operations_per_peer: 2,
        },
        sample_every: Duration::from_millis(500),
        settle: Duration::from_secs(3),
    }
}

/// Panics, printing the soak's table, if any figure grows or leaves its bound, or if a gossip
/// message published by a live peer did not reach every long-lived subscriber.
pub fn assert_flat_and_delivered(outcome: &RunOutcome, criteria: &Criteria) {
    let summaries = report::summarize(&outcome.samples, criteria);
    let table = report::table(&[("run", &summaries)]);
    let failing: Vec<&str> = summaries
        .iter()
        .filter(|s| s.verdict.fails())
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        failing.is_empty(),
        "figures failing after {} cycles: {failing:?}\n{table}",
        outcome.cycles
    );
    let d = outcome.delivery;
    assert_eq!(
        d.delivered, d.expected,
        "gossip not delivered to every long-lived subscriber: {d:?}\n{table}"
    );
    assert_eq!(
        d.peer_stalls, 0,
        "short-lived peers stalled: {d:?}\n{table}"
    );
    assert_eq!(
        d.hub_unresponsive, 0,
        "the hub stopped answering: {d:?}\n{table}"
    );
    assert!(outcome.cycles > 0, "no churn cycle completed");
}
