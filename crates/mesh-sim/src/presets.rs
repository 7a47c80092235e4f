//! The scenarios the command runs: the defaults of one run, and the named matrices.

use std::str::FromStr;

use n0_future::time::Duration;

use crate::netmodel::{LossMode, NetModel, Partition, Preset};
use crate::scenario::Scenario;

/// The knobs the command line sets; everything else is the defaults below.
#[derive(Clone, Debug)]
pub struct Knobs {
    /// Peers up at any time.
    pub peers: usize,
    /// Share of fork peers.
    pub fork_share: f64,
    /// Whether fork peers run with catch-up on.
    pub fork_catch_up: bool,
    /// Latency preset.
    pub net: Preset,
    /// Packet loss probability.
    pub loss: f64,
    /// What loss does.
    pub loss_mode: LossMode,
    /// Share of peers that churn.
    pub churn: f64,
    /// Mean lifetime of a churning peer.
    pub lifetime: Duration,
    /// Broadcasts measured.
    pub broadcasts: usize,
    /// Churn-only time after the measured phase.
    pub tail: Duration,
    /// An optional partition.
    pub partition: Option<Partition>,
    /// The seed.
    pub seed: u64,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            peers: 100,
            fork_share: 1.0,
            fork_catch_up: false,
            net: Preset::Continental,
            loss: 0.01,
            loss_mode: LossMode::Stream,
            churn: 0.2,
            lifetime: Duration::from_secs(30),
            broadcasts: 20,
            tail: Duration::ZERO,
            partition: None,
            seed: 1,
        }
    }
}

/// The scenario of `k`: the defaults, scaled to the number of peers where it matters.
pub fn scenario(k: &Knobs) -> Scenario {
    Scenario {
        peers: k.peers,
        fork_share: k.fork_share,
        fork_catch_up: k.fork_catch_up,
        churn: k.churn,
        lifetime: k.lifetime,
        clean_leave: 0.5,
        bootstrap: 5.min(k.peers),
        // a thousand joins take 1.5 s more, so that the bootstrap peers are not swamped
        join_window: Duration::from_secs(5) + Duration::from_micros(1_500 * k.peers as u64),
        settle: Duration::from_secs(10),
        broadcasts: k.broadcasts,
        broadcast_interval: Duration::from_secs(1),
        payload: 256,
        window: Duration::from_secs(10),
        tail: k.tail,
        idle_timeout: Duration::from_secs(15),
        dial_timeout: Duration::from_secs(5),
        net: NetModel {
            preset: k.net,
            loss: k.loss,
            loss_mode: k.loss_mode,
            partition: k.partition,
            seed: k.seed,
        },
    }
}

/// A named set of runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matrix {
    /// The CI check: 100 peers, all fork, all upstream and half and half; half of them churn
    /// (10 s lives) with loss, and two more minutes of churn follow the broadcasts.
    Small,
    /// Scale and mix: 100, 1,000 and 10,000 peers by 0, 10, 50, 90 and 100% fork.
    Scale,
    /// Loss: 1,000 peers by mix and by 0, 1 and 5% loss.
    Loss,
    /// State against peers ever met: 300 peers, half churning fast, for ten simulated minutes.
    State,
    /// Exactly the knobs given, once.
    One,
}

impl FromStr for Matrix {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "small" => Ok(Matrix::Small),
            "scale" => Ok(Matrix::Scale),
            "loss" => Ok(Matrix::Loss),
            "state" => Ok(Matrix::State),
            "one" => Ok(Matrix::One),
            _ => Err(format!(
                "unknown preset {s:?} (small, scale, loss, state, one)"
            )),
        }
    }
}

/// The fork shares of the mix axis.
pub const MIXES: [f64; 5] = [0.0, 0.1, 0.5, 0.9, 1.0];

/// The knobs of every run of `matrix`, starting from `base` (whose seed, network and loss it
/// keeps unless the matrix varies them).
pub fn runs(matrix: Matrix, base: &Knobs) -> Vec<Knobs> {
    let with = |peers: usize, fork_share: f64, loss: f64| Knobs {
        peers,
        fork_share,
        loss,
        ..base.clone()
    };
    match matrix {
        Matrix::Small => [1.0, 0.0, 0.5]
            .iter()
            .map(|f| Knobs {
                churn: 0.5,
                lifetime: Duration::from_secs(10),
                tail: Duration::from_secs(120),
                ..with(100, *f, base.loss)
            })
            .collect(),
        Matrix::Scale => [100, 1_000, 10_000]
            .iter()
            .flat_map(|n| MIXES.iter().map(move |f| (*n, *f)))
            .map(|(n, f)| with(n, f, base.loss))
            .collect(),
        Matrix::Loss => [0.0, 0.01, 0.05]
            .iter()
            .flat_map(|l| MIXES.iter().map(move |f| (*l, *f)))
            .map(|(l, f)| with(1_000, f, l))
            .collect(),
        Matrix::State => [1.0, 0.0]
            .iter()
            .map(|f| Knobs {
                churn: 0.5,
                lifetime: Duration::from_secs(10),
                broadcasts: 60,
                tail: Duration::from_secs(540),
                ..with(300, *f, base.loss)
            })
            .collect(),
        Matrix::One => vec![base.clone()],
    }
}
