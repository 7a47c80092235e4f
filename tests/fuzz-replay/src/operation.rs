//! p2panda-core operations as the sync path receives them.
//!
//! Log sync hands the application each operation as header bytes and an optional payload
//! (`FromSync::Data`). The application decodes the header with
//! `p2panda_core::cbor::decode_cbor::<Header<_>>`, builds the `Body`, validates the operation
//! and stores it, as the mesh harness's `store::ingest` does with its `MemoryStore<u64, ()>`
//! (the p2panda-store fork). The target runs that path on a peer's bytes.

use p2panda_core::cbor::{decode_cbor, encode_cbor};
use p2panda_core::{validate_operation, Body, Header, Operation, PrivateKey};
use p2panda_store::{MemoryStore, OperationStore};

use crate::block_on::block_on;

/// Decodes, validates and stores one operation received through sync.
///
/// The store is given the operation whether or not it validates: the harness's `ingest` stores
/// without validating, so the store must hold against any decodable header too.
pub fn ingest(header_bytes: &[u8], payload: Option<&[u8]>) -> Result<(), String> {
    let header: Header<()> = decode_cbor(header_bytes).map_err(|err| err.to_string())?;
    let body = payload.map(Body::new);
    let operation = Operation {
        hash: header.hash(),
        header,
        body,
    };
    let valid = validate_operation(&operation).map_err(|err| err.to_string());
    let mut store = MemoryStore::<u64, ()>::new();
    block_on(store.insert_operation(
        operation.hash,
        &operation.header,
        operation.body.as_ref(),
        header_bytes,
        &0,
    ))
    .map_err(|err| err.to_string())?;
    valid
}

/// Splits `data` into a header (the first CBOR item) and a payload (what follows, if any).
pub fn fuzz_core_operation(data: &[u8]) {
    let mut rest = data;
    // The header's extent is what the decoder consumes; a failing decode is itself the result.
    if decode_cbor::<Header<()>, _>(&mut rest).is_err() {
        let _ = ingest(data, None);
        return;
    }
    let header_bytes = &data[..data.len() - rest.len()];
    let payload = (!rest.is_empty()).then_some(rest);
    let _ = ingest(header_bytes, payload);
}

/// An operation as its author holds it: header, encoded header, body.
pub type SignedOperation = (Header<()>, Vec<u8>, Body);

/// A signed operation of `key`'s log at `seq_num`, as its author encodes it.
pub fn signed_operation(
    key: &PrivateKey,
    seq_num: u64,
    backlink: Option<p2panda_core::Hash>,
    payload: &[u8],
) -> SignedOperation {
    let body = Body::new(payload);
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
    let bytes = encode_cbor(&header).expect("header encodes");
    (header, bytes, body)
}

/// Operations with and without a payload, first and later in their log.
pub fn seeds() -> Vec<Vec<u8>> {
    let key = PrivateKey::from_bytes(&[5; 32]);
    let (first, first_bytes, first_body) = signed_operation(&key, 0, None, b"first");
    let (_, second_bytes, second_body) = signed_operation(&key, 1, Some(first.hash()), b"second");
    vec![
        [first_bytes.clone(), first_body.to_bytes()].concat(),
        [second_bytes, second_body.to_bytes()].concat(),
        first_bytes,
    ]
}
