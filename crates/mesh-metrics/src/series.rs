//! Every series the crate can export, with its unit, help, bound and source: the single list the
//! exposition's help texts, `docs/operating.md` and the alert-rule checks are compared with.

use crate::reading::{metric_name, BoundKind};

/// One series the crate exports (or, in a build without `patched`, would export on the forks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Series {
    /// Dotted reading name, as `/health` shows it.
    pub name: &'static str,
    /// Unit of the value: `peers`, `bytes`, `operations`, ... (a count of what it names).
    pub unit: &'static str,
    /// What the value is.
    pub help: &'static str,
    /// Where its bound comes from and what it means, if it has one.
    pub bound: Option<(BoundKind, &'static str)>,
    /// The call it is read from.
    pub source: &'static str,
    /// Whether only the forks report it (absent in a build without `patched`).
    pub forks_only: bool,
}

impl Series {
    /// Its Prometheus name (for a counter, the sample name: the family name plus `_total`).
    pub fn metric_name(&self) -> String {
        metric_name(self.name)
    }

    /// Whether it is a counter.
    pub fn is_counter(&self) -> bool {
        crate::reading::is_counter(self.name)
    }

    /// A series only the forks report.
    pub(crate) const fn fork(
        name: &'static str,
        unit: &'static str,
        source: &'static str,
        help: &'static str,
    ) -> Self {
        Self {
            name,
            unit,
            help,
            bound: None,
            source,
            forks_only: true,
        }
    }

    /// The same series, bounded by `what` (where the bound comes from), of `kind`.
    pub(crate) const fn bounded(mut self, kind: BoundKind, what: &'static str) -> Self {
        self.bound = Some((kind, what));
        self
    }

    /// The same series, reported by upstream too.
    pub(crate) const fn everywhere(mut self) -> Self {
        self.forks_only = false;
        self
    }

    /// Whether this build exports it.
    pub fn is_exported(&self) -> bool {
        cfg!(feature = "patched") || !self.forks_only
    }
}

/// Labels of `mesh_structure_size` and `mesh_structure_bound`: `structure` (the metric name of
/// the bounded series) and `kind` (`limit` or `capacity`).
pub const STRUCTURE_LABELS: [&str; 2] = ["structure", "kind"];

/// The two families that repeat every bounded series under one name, so that one alert rule
/// covers every bounded structure of a kind: (name, help).
pub const STRUCTURE_FAMILIES: [(&str, &str); 2] = [
    (
        "mesh_structure_size",
        "Size of a bounded structure (same value as its own metric)",
    ),
    (
        "mesh_structure_bound",
        "The bound a structure is configured to stay within",
    ),
];

/// Every series, area by area.
pub fn all() -> impl Iterator<Item = &'static Series> {
    [
        crate::address_book::SERIES,
        crate::topics::SERIES,
        crate::gossip::SERIES,
        crate::incoming::SERIES,
        crate::store::SERIES,
        crate::process::SERIES,
        crate::sources::SERIES,
    ]
    .into_iter()
    .flatten()
}

/// The series with this dotted name, if the crate knows it.
pub fn find(name: &str) -> Option<&'static Series> {
    all().find(|s| s.name == name)
}

/// Every Prometheus metric name this build can export: the series' names and the two structure
/// families.
pub fn exported_metric_names() -> Vec<String> {
    all()
        .filter(|s| s.is_exported())
        .map(Series::metric_name)
        .chain(STRUCTURE_FAMILIES.iter().map(|(n, _)| (*n).to_owned()))
        .collect()
}

/// The series this build does not export because only the forks report them: empty with
/// `patched`, everything but the known peers and the process figures without it.
pub fn absent() -> Vec<&'static Series> {
    all().filter(|s| !s.is_exported()).collect()
}

/// The kind a series' bound has by default (what the harness's capped store and a controller's
/// evicting store have), or `None` for an unbounded series.
pub fn default_kind(name: &str) -> Option<BoundKind> {
    find(name).and_then(|s| s.bound.map(|(kind, _)| kind))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_are_unique_and_valid() {
        let mut seen = HashSet::new();
        for series in all() {
            assert!(seen.insert(series.name), "{} twice", series.name);
            let name = series.metric_name();
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            assert!(!series.help.is_empty() && !series.unit.is_empty());
        }
    }

    #[test]
    fn absent_is_what_the_build_cannot_read() {
        if cfg!(feature = "patched") {
            assert!(absent().is_empty());
        } else {
            assert!(absent().iter().all(|s| s.forks_only));
            assert!(find("p2panda_net.address_book.peers")
                .unwrap()
                .is_exported());
        }
    }
}
