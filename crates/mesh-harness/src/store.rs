//! The log store of a harness node: its type, the one log each author writes, and how operations
//! get into it (written by their author, or received through log sync).

use anyhow::{Context, Result};
use p2panda_core::{Body, Hash, Header, PrivateKey};
use p2panda_store::{MemoryStore, OperationStore};

/// Log id of the one log each author writes.
pub const LOG_ID: u64 = 0;

/// The store of a harness node: one `u64` log id per author, no header extensions.
pub type HarnessStore = MemoryStore<u64, ()>;

/// Appends `count` signed operations to `key`'s log [`LOG_ID`] in `store`.
pub async fn write_operations(
    store: &mut HarnessStore,
    key: &PrivateKey,
    count: usize,
    label: &str,
) -> Result<()> {
    let mut backlink: Option<Hash> = None;
    for seq_num in 0..count as u64 {
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
