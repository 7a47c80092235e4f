//! One run's settings: the mesh, its churn, its broadcasts and its network.

use n0_future::time::Duration;

use crate::netmodel::NetModel;

/// Everything one run needs; a run is a function of this (and nothing else).
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Peers alive at any time (the churning ones are replaced as they go).
    pub peers: usize,
    /// The share of peers that run the fork (the rest run upstream), spread evenly over indices.
    pub fork_share: f64,
    /// Whether fork peers pass recent messages on to new neighbours (`CatchUp::RECOMMENDED`);
    /// off is the fork's default.
    pub fork_catch_up: bool,
    /// The share of the population that churns: such a peer lives for an exponential time of
    /// mean `lifetime`, goes, and a peer with a fresh identity takes its place.
    pub churn: f64,
    /// Mean lifetime of a churning peer.
    pub lifetime: Duration,
    /// The share of departures that quit cleanly (the rest vanish without a word).
    pub clean_leave: f64,
    /// Long-lived peers everyone joins through (peers 0..bootstrap; they never churn).
    pub bootstrap: usize,
    /// The first peers join spread over this time.
    pub join_window: Duration,
    /// Time after the joins before the first broadcast.
    pub settle: Duration,
    /// Broadcasts in the measured phase.
    pub broadcasts: usize,
    /// Time between broadcasts.
    pub broadcast_interval: Duration,
    /// Payload bytes of a broadcast.
    pub payload: usize,
    /// How long after a broadcast its deliveries count.
    pub window: Duration,
    /// After the broadcasts' windows, the run goes on with churn only for this long (to grow the
    /// peers every node has met).
    pub tail: Duration,
    /// Time after which a connection to a peer that vanished (or is cut off) is noticed.
    pub idle_timeout: Duration,
    /// Time after which a dial to a peer that is gone (or cut off) fails.
    pub dial_timeout: Duration,
    /// The network.
    pub net: NetModel,
}

impl Scenario {
    /// When the first broadcast goes out, from the start.
    pub fn first_broadcast(&self) -> Duration {
        self.join_window + self.settle
    }

    /// When the last broadcast's window closes, from the start.
    pub fn measured_end(&self) -> Duration {
        self.first_broadcast()
            + self.broadcast_interval * self.broadcasts.saturating_sub(1) as u32
            + self.window
    }

    /// When the run ends, from the start.
    pub fn end(&self) -> Duration {
        self.measured_end() + self.tail
    }

    /// Whether peer `index` runs the fork: an even spread (a low-discrepancy sequence), so that
    /// every stretch of indices, the bootstrap peers and each generation of churn, has the share.
    pub fn is_fork(&self, index: u32) -> bool {
        const GOLDEN: f64 = 0.618_033_988_749_894_9;
        let offset = crate::netmodel::unit(crate::netmodel::mix(self.net.seed ^ 0xf0f0));
        ((index as f64 * GOLDEN + offset) % 1.0) < self.fork_share
    }
}
