//! p2panda-sync's log-sync protocol, as p2panda-net runs it over a sync stream.
//!
//! p2panda-net's `sync::accept_sync` and `sync::initiate_sync` call
//! `SyncProtocol::accept`/`initiate` of the configured protocol with the QUIC stream's halves.
//! The protocol's wire type (`log_sync::Message`) is private; its public entry points are those
//! two methods, which decode the peer's CBOR stream with `cbor::CborCodec` and act on every
//! message. The target runs them with the peer's bytes as the receive half, a store holding one
//! log, and the mesh harness's topic type and log ids (`MeshTopic`, `u64`). Every operation the
//! session hands to the application goes on to the operation decoder, as the harness ingests it.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use async_trait::async_trait;
use futures::Sink;
use p2panda_core::cbor::encode_cbor;
use p2panda_core::{PrivateKey, PublicKey};
use p2panda_store::{MemoryStore, OperationStore};
use p2panda_sync::log_sync::{LogSyncProtocol, TopicLogMap};
use p2panda_sync::{FromSync, SyncError, SyncProtocol, TopicQuery};
use serde::{Deserialize, Serialize};

use crate::block_on::block_on;
use crate::operation::{ingest, signed_operation, SignedOperation};

/// The mesh harness's topic type (`mesh_harness::topic::MeshTopic`), field for field.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MeshTopic {
    name: String,
    id: [u8; 32],
}

impl TopicQuery for MeshTopic {}

fn topic() -> MeshTopic {
    MeshTopic {
        name: "mesh-topic-0".into(),
        id: *p2panda_core::Hash::new(b"mesh-topic-0").as_bytes(),
    }
}

/// The one author whose log the node under test holds.
fn author() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::from_bytes(&[3; 32]))
}

/// Three operations of `author`'s log 0, signed once.
fn log() -> &'static [SignedOperation] {
    static LOG: OnceLock<Vec<SignedOperation>> = OnceLock::new();
    LOG.get_or_init(|| {
        let mut log: Vec<SignedOperation> = Vec::new();
        for seq_num in 0..3 {
            let backlink = log.last().map(|(header, _, _)| header.hash());
            log.push(signed_operation(author(), seq_num, backlink, b"op"));
        }
        log
    })
}

/// Maps every topic to `author`'s log 0: a hostile peer's topic query always finds data.
#[derive(Debug)]
struct AnyTopic;

#[async_trait]
impl TopicLogMap<MeshTopic, u64> for AnyTopic {
    async fn get(&self, _topic: &MeshTopic) -> Option<HashMap<PublicKey, Vec<u64>>> {
        Some(HashMap::from([(author().public_key(), vec![0])]))
    }
}

/// The application's end of a session: keeps what the protocol hands over.
#[derive(Default)]
struct Collect(Vec<FromSync<MeshTopic>>);

impl Sink<FromSync<MeshTopic>> for Collect {
    type Error = SyncError;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), SyncError>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, item: FromSync<MeshTopic>) -> Result<(), SyncError> {
        self.0.push(item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), SyncError>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), SyncError>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs one session over `data`: the first byte chooses the role (even: accept, as the node a
/// peer dials; odd: initiate), the rest is what the peer sends.
pub fn fuzz_log_sync(data: &[u8]) {
    let Some((&role, mut received)) = data.split_first() else {
        return;
    };
    let mut store = MemoryStore::<u64, ()>::new();
    for (header, bytes, body) in log() {
        block_on(store.insert_operation(header.hash(), header, Some(body), bytes, &0))
            .expect("the memory store takes a valid operation");
    }
    let protocol = Arc::new(LogSyncProtocol::new(AnyTopic, store));
    let mut sent = futures::io::sink();
    let mut app = Collect::default();
    let _ = block_on(async {
        if role % 2 == 0 {
            protocol
                .accept(
                    Box::new(&mut sent),
                    Box::new(&mut received),
                    Box::new(&mut app),
                )
                .await
        } else {
            protocol
                .initiate(
                    topic(),
                    Box::new(&mut sent),
                    Box::new(&mut received),
                    Box::new(&mut app),
                )
                .await
        }
    });
    for message in app.0 {
        if let FromSync::Data { header, payload } = message {
            let _ = ingest(&header, payload.as_deref());
        }
    }
}

/// The wire messages of log sync (`Message<T, L>`: serde's adjacently tagged enum), written
/// here because p2panda-sync keeps the type private.
#[derive(Serialize)]
#[serde(tag = "type", content = "value")]
enum WireMessage {
    Have(MeshTopic, Vec<(PublicKey, Vec<(u64, u64)>)>),
    Data(Vec<u8>, Option<Vec<u8>>),
    Done,
}

/// Sessions an honest peer runs: asking for everything, asking from a height, sending data.
pub fn seeds() -> Vec<Vec<u8>> {
    let encode = |messages: &[WireMessage]| -> Vec<u8> {
        messages
            .iter()
            .flat_map(|message| encode_cbor(message).expect("encodes"))
            .collect()
    };
    let peer = PrivateKey::from_bytes(&[4; 32]);
    let (_, op_bytes, op_body) = signed_operation(&peer, 0, None, b"from the peer");
    let data = WireMessage::Data(op_bytes, Some(op_body.to_bytes()));
    let have_nothing = WireMessage::Have(topic(), vec![]);
    let have_some = WireMessage::Have(topic(), vec![(author().public_key(), vec![(0, 1)])]);
    let with_role = |role: u8, bytes: Vec<u8>| [vec![role], bytes].concat();
    vec![
        with_role(0, encode(&[have_nothing, WireMessage::Done])),
        with_role(0, encode(&[have_some])),
        with_role(1, encode(&[data, WireMessage::Done])),
        with_role(
            1,
            encode(&[
                WireMessage::Done,
                WireMessage::Have(topic(), vec![(author().public_key(), vec![])]),
            ]),
        ),
    ]
}
