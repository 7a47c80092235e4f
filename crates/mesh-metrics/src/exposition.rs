//! Readings as Prometheus metrics: a [`Collector`] that encodes the latest readings on every
//! scrape, each under its own name (a gauge, or a counter for a `_total` name) and every bounded
//! one again as `mesh_structure_size` / `mesh_structure_bound` with its `structure` and `kind`.
//!
//! A series without a reading (a node that did not answer, a heap without a counting
//! allocator) is left out of the scrape rather than shown as a zero.

use std::sync::{Arc, RwLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::reading::{metric_name, saturating_i64, Reading};
use crate::series::{self, STRUCTURE_FAMILIES};

/// The latest readings, shared by whoever reads the node and the registry that encodes them.
#[derive(Debug, Clone, Default)]
pub struct Latest(Arc<RwLock<Option<Vec<Reading>>>>);

impl Latest {
    /// Empty: nothing read yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the readings.
    pub fn set(&self, readings: Vec<Reading>) {
        *self.0.write().expect("readings lock") = Some(readings);
    }

    /// The latest readings, `None` before the first.
    pub fn get(&self) -> Option<Vec<Reading>> {
        self.0.read().expect("readings lock").clone()
    }
}

/// Registers a collector of `latest` in `registry`: every scrape encodes the readings `latest`
/// holds at that moment.
pub fn register(registry: &mut Registry, latest: Latest) {
    registry.register_collector(Box::new(Exposition(latest)));
}

/// Registers `readings`, fixed, in `registry` (for one rendering of a sample).
pub fn register_readings(registry: &mut Registry, readings: Vec<Reading>) {
    let latest = Latest::new();
    latest.set(readings);
    register(registry, latest);
}

/// The collector [`register`] installs.
#[derive(Debug)]
struct Exposition(Latest);

impl Collector for Exposition {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(readings) = self.0.get() else {
            return Ok(());
        };
        for reading in &readings {
            encode_reading(&mut encoder, reading)?;
        }
        let bounded: Vec<&Reading> = readings.iter().filter(|r| r.bound.is_some()).collect();
        if bounded.is_empty() {
            return Ok(());
        }
        let [(size_name, size_help), (bound_name, bound_help)] = STRUCTURE_FAMILIES;
        let size = |r: &Reading| r.value;
        let bound = |r: &Reading| r.bound.map_or(0, |b| b.value);
        encode_structures(&mut encoder, size_name, size_help, &bounded, size)?;
        encode_structures(&mut encoder, bound_name, bound_help, &bounded, bound)
    }
}

/// One reading under its own name, with the help text of its series.
fn encode_reading(encoder: &mut DescriptorEncoder, reading: &Reading) -> std::fmt::Result {
    let name = metric_name(&reading.name);
    let help = match series::find(&reading.name) {
        Some(series) => format!("{} ({})", series.help, series.unit),
        None => format!("{} (reading)", reading.name),
    };
    match name.strip_suffix("_total") {
        Some(base) => {
            let counter = ConstCounter::new(reading.value);
            counter.encode(encoder.encode_descriptor(base, &help, None, MetricType::Counter)?)
        }
        None => {
            let gauge = ConstGauge::new(saturating_i64(reading.value));
            gauge.encode(encoder.encode_descriptor(&name, &help, None, MetricType::Gauge)?)
        }
    }
}

/// One of the structure families: `value` of every bounded reading, labelled with its metric
/// name and bound kind.
fn encode_structures(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    bounded: &[&Reading],
    value: impl Fn(&Reading) -> u64,
) -> std::fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for reading in bounded {
        let kind = reading.bound.map_or("limit", |b| b.kind.as_str());
        let labels = [
            ("structure", metric_name(&reading.name)),
            ("kind", kind.to_owned()),
        ];
        let gauge = ConstGauge::new(saturating_i64(value(reading)));
        gauge.encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::text::encode;

    use super::*;
    use crate::reading::BoundKind;

    fn render(readings: Vec<Reading>) -> String {
        let mut registry = Registry::default();
        register_readings(&mut registry, readings);
        let mut out = String::new();
        encode(&mut out, &registry).unwrap();
        out
    }

    #[test]
    fn gauges_counters_and_structures() {
        let text = render(vec![
            Reading::bounded("p2panda_net.address_book.peers", 10, 100, BoundKind::Limit),
            Reading::new("p2panda_net.address_book.evictions_ttl_total", 5),
            Reading::bounded("p2panda_store.operations", 400, 400, BoundKind::Capacity),
        ]);
        for line in [
            "# TYPE p2panda_net_address_book_peers gauge",
            "p2panda_net_address_book_peers 10",
            "# TYPE p2panda_net_address_book_evictions_ttl counter",
            "p2panda_net_address_book_evictions_ttl_total 5",
            r#"mesh_structure_size{structure="p2panda_net_address_book_peers",kind="limit"} 10"#,
            r#"mesh_structure_bound{structure="p2panda_net_address_book_peers",kind="limit"} 100"#,
            r#"mesh_structure_bound{structure="p2panda_store_operations",kind="capacity"} 400"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn nothing_read_is_nothing_exported() {
        let mut registry = Registry::default();
        register(&mut registry, Latest::new());
        let mut out = String::new();
        encode(&mut out, &registry).unwrap();
        assert_eq!(out, "# EOF\n");
    }
}
