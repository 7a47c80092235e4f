//! When a settled pause may end: the heap has stopped falling.
//!
//! After churn stops, the long-lived nodes still hold state of the peers that just left (dials
//! waiting for QUIC's 30 s handshake timeout, connections waiting for their idle timeout), and
//! the heap keeps falling for a while after the last of it ends. A settled sample taken while it
//! still falls depends on how far the draining got, which differs between the two pauses of a
//! run. So a pause lasts at least its configured length and then until the heap has stopped
//! falling (bounded, see [`MAX_EXTRA_PAUSE`]).

use std::time::Duration;

use crate::probe::Sample;

/// How far back [`heap_has_settled`] looks.
pub const SETTLE_WINDOW: Duration = Duration::from_secs(10);

/// How much the heap may still fall over [`SETTLE_WINDOW`] for it to count as settled.
pub const SETTLE_TOLERANCE_BYTES: u64 = 64 * 1024;

/// The longest a pause is extended beyond its configured length waiting for the heap to settle;
/// after that the settled sample is taken anyway.
pub const MAX_EXTRA_PAUSE: Duration = Duration::from_secs(30);

/// Whether the heap figure fell by at most `tolerance` bytes over the last `window` of
/// `samples` (in time order): the latest sample against the latest one at least `window`
/// older. False while the samples do not reach back that far.
pub fn heap_has_settled(samples: &[Sample], window: Duration, tolerance: u64) -> bool {
    let Some(last) = samples.last() else {
        return false;
    };
    let Some(cutoff) = last.elapsed.checked_sub(window) else {
        return false;
    };
    samples
        .iter()
        .rev()
        .find(|s| s.elapsed <= cutoff)
        .is_some_and(|earlier| earlier.heap_bytes.saturating_sub(last.heap_bytes) <= tolerance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(heaps: &[(u64, u64)]) -> Vec<Sample> {
        heaps
            .iter()
            .map(|&(secs, heap_bytes)| Sample {
                quiet: false,
                settled: false,
                elapsed: Duration::from_secs(secs),
                cycles: 0,
                heap_bytes,
                heap_blocks: Some(0),
                rss_bytes: 0,
                fds: 0,
                tasks: 0,
                structures: Vec::new(),
            })
            .collect()
    }

    const KIB: u64 = 1024;

    #[test]
    fn a_falling_heap_has_not_settled() {
        let falling: Vec<(u64, u64)> = (0..=20).map(|s| (s, 20_000 * KIB - s * 20 * KIB)).collect();
        assert!(!heap_has_settled(
            &samples(&falling),
            SETTLE_WINDOW,
            SETTLE_TOLERANCE_BYTES
        ));
    }

    #[test]
    fn a_level_or_rising_heap_has_settled() {
        let level: Vec<(u64, u64)> = (0..=20)
            .map(|s| (s, 20_000 * KIB + (s % 3) * KIB))
            .collect();
        assert!(heap_has_settled(
            &samples(&level),
            SETTLE_WINDOW,
            SETTLE_TOLERANCE_BYTES
        ));
        let rising: Vec<(u64, u64)> = (0..=20)
            .map(|s| (s, 20_000 * KIB + s * 100 * KIB))
            .collect();
        assert!(heap_has_settled(
            &samples(&rising),
            SETTLE_WINDOW,
            SETTLE_TOLERANCE_BYTES
        ));
    }

    #[test]
    fn the_window_must_be_covered() {
        // Level, but only 5 s of samples.
        let short: Vec<(u64, u64)> = (0..=5).map(|s| (s, 20_000 * KIB)).collect();
        assert!(!heap_has_settled(
            &samples(&short),
            SETTLE_WINDOW,
            SETTLE_TOLERANCE_BYTES
        ));
        assert!(!heap_has_settled(
            &[],
            SETTLE_WINDOW,
            SETTLE_TOLERANCE_BYTES
        ));
    }

    #[test]
    fn only_the_last_window_counts() {
        // A steep fall long ago, then level for the last 12 s.
        let mut heaps: Vec<(u64, u64)> = (0..=10)
            .map(|s| (s, 30_000 * KIB - s * KIB * 1000))
            .collect();
        heaps.extend((11..=22).map(|s| (s, 20_000 * KIB)));
        assert!(heap_has_settled(
            &samples(&heaps),
            SETTLE_WINDOW,
            SETTLE_TOLERANCE_BYTES
        ));
    }
}
