//! Signed topic-discovery announcements, byte for byte as p2panda-net 0.4 writes them.
//!
//! p2panda-net's `TopicDiscoveryMessage` is private; this mirrors it field for field (the same
//! serde derive, so the same CBOR), signed over the CBOR of `(id, topic_ids, public_key)` as
//! `TopicDiscoveryMessage::new` signs it (`tests/fuzz-replay` checks the mirror decodes and
//! verifies as the engine does).

use p2panda_core::cbor::encode_cbor;
use p2panda_core::{PrivateKey, PublicKey, Signature};
use rand::RngCore;
use serde::Serialize;

/// Mirror of p2panda-net 0.4's `TopicDiscoveryMessage`.
#[derive(Serialize)]
struct TopicDiscoveryMessage {
    id: [u8; 32],
    topic_ids: Vec<[u8; 32]>,
    public_key: PublicKey,
    signature: Signature,
}

/// The announcement of `key` that it is interested in `topic_ids`, with a fresh message id so
/// gossip does not drop it as a duplicate.
pub fn announcement(key: &PrivateKey, topic_ids: Vec<[u8; 32]>) -> Vec<u8> {
    let mut id = [0; 32];
    rand::thread_rng().fill_bytes(&mut id);
    let public_key = key.public_key();
    let signed = encode_cbor(&(id, topic_ids.clone(), public_key)).expect("encodes");
    let message = TopicDiscoveryMessage {
        id,
        topic_ids,
        public_key,
        signature: key.sign(&signed),
    };
    encode_cbor(&message).expect("encodes")
}

/// `count` random topic ids.
pub fn random_topics(count: usize) -> Vec<[u8; 32]> {
    let mut rng = rand::thread_rng();
    (0..count)
        .map(|_| {
            let mut id = [0; 32];
            rng.fill_bytes(&mut id);
            id
        })
        .collect()
}
