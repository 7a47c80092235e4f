//! What an attacker knows of the hub: its key and its loopback sockets, as one string a child
//! process takes on its command line.

use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use iroh::{NodeAddr, NodeId};
use p2panda_net::NodeAddress;

use crate::node::NETWORK_ID;
use crate::topic::MeshTopic;

/// The honest peers' topic: the one they publish and sync on.
pub fn honest_topic() -> MeshTopic {
    MeshTopic::numbered(0)
}

/// The network-wide gossip topic, where p2panda-net's topic discovery announces.
pub fn network_topic() -> [u8; 32] {
    NETWORK_ID
}

/// The hub as an attacker dials it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The hub's node id (its p2panda public key).
    pub node_id: NodeId,
    /// Its loopback sockets.
    pub sockets: Vec<SocketAddr>,
}

impl Target {
    /// The hub at `address`.
    pub fn from_address(address: &NodeAddress) -> Result<Self> {
        let node_id = NodeId::from_bytes(address.public_key.as_bytes())
            .context("the hub's key is no node id")?;
        Ok(Self {
            node_id,
            sockets: address.direct_addresses.clone(),
        })
    }

    /// Where an iroh endpoint dials the hub.
    pub fn node_addr(&self) -> NodeAddr {
        NodeAddr::from_parts(self.node_id, None, self.sockets.iter().copied())
    }

    /// `key@socket,socket`: what [`Target::parse`] reads.
    pub fn encode(&self) -> String {
        let sockets: Vec<String> = self.sockets.iter().map(ToString::to_string).collect();
        format!("{}@{}", self.node_id, sockets.join(","))
    }

    /// Reads what [`Target::encode`] wrote.
    pub fn parse(text: &str) -> Result<Self> {
        let (key, sockets) = text.split_once('@').context("no '@' in the target")?;
        let node_id: NodeId = key.parse().context("the target's key")?;
        let sockets = sockets
            .split(',')
            .map(|s| s.parse().with_context(|| format!("socket {s}")))
            .collect::<Result<Vec<SocketAddr>>>()?;
        if sockets.iter().any(|s| !s.ip().is_loopback()) {
            bail!("the target must be on loopback: {text}");
        }
        Ok(Self { node_id, sockets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_round_trips_and_must_be_loopback() {
        let key = iroh::SecretKey::from_bytes(&[3; 32]).public();
        let target = Target {
            node_id: key,
            sockets: vec![
                "127.0.0.1:4000".parse().unwrap(),
                "[::1]:4001".parse().unwrap(),
            ],
        };
        assert_eq!(Target::parse(&target.encode()).unwrap(), target);
        let outside = format!("{key}@10.0.0.1:4000");
        assert!(Target::parse(&outside).is_err());
    }
}
