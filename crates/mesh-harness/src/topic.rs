//! The topic type the harness's nodes subscribe to.

use p2panda_net::TopicId;
use p2panda_sync::TopicQuery;
use serde::{Deserialize, Serialize};

/// A named topic: its gossip overlay and sync scope are identified by a hash of the name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MeshTopic {
    name: String,
    id: [u8; 32],
}

impl MeshTopic {
    /// The topic called `name`.
    pub fn new(name: &str) -> Self {
        let id = *p2panda_core::Hash::new(name.as_bytes()).as_bytes();
        Self {
            name: name.to_owned(),
            id,
        }
    }

    /// Topic number `index` of the scenario's topic set.
    pub fn numbered(index: usize) -> Self {
        Self::new(&format!("mesh-topic-{index}"))
    }

    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl TopicQuery for MeshTopic {}

impl TopicId for MeshTopic {
    fn id(&self) -> [u8; 32] {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_names() {
        assert_eq!(
            MeshTopic::numbered(1).id(),
            MeshTopic::new("mesh-topic-1").id()
        );
        assert_ne!(MeshTopic::numbered(1).id(), MeshTopic::numbered(2).id());
    }
}
