//! mesh-sim: iroh-gossip's sans-IO protocol state machines of the fork and of unpatched upstream,
//! side by side and mixed, in one seeded discrete-event loop with latency, jitter, loss,
//! partitions and churn (see docs/simulation.md).

pub mod census;
pub mod chart;
pub mod meter;
pub mod netmodel;
pub mod node;
pub mod outcome;
pub mod peer;
pub mod presets;
pub mod record;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod verdict;
pub mod wire;

use std::time::Instant as WallInstant;

use n0_future::time::Duration;

/// Runs `scenario` to its end, calling `progress` with the simulated time as it goes.
pub fn run(scenario: &scenario::Scenario, progress: impl FnMut(Duration)) -> outcome::RunOutcome {
    let started = WallInstant::now();
    let mut sim = sim::Sim::new(scenario);
    sim.run(progress);
    outcome::collect(sim, scenario, started.elapsed())
}
