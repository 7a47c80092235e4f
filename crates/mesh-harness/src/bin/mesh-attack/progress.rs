//! What `mesh-attack` shows while an attack runs: a spinner with the phase and the latest
//! figures (a plain line every ten seconds without a terminal).

use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use mesh_harness::attack::measure::AttackSample;
use mesh_harness::attack::run::RunConfig;
use mesh_harness::attack::Attack;

const PLAIN_LINE_EVERY: Duration = Duration::from_secs(10);

/// Follows one attack run sample by sample.
pub struct Progress {
    prefix: String,
    bar: ProgressBar,
    last_line: Duration,
}

impl Progress {
    /// A spinner for `attack` on run `label`.
    pub fn new(label: &str, attack: Attack, config: &RunConfig) -> Result<Self> {
        let prefix = format!("mesh-attack [{label}] {}", attack.name());
        eprintln!(
            "{prefix}: {} s attack, scale {}, {:?} peer TTL",
            config.duration.as_secs(),
            config.scale,
            config.peer_ttl
        );
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template(
            "{elapsed_precise} {spinner} {prefix} {msg}",
        )?);
        bar.set_prefix(prefix.clone());
        Ok(Self {
            prefix,
            bar,
            last_line: Duration::ZERO,
        })
    }

    /// Shows `sample`.
    pub fn on_sample(&mut self, sample: &AttackSample) {
        let book = sample
            .structures
            .as_ref()
            .and_then(|r| {
                r.iter()
                    .find(|r| r.name == "p2panda_net.address_book.peers")
            })
            .map_or("-".to_owned(), |r| r.value.to_string());
        let line = format!(
            "{}: heap {:.1} MiB, RSS {:.0} MiB, CPU {:.1} s, address book {book}",
            sample.phase.name(),
            sample.heap_bytes as f64 / 1048576.0,
            sample.rss_bytes as f64 / 1048576.0,
            sample.cpu.as_secs_f64()
        );
        if self.bar.is_hidden() && sample.elapsed >= self.last_line + PLAIN_LINE_EVERY {
            self.last_line = sample.elapsed;
            eprintln!(
                "{}: {:>4.0} s  {line}",
                self.prefix,
                sample.elapsed.as_secs_f64()
            );
        }
        self.bar.set_message(line);
        self.bar.tick();
    }

    /// Ends the spinner.
    pub fn finish(&self) {
        self.bar.finish();
    }
}
