//! p2panda-net's topic-discovery announcements, decoded and verified as the engine does.
//!
//! `engine::topic_discovery::TopicDiscovery::on_gossip_message` decodes a gossip message of the
//! network-wide overlay with `p2panda_core::cbor::decode_cbor` into `TopicDiscoveryMessage` and
//! checks its signature over the CBOR of `(id, topic_ids, public_key)`. Both the type and the
//! method are private to p2panda-net, so the target mirrors the type field for field (same serde
//! derive, so the same decoding) and runs the same two steps. What the engine then does with a
//! verified announcement (the address book's `replace_topic_ids`) is not reachable from outside
//! the crate either.

use p2panda_core::cbor::{decode_cbor, encode_cbor};
use p2panda_core::{PrivateKey, PublicKey, Signature};
use serde::{Deserialize, Serialize};

/// Mirror of p2panda-net 0.4's `TopicDiscoveryMessage`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TopicDiscoveryMessage {
    pub id: [u8; 32],
    pub topic_ids: Vec<[u8; 32]>,
    pub public_key: PublicKey,
    pub signature: Signature,
}

impl TopicDiscoveryMessage {
    /// Signs an announcement, as `TopicDiscoveryMessage::new` does.
    pub fn new(id: [u8; 32], topic_ids: Vec<[u8; 32]>, private_key: &PrivateKey) -> Self {
        let public_key = private_key.public_key();
        let signed = encode_cbor(&(id, topic_ids.clone(), public_key)).expect("encodes");
        Self {
            id,
            topic_ids,
            public_key,
            signature: private_key.sign(&signed),
        }
    }

    /// Whether the signature holds, as `TopicDiscoveryMessage::verify` checks it.
    pub fn verify(&self) -> bool {
        // p2panda-net's `ToBytes` expects here too: a failing encoding would panic there.
        let signed = encode_cbor(&(self.id, &self.topic_ids, self.public_key))
            .expect("type can be serialized");
        self.public_key.verify(&signed, &self.signature)
    }
}

/// Decodes one gossip message of the discovery overlay and verifies it.
pub fn decode_and_verify(data: &[u8]) -> Result<TopicDiscoveryMessage, String> {
    let message: TopicDiscoveryMessage = decode_cbor(data).map_err(|err| err.to_string())?;
    if !message.verify() {
        return Err("invalid signature detected in topic discovery message".into());
    }
    Ok(message)
}

/// Decodes `data` as a topic-discovery announcement and checks its signature.
pub fn fuzz_topic_discovery(data: &[u8]) {
    let _ = decode_and_verify(data);
}

/// Announcements of no, one and several topics.
pub fn seeds() -> Vec<Vec<u8>> {
    let key = PrivateKey::from_bytes(&[9; 32]);
    [0usize, 1, 5]
        .into_iter()
        .map(|count| {
            let topics = (0..count).map(|n| [n as u8; 32]).collect();
            let message = TopicDiscoveryMessage::new([count as u8; 32], topics, &key);
            encode_cbor(&message).expect("encodes")
        })
        .collect()
}
