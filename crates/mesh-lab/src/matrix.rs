//! The lab's matrix: which build each node of a mesh runs, and which fault a cell applies.

use std::fmt;

/// A node's build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Build {
    /// Our forks.
    Fork,
    /// Unpatched crates.io upstream.
    Upstream,
}

impl fmt::Display for Build {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fork => "fork",
            Self::Upstream => "upstream",
        })
    }
}

/// Which builds a mesh is made of: the hub (node 0, the bootstrap every peer dials) and its
/// long-lived peers (nodes 1..). Short-lived churn peers take the build of the peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Mesh {
    /// Every node upstream: the reference each mixed mesh is held to.
    AllUpstream,
    /// Every node on the forks.
    AllFork,
    /// A patched hub among upstream peers: what a team that patches its controller runs.
    ForkHub,
    /// An upstream hub among patched peers.
    UpstreamHub,
    /// The hub on the forks, the peers alternating fork and upstream.
    Half,
}

impl Mesh {
    /// Every mesh, reference first.
    pub const ALL: [Mesh; 5] = [
        Mesh::AllUpstream,
        Mesh::AllFork,
        Mesh::ForkHub,
        Mesh::UpstreamHub,
        Mesh::Half,
    ];

    /// The build of node `index` (0: the hub).
    pub fn build_of(self, index: usize) -> Build {
        let hub = index == 0;
        match self {
            Mesh::AllUpstream => Build::Upstream,
            Mesh::AllFork => Build::Fork,
            Mesh::ForkHub if hub => Build::Fork,
            Mesh::ForkHub => Build::Upstream,
            Mesh::UpstreamHub if hub => Build::Upstream,
            Mesh::UpstreamHub => Build::Fork,
            Mesh::Half if hub || index.is_multiple_of(2) => Build::Fork,
            Mesh::Half => Build::Upstream,
        }
    }

    /// Whether the mesh mixes builds.
    pub fn is_mixed(self) -> bool {
        !matches!(self, Mesh::AllUpstream | Mesh::AllFork)
    }
}

impl fmt::Display for Mesh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mesh::AllUpstream => "all upstream",
            Mesh::AllFork => "all fork",
            Mesh::ForkHub => "fork hub, upstream peers",
            Mesh::UpstreamHub => "upstream hub, fork peers",
            Mesh::Half => "half and half",
        })
    }
}

/// What happens to the mesh in a cell, between a steady round of messages before and one after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Fault {
    /// Nothing.
    None,
    /// Half the peers cut off (link down) for a while, then healed.
    Partition,
    /// The hub killed (SIGKILL) and restarted with the same key and address.
    HubCrash,
    /// Waves of short-lived peers with fresh keys, half leaving cleanly and half killed.
    Churn,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 4] = [Fault::None, Fault::Partition, Fault::HubCrash, Fault::Churn];
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::None => "no fault",
            Fault::Partition => "partition and heal",
            Fault::HubCrash => "hub crash and restart",
            Fault::Churn => "churn",
        })
    }
}

/// One cell of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    /// The mesh.
    pub mesh: Mesh,
    /// The fault.
    pub fault: Fault,
}

/// The full matrix: every mesh under every fault.
pub fn full() -> Vec<Cell> {
    Fault::ALL
        .iter()
        .flat_map(|&fault| Mesh::ALL.iter().map(move |&mesh| Cell { mesh, fault }))
        .collect()
}

/// The short matrix: the reference and the patched hub among upstream
/// peers, without a fault and across a partition.
pub fn short() -> Vec<Cell> {
    [Fault::None, Fault::Partition]
        .iter()
        .flat_map(|&fault| {
            [Mesh::AllUpstream, Mesh::ForkHub]
                .into_iter()
                .map(move |mesh| Cell { mesh, fault })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meshes_assign_builds_by_role() {
        assert_eq!(Mesh::ForkHub.build_of(0), Build::Fork);
        assert_eq!(Mesh::ForkHub.build_of(3), Build::Upstream);
        assert_eq!(Mesh::UpstreamHub.build_of(0), Build::Upstream);
        let half: Vec<Build> = (0..5).map(|i| Mesh::Half.build_of(i)).collect();
        assert_eq!(
            half,
            [
                Build::Fork,
                Build::Upstream,
                Build::Fork,
                Build::Upstream,
                Build::Fork
            ]
        );
        assert!(!Mesh::AllUpstream.is_mixed() && Mesh::Half.is_mixed());
    }

    #[test]
    fn the_full_matrix_has_every_cell_once() {
        let cells = full();
        assert_eq!(cells.len(), 20);
        let unique: std::collections::BTreeSet<_> = cells.iter().collect();
        assert_eq!(unique.len(), 20);
        assert!(short().iter().all(|c| cells.contains(c)));
    }
}
