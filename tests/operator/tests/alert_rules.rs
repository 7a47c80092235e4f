//! The alert rules are valid Prometheus rules and fire exactly on the situations they are for
//! (unit tests in ops/alerts.test.yml, run by promtool).

use operator::promtool;

#[test]
fn alert_rules_are_valid() {
    let out = promtool(&["check", "rules", "ops/alerts.yml"], None);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn alert_rules_fire_on_their_situations_only() {
    let out = promtool(&["test", "rules", "ops/alerts.test.yml"], None);
    assert!(out.contains("SUCCESS"), "{out}");
}
