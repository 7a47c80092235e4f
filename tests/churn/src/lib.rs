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

/// Heap growth per churn cycle the churn test accepts. Tighter than upstream by far (the soak
/// measures about 37 KB per cycle on upstream; issue 10 measured 18 KB per churned peer on the
/// hub alone, and this debug-build test about 300 KB per cycle), looser than the soak's 2 KB:
/// the forks still show a whole-process residual of about 10 to 30 KB per cycle that is not
/// attributed yet (docs/soak.md), and a hard 2 KB bound here would fail on that open finding
/// instead of guarding the fixed leaks.
pub const CHURN_HEAP_BYTES_PER_CYCLE: f64 = 24.0 * 1024.0;

/// Figures shown in the failure table but not asserted: the process-wide task count includes
/// the tasks of short-lived peers that were dropped abruptly and wind down on their own timers
/// (QUIC idle timeout), which the hub's structures (asserted) do not; see docs/soak.md.
pub const SHOWN_NOT_ASSERTED: &[&str] = &["process.tokio_tasks"];

/// The criteria of the churn test: the soak's, with [`CHURN_HEAP_BYTES_PER_CYCLE`].
pub fn churn_criteria() -> Criteria {
    Criteria {
        heap_bytes_per_cycle: CHURN_HEAP_BYTES_PER_CYCLE,
        ..Criteria::default()
    }
}

/// Panics, printing the soak's table, if any figure (but [`SHOWN_NOT_ASSERTED`]) grows or leaves
/// its bound, or if a gossip message published by a live peer did not reach every long-lived
/// subscriber.
pub fn assert_flat_and_delivered(outcome: &RunOutcome, criteria: &Criteria) {
    let summaries = report::summarize(&outcome.samples, criteria);
    let table = report::table(&[("run", &summaries)]);
    let failing: Vec<&str> = summaries
        .iter()
        .filter(|s| s.verdict.fails() && !SHOWN_NOT_ASSERTED.contains(&s.name.as_str()))
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
