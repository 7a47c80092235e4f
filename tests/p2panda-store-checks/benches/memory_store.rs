//! The p2panda-store fork against unpatched upstream, in one run: deleting 100,000 operations
//! one by one and by prefix, and inserting 100,000 operations with and without a cap.
//!
//! ```sh
//! unset RUST_BACKTRACE
//! cargo bench --target-dir <dir> -p p2panda-store-checks --bench memory_store
//! ```
//!
//! The workload is 100 logs of 1,000 operations (32-byte bodies), made once before any
//! measurement; filling the store a delete bench starts from is not timed. Upstream's deletes
//! take tens of seconds per run, so those run once (`sample_count = 1`).
use std::sync::LazyLock;

use divan::Bencher;
use p2panda_core::PublicKey;
use p2panda_store::memory::Capacity;
use p2panda_store::{LogStore as _, MemoryStore, OperationStore as _};
use p2panda_store_checks::{operations, ready, Operation};
use upstream_store::{LogStore as _, OperationStore as _};

const LOGS: u64 = 100;
const PER_LOG: u64 = 1_000;
/// Operations removed by one `delete_operations` call in the prefix benches.
const PREFIX: u64 = 100;

static WORKLOAD: LazyLock<(Vec<PublicKey>, Vec<Operation>)> =
    LazyLock::new(|| operations(LOGS, PER_LOG));

fn main() {
    LazyLock::force(&WORKLOAD);
    divan::main();
}

fn fill_fork(mut store: MemoryStore<u64>) -> MemoryStore<u64> {
    for op in &WORKLOAD.1 {
        let inserted = ready(store.insert_operation(
            op.hash,
            &op.header,
            Some(&op.body),
            &op.header_bytes,
            &op.log_id,
        ))
        .unwrap();
        assert!(inserted);
    }
    store
}

fn fill_upstream(mut store: upstream_store::MemoryStore<u64>) -> upstream_store::MemoryStore<u64> {
    for op in &WORKLOAD.1 {
        let inserted = ready(store.insert_operation(
            op.hash,
            &op.header,
            Some(&op.body),
            &op.header_bytes,
            &op.log_id,
        ))
        .unwrap();
        assert!(inserted);
    }
    store
}

/// `delete_operation` for each of the 100,000 operations, in insertion order.
mod delete_one_by_one {
    use super::*;

    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn fork(bencher: Bencher) {
        bencher
            .with_inputs(|| fill_fork(MemoryStore::new()))
            .bench_local_values(|mut store| {
                for op in &WORKLOAD.1 {
                    assert!(ready(store.delete_operation(op.hash)).unwrap());
                }
                assert_eq!(store.stats().operations, 0);
                store
            });
    }

    #[divan::bench(sample_count = 1, sample_size = 1)]
    fn upstream(bencher: Bencher) {
        bencher
            .with_inputs(|| fill_upstream(upstream_store::MemoryStore::new()))
            .bench_local_values(|mut store| {
                for op in &WORKLOAD.1 {
                    assert!(ready(store.delete_operation(op.hash)).unwrap());
                }
                store
            });
    }
}

/// `delete_operations` removing 100 operations at a time from the front of every log, until
/// all 100,000 are gone (1,000 calls).
mod delete_by_prefix {
    use super::*;

    #[divan::bench(sample_count = 5, sample_size = 1)]
    fn fork(bencher: Bencher) {
        bencher
            .with_inputs(|| fill_fork(MemoryStore::new()))
            .bench_local_values(|mut store| {
                for (log, author) in WORKLOAD.0.iter().enumerate() {
                    for before in (PREFIX..=PER_LOG).step_by(PREFIX as usize) {
                        let deleted = ready(store.delete_operations(author, &(log as u64), before));
                        assert!(deleted.unwrap());
                    }
                }
                assert_eq!(store.stats().operations, 0);
                store
            });
    }

    #[divan::bench(sample_count = 1, sample_size = 1)]
    fn upstream(bencher: Bencher) {
        bencher
            .with_inputs(|| fill_upstream(upstream_store::MemoryStore::new()))
            .bench_local_values(|mut store| {
                for (log, author) in WORKLOAD.0.iter().enumerate() {
                    for before in (PREFIX..=PER_LOG).step_by(PREFIX as usize) {
                        let deleted = ready(store.delete_operations(author, &(log as u64), before));
                        assert!(deleted.unwrap());
                    }
                }
                store
            });
    }
}

/// Inserting the 100,000 operations into an empty store.
mod insert {
    use super::*;

    /// Upstream, no cap (it has none).
    #[divan::bench(sample_count = 20, sample_size = 1)]
    fn upstream_unlimited(bencher: Bencher) {
        bencher
            .with_inputs(upstream_store::MemoryStore::new)
            .bench_local_values(fill_upstream);
    }

    /// The fork, `MemoryStore::new()`: no cap.
    #[divan::bench(sample_count = 20, sample_size = 1)]
    fn fork_unlimited(bencher: Bencher) {
        bencher
            .with_inputs(MemoryStore::new)
            .bench_local_values(fill_fork);
    }

    /// The fork with the default cap (100,000 operations, 256 MiB): checked on every insert,
    /// never reached.
    #[divan::bench(sample_count = 20, sample_size = 1)]
    fn fork_capped(bencher: Bencher) {
        bencher
            .with_inputs(|| MemoryStore::capped(Capacity::default()))
            .bench_local_values(fill_fork);
    }

    /// The fork capped at 10,000 operations: the last 90,000 inserts each evict the oldest.
    #[divan::bench(sample_count = 20, sample_size = 1)]
    fn fork_evicting(bencher: Bencher) {
        bencher
            .with_inputs(|| MemoryStore::capped(Capacity::default().with_max_operations(10_000)))
            .bench_local_values(|store| {
                let store = fill_fork(store);
                assert_eq!(store.stats().evictions, 90_000);
                store
            });
    }
}
