//! The seam between the harness and the forks' additive APIs.
//!
//! With the `patched` feature (the default) the harness builds against our forks and reads
//! their stats and cleanup APIs here. Without it (`cargo xtask soak --baseline`, unpatched
//! upstream) the same functions fall back to what upstream offers: no stats, no caps, no
//! unsubscribe. Nothing outside this module knows which build it is.

use anyhow::Result;
use p2panda_net::Network;

use crate::node::HarnessStore;
use crate::probe::Reading;
use crate::topic::MeshTopic;

/// The store of a long-lived node.
pub fn long_lived_store() -> HarnessStore {
    HarnessStore::new()
}

/// Settings a long-lived node gets after it is built.
pub async fn configure_long_lived(_node: &Network<MeshTopic>) -> Result<()> {
    Ok(())
}

/// The forks' structure sizes on the hub; none against upstream.
pub async fn hub_readings(_node: &Network<MeshTopic>, _store: &HarnessStore) -> Vec<Reading> {
    Vec::new()
}

/// Ends the node's subscription to `topic` explicitly. Upstream has no such call: there the
/// caller's dropping of the handles is all that happens.
pub async fn unsubscribe(_node: &Network<MeshTopic>, _topic: &MeshTopic) -> Result<()> {
    Ok(())
}
