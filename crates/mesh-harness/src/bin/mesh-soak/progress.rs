//! What a soak shows while it runs: a progress bar with the latest figures (a plain line every
//! ten seconds without a terminal), the `/metrics` and `/health` endpoints if asked for, and,
//! in a dhat build, the profile written at the asked-for cycle.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use mesh_harness::ops::OpsState;
use mesh_harness::probe::Sample;

/// How often a plain line is printed when the bar is hidden.
const PLAIN_LINE_EVERY: Duration = Duration::from_secs(10);

/// Follows a run sample by sample.
pub struct Progress<'a> {
    label: &'a str,
    bar: ProgressBar,
    /// When the last plain line was printed (run time).
    last_line: Duration,
    ops: Option<Arc<OpsState>>,
    #[cfg(feature = "dhat-heap")]
    dhat: DhatAt,
}

impl<'a> Progress<'a> {
    /// A bar over `cycles` churn cycles for run `label`, publishing every sample to `ops`.
    pub fn new(
        label: &'a str,
        cycles: usize,
        ops: Option<Arc<OpsState>>,
        #[cfg(feature = "dhat-heap")] dhat: DhatAt,
    ) -> Result<Self> {
        let bar = ProgressBar::new(cycles as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} cycles  {msg}")?
                .progress_chars("=> "),
        );
        Ok(Self {
            label,
            bar,
            last_line: Duration::ZERO,
            ops,
            #[cfg(feature = "dhat-heap")]
            dhat,
        })
    }

    /// Shows `sample`.
    pub fn on_sample(&mut self, sample: &Sample) {
        if let Some(ops) = &self.ops {
            ops.publish(sample);
        }
        self.bar.set_position(sample.cycles);
        #[cfg(feature = "dhat-heap")]
        self.dhat.on_sample(sample, self.label);
        let line = figures_line(sample);
        // Without a terminal the bar is hidden: print a plain line every ten seconds instead.
        if self.bar.is_hidden() && sample.elapsed >= self.last_line + PLAIN_LINE_EVERY {
            self.last_line = sample.elapsed;
            eprintln!(
                "mesh-soak [{}]: {:>4.0} s  {}/{} cycles  {line}",
                self.label,
                sample.elapsed.as_secs_f64(),
                sample.cycles,
                self.bar.length().unwrap_or(0)
            );
        }
        self.bar.set_message(line);
    }

    /// Ends the bar.
    pub fn finish(&self) {
        self.bar.finish();
    }
}

/// The figures a reader follows during a run: heap, RSS, tasks and the hub's address book.
fn figures_line(sample: &Sample) -> String {
    let mib = |bytes: u64| bytes as f64 / 1048576.0;
    let peers = sample
        .figure("p2panda_net.address_book.peers")
        .map_or(0, |(value, _)| value);
    format!(
        "heap {:.1} MiB in {} blocks  rss {:.1} MiB  tasks {}  book {}",
        mib(sample.heap_bytes),
        sample.heap_blocks.unwrap_or(0),
        mib(sample.rss_bytes),
        sample.tasks,
        peers
    )
}

/// When a dhat build writes its profile (`--dhat-at-cycle`, `--dhat-settled`).
#[cfg(feature = "dhat-heap")]
#[derive(Debug, Clone, Copy)]
pub struct DhatAt {
    /// The first quiet sample from this cycle on.
    pub cycle: Option<u64>,
    /// Only a settled sample.
    pub settled: bool,
}

#[cfg(feature = "dhat-heap")]
impl DhatAt {
    /// Writes the profile (once) if `sample` is the one asked for.
    fn on_sample(&self, sample: &Sample, label: &str) {
        let due = sample.quiet
            && (sample.settled || !self.settled)
            && self.cycle.is_some_and(|at| sample.cycles >= at);
        if due {
            if let Some(profiler) = crate::PROFILER.lock().unwrap().take() {
                drop(profiler);
                eprintln!(
                    "mesh-soak [{label}]: dhat profile written at cycle {}",
                    sample.cycles
                );
            }
        }
    }
}
