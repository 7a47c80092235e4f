//! Turning samples into verdicts a person can read, fork and upstream side by side.
//!
//! - fitting (`fit.rs`): slopes through a figure's samples, [`theil_sen`] with its 95% interval
//!   ([`theil_sen_interval`]) and [`least_squares`];
//! - verdicts (`verdict.rs`): what a run is held to ([`Criteria`]) and how each figure fared
//!   ([`summarize`] into a [`Summary`] with its [`Verdict`]);
//! - rendering: the [`table()`] of verdicts and the [`missed_table`] of lost messages
//!   (`table.rs`), the CSV of every sample ([`write_csv`], [`read_csv`]) and the SVG chart
//!   ([`write_chart`]);
//! - what a remembered departed peer costs the hub between each two settled samples
//!   ([`remembered_peer_steps`], `remembered.rs`).

mod chart;
mod csv;
mod fit;
mod remembered;
mod table;
mod verdict;

pub use chart::{write_chart, CHART_PANELS};
pub use csv::{read_csv, write_csv};
pub use fit::{least_squares, theil_sen, theil_sen_interval, Fit};
pub use remembered::{remembered_peer_steps, remembered_table, RememberedStep};
pub use table::{missed_table, table, MAX_MISSED_ROWS};
pub use verdict::{
    heap_per_remembered_peer, summarize, Criteria, Summary, Verdict, FILLS_TO_BOUND,
    REMEMBERED_PEER_HEAP_BYTES, REMEMBERED_WITHIN_TTL,
};

use std::collections::BTreeSet;

use crate::probe::Sample;

/// Every figure name the samples hold, in the order they first appear.
fn figure_names(samples: &[Sample]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for sample in samples {
        for (name, _, _) in sample.figures() {
            if seen.insert(name.clone()) {
                out.push(name);
            }
        }
    }
    out
}

/// Samples for the tests of every part of the report.
#[cfg(test)]
mod test_samples {
    use std::time::Duration;

    use crate::probe::{BoundKind, Reading, Sample};

    /// A sample at `cycles` with `heap` bytes and `peers` in the address book (bound 100);
    /// every fifth is quiet.
    pub(super) fn sample(cycles: u64, heap: u64, peers: u64) -> Sample {
        Sample {
            elapsed: Duration::from_secs(cycles),
            cycles,
            quiet: cycles.is_multiple_of(5),
            settled: false,
            heap_bytes: heap,
            heap_blocks: Some(0),
            rss_bytes: heap * 2,
            fds: 10,
            tasks: 5,
            structures: vec![Reading::bounded(
                "p2panda_net.address_book.peers",
                peers,
                100,
                BoundKind::Limit,
            )],
        }
    }
}
