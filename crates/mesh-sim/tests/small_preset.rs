//! The small preset (100 peers: all fork, all upstream, half and half; half of them churning,
//! 1% loss, continental latency), with the claims the simulation makes checked hard.

use mesh_sim::node::Build;
use mesh_sim::outcome::RunOutcome;
use mesh_sim::presets::{self, Knobs, Matrix};
use mesh_sim::verdict;

fn run_small() -> Vec<RunOutcome> {
    presets::runs(Matrix::Small, &Knobs::default())
        .iter()
        .map(|k| mesh_sim::run(&presets::scenario(k), |_| {}))
        .collect()
}

#[test]
fn small_preset_delivers_and_the_fork_keeps_its_state_bounded() {
    let runs = run_small();
    assert_eq!(runs.len(), 3);
    for r in &runs {
        let setting = format!("{:.0}% fork", 100.0 * r.scenario.fork_share);
        assert_eq!(
            r.decode_errors, 0,
            "{setting}: the builds disagree on the wire"
        );
        assert!(
            r.peers_ever > 300,
            "{setting}: churn brought {} peers",
            r.peers_ever
        );
        for b in &r.builds {
            assert!(b.expected > 300, "{setting}: {} deliveries due", b.expected);
            assert!(
                b.delivery() >= 0.9,
                "{setting}: {} peers got {:.1}%",
                b.build,
                100.0 * b.delivery()
            );
            assert!(b.total_msgs() > 0.0, "{setting}: {} sent nothing", b.build);
        }
    }
    let all = |build| {
        runs.iter()
            .find(|r| r.builds.len() == 1 && r.builds[0].build == build)
            .expect("a pure mesh")
    };
    let fork = verdict::growth(all(Build::Fork), Build::Fork).expect("fork peers");
    let upstream = verdict::growth(all(Build::Upstream), Build::Upstream).expect("upstream peers");
    assert!(fork.met_ratio() >= 5.0, "too little range: {fork:?}");
    assert!(fork.bounded(), "fork state grows: {fork:?}");
    assert!(
        upstream.entries.1 > 3 * fork.entries.1,
        "upstream holds no more peers than the fork: {upstream:?} against {fork:?}"
    );
    assert!(
        upstream.ratio() > fork.ratio(),
        "{upstream:?} against {fork:?}"
    );
    for c in verdict::mix_checks(&runs) {
        assert!(
            c.delivery.0 >= c.delivery.1 - verdict::DELIVERY_SLACK,
            "upstream peers get less in a mixed mesh: {c:?}"
        );
    }
}

#[test]
fn a_seed_gives_the_same_protocol_figures() {
    let k = Knobs {
        peers: 60,
        fork_share: 0.5,
        broadcasts: 5,
        ..Knobs::default()
    };
    let sc = presets::scenario(&k);
    let (a, b) = (mesh_sim::run(&sc, |_| {}), mesh_sim::run(&sc, |_| {}));
    assert_eq!(a.peers_ever, b.peers_ever);
    assert_eq!(a.lost, b.lost);
    for (x, y) in a.builds.iter().zip(&b.builds) {
        assert_eq!(
            (x.expected, x.delivered, x.duplicates, x.entries, x.met),
            (y.expected, y.delivered, y.duplicates, y.entries, y.met)
        );
        assert_eq!(x.msgs, y.msgs);
        assert_eq!(x.latency_ms, y.latency_ms);
    }
}
