//! One figure at one moment: what the areas read from the node and what the exposition and
//! `/health` are made from.

use serde::Serialize;

/// What a structure's bound means, exported as the `kind` label of `mesh_structure_size` and
/// `mesh_structure_bound` (the label `ops/alerts.yml` selects on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BoundKind {
    /// A bound the structure must stay well below (a leak guard): at it the node evicts or
    /// refuses. `/health` degrades above the degraded fraction of it.
    Limit,
    /// A bound the structure fills up to by design and then evicts to keep (an evicting store).
    /// `/health` degrades only above it.
    Capacity,
}

impl BoundKind {
    /// The label value: `limit` or `capacity`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Limit => "limit",
            Self::Capacity => "capacity",
        }
    }
}

/// The bound a structure is configured to stay within, and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// The bound, in the structure's unit.
    pub value: u64,
    /// Whether it is a limit or a capacity.
    pub kind: BoundKind,
}

/// One figure: a structure's size (a gauge) or, for a name ending in `_total`, a count since the
/// node started (a counter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Dotted name, `crate.component.structure` (e.g. `p2panda_net.address_book.peers`): what
    /// `/health` shows. The metric name is [`metric_name`] of it.
    pub name: String,
    /// Size, or count for a counter.
    pub value: u64,
    /// The configured bound, if the structure has one.
    pub bound: Option<Bound>,
}

impl Reading {
    /// A reading without a bound.
    pub fn new(name: impl Into<String>, value: u64) -> Self {
        Self {
            name: name.into(),
            value,
            bound: None,
        }
    }

    /// A reading that must stay within `bound`, of `kind`.
    pub fn bounded(name: impl Into<String>, value: u64, bound: u64, kind: BoundKind) -> Self {
        Self {
            name: name.into(),
            value,
            bound: Some(Bound { value: bound, kind }),
        }
    }

    /// Whether the reading is a counter (its name ends in `_total`).
    pub fn is_counter(&self) -> bool {
        is_counter(&self.name)
    }
}

/// Whether a figure's name is a counter's: it ends in `_total`, as in Prometheus.
pub fn is_counter(name: &str) -> bool {
    name.ends_with("_total")
}

/// The Prometheus name of a figure: dots and dashes become underscores, and process figures
/// (`process.*`) get the `mesh_harness_` prefix the alert rules select on.
pub fn metric_name(figure: &str) -> String {
    let name = figure.replace(['.', '-'], "_");
    if figure.starts_with("process.") {
        format!("mesh_harness_{name}")
    } else {
        name
    }
}

/// A value as a gauge holds it.
pub(crate) fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions() {
        assert_eq!(
            metric_name("process.heap_bytes"),
            "mesh_harness_process_heap_bytes"
        );
        assert_eq!(
            metric_name("p2panda_net.address_book.peers"),
            "p2panda_net_address_book_peers"
        );
        assert!(is_counter("p2panda_store.evictions_total"));
        assert!(!is_counter("p2panda_store.operations"));
    }
}
