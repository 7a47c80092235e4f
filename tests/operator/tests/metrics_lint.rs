//! The exposition lint itself: it accepts OpenMetrics counters and still catches real problems.

use operator::check_metrics;

#[test]
fn openmetrics_counters_with_help_pass() {
    check_metrics(
        "# HELP evictions Peers evicted.\n# TYPE evictions counter\nevictions_total 3\n\
         # HELP peers Peers known.\n# TYPE peers gauge\npeers 7\n# EOF\n",
    );
}

#[test]
#[should_panic(expected = "no help text")]
fn a_counter_without_help_fails() {
    check_metrics("# TYPE evictions counter\nevictions_total 3\n# EOF\n");
}

#[test]
#[should_panic(expected = "promtool check metrics found problems")]
fn a_gauge_named_like_a_counter_fails() {
    check_metrics(
        "# HELP peers_total Peers known.\n# TYPE peers_total gauge\npeers_total 7\n# EOF\n",
    );
}
