//! `cargo xtask attack`: the attack suite (docs/attacks.md) against unpatched upstream and against
//! our forks, one attack at a time, with the table of both in `attack-out/attacks.md`.
//!
//! Upstream is the soak's generated workspace (`target/soak-baseline/`, see [`crate::soak`]): the
//! integration crate without its `patched` feature and with no `[patch]` section.

use std::path::PathBuf;

use anyhow::Result;

use crate::both_builds::{self, Builds, Job};
use crate::series::Fork;

/// Options of `cargo xtask attack`.
#[derive(clap::Args)]
pub struct AttackArgs {
    #[command(flatten)]
    builds: Builds,
    /// Directory for the CSVs and tables.
    #[arg(long, default_value = "attack-out")]
    out: PathBuf,
    /// Arguments for both runs of `mesh-attack` (after `--`), e.g. `-- --attack fresh-keys`.
    #[arg(last = true)]
    attack: Vec<String>,
}

/// `cargo xtask attack` (after `needs::for_soak` is satisfied).
pub fn attack(forks: &[Fork], args: &AttackArgs) -> Result<()> {
    let job = Job {
        bin: "mesh-attack",
        job: "attack suite",
        out: &args.out,
        extra: &args.attack,
    };
    both_builds::run(forks, &args.builds, &job)
}
