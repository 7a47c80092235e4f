//! Every series an alert rule selects is one mesh-metrics exports: a rule that selects a series
//! nobody exports never fires, and fails here instead.

use mesh_metrics::series;
use operator::alert_selectors;

#[test]
fn every_rule_selects_series_mesh_metrics_exports() {
    let exported = series::exported_metric_names();
    let bounded: Vec<String> = series::all()
        .filter(|s| s.bound.is_some())
        .map(|s| s.metric_name())
        .collect();
    for selector in alert_selectors() {
        assert!(
            exported.contains(&selector.name),
            "{} selects {}, which mesh-metrics does not export (it exports: {exported:?})",
            selector.alert,
            selector.name
        );
        // The structure families' labels: some bounded series of some kind must match.
        if series::STRUCTURE_FAMILIES
            .iter()
            .any(|(family, _)| *family == selector.name)
        {
            let matched = bounded.iter().any(|structure| {
                ["limit", "capacity"].iter().any(|kind| {
                    selector.matches(&format!(
                        r#"{}{{structure="{structure}",kind="{kind}"}}"#,
                        selector.name
                    ))
                })
            });
            assert!(
                matched,
                "{} selects {:?} on {}, which matches no bounded series",
                selector.alert, selector.matchers, selector.name
            );
        }
    }
}

#[test]
fn every_rule_is_checked() {
    let alerts: std::collections::BTreeSet<String> =
        alert_selectors().into_iter().map(|s| s.alert).collect();
    assert_eq!(alerts.len(), 7, "{alerts:?}");
}
