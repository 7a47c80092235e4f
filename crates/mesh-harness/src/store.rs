//! The log store of a harness node: its type, the one log each author writes, and how operations
//! get into it (written by their author, or received through log sync).

use anyhow::{Context, Result};
use p2panda_core::PublicKey;
use p2panda_core::{Body, Hash, Header, PrivateKey};
use p2panda_store::{LogStore, MemoryStore, OperationStore};

/// Log id of the one log each author writes.
pub const LOG_ID: u64 = 0;

/// The store of a harness node: one `u64` log id per author, no header extensions.
pub type HarnessStore = MemoryStore<u64, ()>;

/// Appends `count` signed operations to `key`'s log [`LOG_ID`] in `store`, after the ones it
/// already holds (linked to the latest; from sequence number 0 in a fresh store); returns the
/// log's height afterwards.
pub async fn append_operations(
    store: &mut HarnessStore,
    key: &PrivateKey,
    count: usize,
    label: &str,
) -> Result<u64> {
    let start = match latest(store, &key.public_key()).await? {
        Some(header) => (header.seq_num + 1, Some(header.hash())),
        None => (0, None),
    };
    write_from(store, key, start, count, label).await?;
    Ok(start.0 + count as u64)
}

/// The height of `author`'s log [`LOG_ID`] in `store`: its latest sequence number plus one, 0
/// when it holds none of its operations.
pub async fn log_height(store: &HarnessStore, author: &PublicKey) -> Result<u64> {
    Ok(latest(store, author).await?.map_or(0, |h| h.seq_num + 1))
}

/// The header of `author`'s latest operation in log [`LOG_ID`], if any.
async fn latest(store: &HarnessStore, author: &PublicKey) -> Result<Option<Header<()>>> {
    let latest = store
        .latest_operation(author, &LOG_ID)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    Ok(latest.map(|(header, _)| header))
}

/// Writes `count` signed operations to `key`'s log from `(seq_num, backlink)` on.
async fn write_from(
    store: &mut HarnessStore,
    key: &PrivateKey,
    (first, mut backlink): (u64, Option<Hash>),
    count: usize,
    label: &str,
) -> Result<()> {
    for seq_num in first..first + count as u64 {
        let body = Body::new(format!("{label}/{seq_num}").as_bytes());
        let mut header = Header::<()> {
            version: 1,
            public_key: key.public_key(),
            signature: None,
            payload_size: body.size(),
            payload_hash: Some(body.hash()),
            timestamp: seq_num,
            seq_num,
            backlink,
            previous: vec![],
            extensions: None,
        };
        header.sign(key);
        let bytes = p2panda_core::cbor::encode_cbor(&header).context("encoding a header")?;
        let hash = header.hash();
        store
            .insert_operation(hash, &header, Some(&body), &bytes, &LOG_ID)
            .await
            .context("inserting an operation")?;
        backlink = Some(hash);
    }
    Ok(())
}

/// Stores an operation received through sync, as an application would.
pub async fn ingest(
    store: &mut HarnessStore,
    header_bytes: &[u8],
    payload: Option<Vec<u8>>,
) -> Result<()> {
    let header: Header<()> = p2panda_core::cbor::decode_cbor(header_bytes)?;
    let body = payload.map(|bytes| Body::new(&bytes));
    store
        .insert_operation(header.hash(), &header, body.as_ref(), header_bytes, &LOG_ID)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appending continues the author's log: sequence numbers go on and each operation links
    /// to the one before, so that log sync accepts the appended operations.
    #[tokio::test]
    async fn appending_continues_the_log() {
        let (mut store, key) = (HarnessStore::new(), PrivateKey::new());
        let author = key.public_key();
        assert_eq!(log_height(&store, &author).await.unwrap(), 0);
        let height = append_operations(&mut store, &key, 2, "first")
            .await
            .unwrap();
        assert_eq!(height, 2);
        let height = append_operations(&mut store, &key, 3, "then")
            .await
            .unwrap();
        assert_eq!(height, 5);
        assert_eq!(log_height(&store, &author).await.unwrap(), 5);
        let log = store
            .get_log(&author, &LOG_ID, None)
            .await
            .unwrap()
            .unwrap();
        let seq_nums: Vec<u64> = log.iter().map(|(h, _)| h.seq_num).collect();
        assert_eq!(seq_nums, vec![0, 1, 2, 3, 4]);
        for pair in log.windows(2) {
            assert_eq!(pair[1].0.backlink, Some(pair[0].0.hash()));
        }
    }
}
