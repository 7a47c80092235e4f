//! `mesh-node`'s command line: the node's identity, where it binds, whom it knows from the start,
//! and its settings.

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use clap::{ArgGroup, Parser};
use mesh_harness::node::NodeOptions;
use mesh_harness::scenario::PeerTtl;
use p2panda_core::{PrivateKey, PublicKey};
use p2panda_net::{NodeAddress, ResyncConfiguration};

/// One p2panda-net node, driven by commands on stdin, reporting events on stdout as JSON lines.
///
/// Refuses to start (exit code 97) unless every interface of its network namespace is `lo` or
/// named `lab...`. Set RUST_LOG (e.g. RUST_LOG=warn) to see the node's logs on stderr.
#[derive(Debug, Parser)]
#[command(group(ArgGroup::new("identity").required(true).args(["private_key", "key_seed"])))]
pub struct Args {
    /// The node's private key, 32 bytes as 64 hex digits (a restarted node keeps its identity).
    #[arg(long, value_parser = parse_private_key)]
    pub private_key: Option<PrivateKey>,
    /// Derive the private key from this number (its 8 little-endian bytes, zero-padded to 32).
    #[arg(long)]
    pub key_seed: Option<u64>,
    /// The IPv4 address to bind (a specific one: the `ready` event's address is on it). IPv6
    /// binds ::1 on an ephemeral port.
    #[arg(long, value_parser = parse_bind)]
    pub bind: Ipv4Addr,
    /// The IPv4 port to bind (0: an ephemeral one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Join topics' overlays without knowing anyone yet (as the soak's hub does).
    #[arg(long)]
    pub bootstrap: bool,
    /// A known peer, NODEID@IP:PORT (the `addr` of its `ready` event); repeatable.
    #[arg(long = "peer", value_parser = parse_peer)]
    pub peers: Vec<NodeAddress>,
    /// How long the address book remembers a peer that gave no sign of life (fork only):
    /// `short` (10 s), `default` (the fork's 30 min) or `long` (2 hours).
    #[arg(long, value_enum, default_value_t = PeerTtl::Default)]
    pub peer_ttl: PeerTtl,
    /// Seconds between two log syncs of the same peer and topic (0: each is synced once, when
    /// first discovered, and operations written later only reach peers met later).
    #[arg(long, default_value_t = 5)]
    pub resync: u64,
    /// Pass recent gossip on to neighbours that come up later (fork only: iroh-gossip's
    /// recommended catch-up; off by default, as in the fork and upstream).
    #[arg(long)]
    pub catch_up: bool,
    /// Direct neighbours below which a joined overlay asks each peer that announces the topic to
    /// join (fork only; default: the fork's 3; 0 turns it off, as upstream).
    #[arg(long)]
    pub min_topic_neighbours: Option<usize>,
}

/// How often the resync queue is polled when resync is on.
const RESYNC_POLL: Duration = Duration::from_secs(1);

impl Args {
    /// The node's private key, given or derived from the seed.
    pub fn key(&self) -> PrivateKey {
        match (&self.private_key, self.key_seed) {
            (Some(key), _) => key.clone(),
            (None, seed) => key_from_seed(seed.unwrap_or_default()),
        }
    }

    /// Where the node binds, whom it knows and how it resyncs.
    pub fn node_options(&self) -> NodeOptions {
        let resync = (self.resync > 0).then(|| {
            ResyncConfiguration::new()
                .interval(self.resync)
                .poll_interval(RESYNC_POLL.as_secs())
        });
        NodeOptions {
            bind: self.bind,
            port: self.port,
            peers: self.peers.clone(),
            resync,
            catch_up: self.catch_up,
            min_topic_neighbours: self.min_topic_neighbours,
            max_peers: None,
        }
    }
}

/// The private key of `--key-seed`: the seed's little-endian bytes, zero-padded to 32.
pub fn key_from_seed(seed: u64) -> PrivateKey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    PrivateKey::from_bytes(&bytes)
}

/// Parses 64 hex digits into a private key.
fn parse_private_key(hex: &str) -> Result<PrivateKey, String> {
    let bytes = decode_hex(hex)?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("expected 32 bytes, got {}", b.len()))?;
    Ok(PrivateKey::from_bytes(&bytes))
}

/// Decodes an even number of hex digits.
fn decode_hex(hex: &str) -> Result<Vec<u8>, String> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return Err(format!("not hex: {hex:?}"));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| format!("not hex: {e}")))
        .collect()
}

/// Parses `--bind`: a specific IPv4 address, not 0.0.0.0.
fn parse_bind(ip: &str) -> Result<Ipv4Addr, String> {
    let ip = Ipv4Addr::from_str(ip).map_err(|e| e.to_string())?;
    if ip.is_unspecified() {
        return Err("bind a specific address: its sockets make the node's `addr`".to_owned());
    }
    Ok(ip)
}

/// Parses a peer given as NODEID@IP:PORT.
pub fn parse_peer(peer: &str) -> Result<NodeAddress, String> {
    let (id, socket) = peer
        .split_once('@')
        .ok_or_else(|| format!("expected NODEID@IP:PORT, got {peer:?}"))?;
    let public_key = PublicKey::from_str(id).map_err(|e| format!("node id {id:?}: {e}"))?;
    let socket = SocketAddr::from_str(socket).map_err(|e| format!("address {socket:?}: {e}"))?;
    Ok(NodeAddress {
        public_key,
        direct_addresses: vec![socket],
        relay_url: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_seeds_differ() {
        let key = key_from_seed(7);
        assert_eq!(
            parse_private_key(&key.to_hex()).unwrap().to_hex(),
            key.to_hex()
        );
        assert_ne!(key_from_seed(8).to_hex(), key.to_hex());
        assert!(parse_private_key("abcd").is_err());
        assert!(parse_private_key(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn peers_parse_from_ready_addresses() {
        let id = key_from_seed(1).public_key();
        let peer = parse_peer(&format!("{}@10.77.0.3:4000", id.to_hex())).unwrap();
        assert_eq!(peer.public_key, id);
        assert_eq!(
            peer.direct_addresses,
            vec!["10.77.0.3:4000".parse().unwrap()]
        );
        assert!(parse_peer("10.77.0.3:4000").is_err());
        assert!(parse_peer(&format!("{}@10.77.0.3", id.to_hex())).is_err());
    }

    #[test]
    fn identity_is_required_and_exclusive() {
        let parse = |extra: &[&str]| {
            let base = ["mesh-node", "--bind", "127.0.0.1"];
            Args::try_parse_from(base.iter().chain(extra))
        };
        assert!(parse(&[]).is_err());
        assert!(parse(&["--key-seed", "1", "--private-key", &"00".repeat(32)]).is_err());
        let args = parse(&["--key-seed", "1"]).unwrap();
        assert_eq!(args.key().to_hex(), key_from_seed(1).to_hex());
        assert_eq!(args.peer_ttl, PeerTtl::Default);
        assert!(parse(&["--key-seed", "1", "--bind", "0.0.0.0"]).is_err());
    }
}
