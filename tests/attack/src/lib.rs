//! The attack tests' run and how they read it: a short fresh-key flood against a fork hub whose
//! address book holds at most [`MAX_PEERS`] peers, and a structure's peak and last value.

use std::time::Duration;

use mesh_harness::attack::measure::{AttackSample, Phase};
use mesh_harness::attack::run::{run_attack, Launcher, RunConfig, RunRecord};
use mesh_harness::attack::summary::{row, Row};
use mesh_harness::attack::Attack;

/// The hub's peer bound in the tests: a tenth of what the flood announces.
pub const MAX_PEERS: u64 = 100;

/// A fresh-key flood of 1,000 announced keys and 30 dialing ones in 15 s against a hub with
/// [`MAX_PEERS`], the attacker in this process (a debug build takes about 75 s).
pub async fn short_fresh_key_flood() -> (RunRecord, Row) {
    let mut config = RunConfig::new(Attack::FreshKeys, Launcher::InProcess);
    config.scale = 0.1;
    config.duration = Duration::from_secs(15);
    config.before = Duration::from_secs(5);
    config.settle = Duration::from_secs(30);
    config.settle_max = Duration::from_secs(45);
    config.max_peers = Some(MAX_PEERS as usize);
    let record = run_attack(config, |_| {}).await.expect("attack run");
    let summary = row(&record, "fork");
    eprintln!("{summary:#?}");
    (record, summary)
}

/// The largest value of structure `name` over the samples of the attack and after it, with its
/// bound (`None` if no sample had it).
pub fn peak(samples: &[AttackSample], name: &str) -> Option<(u64, Option<u64>)> {
    samples
        .iter()
        .filter(|s| matches!(s.phase, Phase::During | Phase::After))
        .filter_map(|s| reading(s, name))
        .max_by_key(|(value, _)| *value)
}

/// The value of structure `name` at the last sample that had it.
pub fn last(samples: &[AttackSample], name: &str) -> Option<u64> {
    samples
        .iter()
        .rev()
        .find_map(|s| reading(s, name))
        .map(|(value, _)| value)
}

fn reading(sample: &AttackSample, name: &str) -> Option<(u64, Option<u64>)> {
    let readings = sample.structures.as_ref()?;
    let r = readings.iter().find(|r| r.name == name)?;
    Some((r.value, r.bound.map(|b| b.value)))
}
