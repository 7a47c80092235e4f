//! Workloads shared by the benchmarks of the p2panda-store fork against unpatched upstream
//! (`benches/memory_store.rs`): operations made ahead of time, and a way to run the stores'
//! futures, which never wait.
use std::future::Future;
use std::task::{Context, Poll, Waker};

use p2panda_core::{Body, Hash, Header, PrivateKey, PublicKey};

/// One operation as `insert_operation` takes it.
pub struct Operation {
    /// Hash of the header.
    pub hash: Hash,
    /// Decoded header.
    pub header: Header<()>,
    /// Body.
    pub body: Body,
    /// Encoded header.
    pub header_bytes: Vec<u8>,
    /// Log the operation goes into.
    pub log_id: u64,
}

/// `logs` logs of `per_log` operations each, with 32-byte bodies, in the order a sync would
/// deliver them: log by log, by sequence number. Headers are not signed: the stores neither
/// need nor check signatures. Returns the authors' public keys (one per log) too.
pub fn operations(logs: u64, per_log: u64) -> (Vec<PublicKey>, Vec<Operation>) {
    let mut authors = Vec::new();
    let mut operations = Vec::new();
    for log in 0..logs {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&log.to_le_bytes());
        seed[31] = 1;
        let private_key = PrivateKey::from_bytes(&seed);
        authors.push(private_key.public_key());
        for seq_num in 0..per_log {
            let body = Body::new(&[(seq_num % 251) as u8; 32]);
            let header = Header {
                version: 1,
                public_key: private_key.public_key(),
                signature: None,
                payload_size: body.size(),
                payload_hash: Some(body.hash()),
                timestamp: seq_num,
                seq_num,
                backlink: None,
                previous: vec![],
                extensions: None,
            };
            let header_bytes = header.to_bytes();
            operations.push(Operation {
                hash: header.hash(),
                header,
                body,
                header_bytes,
                log_id: log,
            });
        }
    }
    (authors, operations)
}

/// Runs a store future to completion: the memory stores never wait, so one poll does it.
pub fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("memory store futures never wait"),
    }
}

#[cfg(test)]
mod tests {
    use p2panda_store::{LogStore, MemoryStore, OperationStore};

    use super::{operations, ready};

    /// The workload is what the benchmarks assume: distinct operations, logs of `per_log`.
    #[test]
    fn workload_fills_both_stores_alike() {
        let (authors, operations) = operations(10, 20);
        let mut fork = MemoryStore::<u64>::new();
        let mut upstream = upstream_store::MemoryStore::<u64>::new();
        for op in &operations {
            let fork_inserted = ready(fork.insert_operation(
                op.hash,
                &op.header,
                Some(&op.body),
                &op.header_bytes,
                &op.log_id,
            ))
            .unwrap();
            let upstream_inserted = ready(upstream_store::OperationStore::insert_operation(
                &mut upstream,
                op.hash,
                &op.header,
                Some(&op.body),
                &op.header_bytes,
                &op.log_id,
            ))
            .unwrap();
            assert!(fork_inserted && upstream_inserted);
        }
        assert_eq!(fork.stats().operations, 200);
        assert_eq!(fork.stats().logs, 10);
        for (log, author) in authors.iter().enumerate() {
            let log = log as u64;
            let heights = ready(fork.get_log_heights(&log)).unwrap();
            assert_eq!(heights, vec![(*author, 19)]);
            let upstream_heights =
                ready(upstream_store::LogStore::get_log_heights(&upstream, &log)).unwrap();
            assert_eq!(upstream_heights, heights);
        }
    }
}
