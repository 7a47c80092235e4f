//! `SampleHistory::held` is exactly the heap the history holds, as the counting allocator sees
//! it: the soak's heap figure leaves the history out, so an error here would show up as growth
//! (or hide some).
//!
//! Its own test binary: it installs the counting allocator for the whole process.

use std::time::Duration;

use mesh_harness::alloc::{self, CountingAlloc};
use mesh_harness::probe::{BoundKind, Reading, Sample, SampleHistory};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn sample(n: u64) -> Sample {
    Sample {
        elapsed: Duration::from_secs(n),
        cycles: n,
        quiet: n.is_multiple_of(3),
        settled: false,
        heap_bytes: 0,
        heap_blocks: Some(0),
        rss_bytes: 0,
        fds: 0,
        tasks: 0,
        // Names of different lengths, some formatted (capacity beyond length), like the stats'.
        structures: (0..(n % 7 + 1))
            .map(|i| {
                Reading::bounded(
                    format!("crate.component.structure_{i}_{n}"),
                    i,
                    100,
                    BoundKind::Limit,
                )
            })
            .collect(),
    }
}

#[test]
fn held_is_what_the_allocator_counts() {
    assert!(alloc::is_installed());
    let mut history = SampleHistory::new();
    // The first push also pays for one-time state of the test process (a few bytes), so the
    // comparison starts from there.
    history.push(sample(0));
    let (live_0, held_0) = (alloc::live_bytes(), history.held());
    let (blocks_0, held_blocks_0) = (alloc::live_blocks(), history.held_blocks());
    for n in 1..1_000 {
        history.push(sample(n));
        let grown = alloc::live_bytes() - live_0;
        let held = history.held() - held_0;
        assert_eq!(
            held, grown,
            "after {} more samples the history grew by {grown} bytes, held() by {held}",
            n
        );
        let grown_blocks = alloc::live_blocks() - blocks_0;
        let held_blocks = history.held_blocks() - held_blocks_0;
        assert_eq!(
            held_blocks, grown_blocks,
            "after {n} more samples the history holds {grown_blocks} more blocks, held_blocks() says {held_blocks}"
        );
    }
    assert!(
        history.held() > 100_000,
        "1,000 samples hold their readings"
    );
    let samples = history.into_samples();
    assert_eq!(samples.len(), 1_000);
}
