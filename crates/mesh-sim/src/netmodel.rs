//! The network between simulated nodes: per-link latency from a preset's distribution, jitter,
//! random packet loss, and a partition that heals.
//!
//! Every draw is a hash of the seed and what it is about (the link; the link, send time and
//! position of a message), not the next value of one stream, so the network a message sees does
//! not depend on the order in which a node's hash sets happen to emit its messages.

use std::fmt;
use std::str::FromStr;

use n0_future::time::Duration;

/// Where the peers are, as far as latency goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// One site: 0.2 to 1 ms one way, 0.1 ms jitter.
    Lan,
    /// One continent: 5 to 40 ms one way, 2 ms jitter.
    Continental,
    /// Around the world: 40 to 160 ms one way, 10 ms jitter.
    Intercontinental,
}

impl Preset {
    /// The range of one-way base latency of a link, in microseconds.
    fn latency_us(self) -> (u64, u64) {
        match self {
            Preset::Lan => (200, 1_000),
            Preset::Continental => (5_000, 40_000),
            Preset::Intercontinental => (40_000, 160_000),
        }
    }

    /// The mean of the exponential jitter added to each message, in microseconds.
    fn jitter_us(self) -> u64 {
        match self {
            Preset::Lan => 100,
            Preset::Continental => 2_000,
            Preset::Intercontinental => 10_000,
        }
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "lan" => Ok(Preset::Lan),
            "continental" => Ok(Preset::Continental),
            "intercontinental" => Ok(Preset::Intercontinental),
            _ => Err(format!(
                "unknown network {s:?} (lan, continental, intercontinental)"
            )),
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Preset::Lan => "lan",
            Preset::Continental => "continental",
            Preset::Intercontinental => "intercontinental",
        })
    }
}

/// What a lost packet does to the message it carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossMode {
    /// As on iroh's QUIC streams: the packet is sent again after a probe timeout, so the message
    /// and every later one on the same link arrive late, never lost.
    Stream,
    /// A stress case the real transport never produces: the message is gone.
    Drop,
}

impl FromStr for LossMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "stream" => Ok(LossMode::Stream),
            "drop" => Ok(LossMode::Drop),
            _ => Err(format!("unknown loss mode {s:?} (stream, drop)")),
        }
    }
}

/// A partition: from `start` for `duration`, peers whose index hashes below `share` cannot reach
/// the others.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Partition {
    /// When the cut appears, from the start of the run.
    pub start: Duration,
    /// How long until it heals.
    pub duration: Duration,
    /// The share of peers on the smaller side.
    pub share: f64,
}

/// Packet payload per QUIC packet, for counting the packets a message needs.
const PACKET_BYTES: usize = 1_200;

/// QUIC's probe timeout on top of the round trip (its max_ack_delay), for a lost packet.
const PTO_EXTRA: Duration = Duration::from_millis(25);

/// The network's settings for one run.
#[derive(Clone, Debug)]
pub struct NetModel {
    /// Latency and jitter preset.
    pub preset: Preset,
    /// Probability that one packet is lost.
    pub loss: f64,
    /// What loss does.
    pub loss_mode: LossMode,
    /// An optional partition.
    pub partition: Option<Partition>,
    /// The run's seed.
    pub seed: u64,
}

/// What happens to one message on a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It arrives after this delay (before in-order delivery on the link is applied).
    Arrives(Duration),
    /// It is lost.
    Lost,
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A uniform draw in [0, 1) from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl NetModel {
    /// The base one-way latency of the link between `a` and `b` (the same both ways).
    pub fn base_latency(&self, a: u32, b: u32) -> Duration {
        let (lo, hi) = (a.min(b) as u64, a.max(b) as u64);
        let h = mix(self.seed ^ mix(lo << 32 | hi));
        let (min, max) = self.preset.latency_us();
        Duration::from_micros(min + (unit(h) * (max - min) as f64) as u64)
    }

    /// The fate of the `nth` message of `len` bytes that `from` sends `to` at `at_ns`.
    pub fn fate(&self, from: u32, to: u32, at_ns: u64, nth: u32, len: usize) -> Fate {
        let key = mix(self.seed ^ mix((from as u64) << 32 | to as u64) ^ mix(at_ns) ^ nth as u64);
        let base = self.base_latency(from, to);
        let jitter_mean = self.preset.jitter_us() as f64;
        let jitter = -jitter_mean * (1.0 - unit(mix(key))).ln();
        let mut delay = base + Duration::from_micros(jitter as u64);
        if self.loss > 0.0 {
            let packets = len.div_ceil(PACKET_BYTES).max(1) as u64;
            let pto = 2 * base + PTO_EXTRA;
            for p in 0..packets {
                // every transmission of a packet is lost with the same probability; the probe
                // timeout doubles with each loss in a row, as QUIC's does
                let mut attempt = 0u32;
                while unit(mix(key ^ mix(p << 8 | attempt as u64))) < self.loss {
                    if self.loss_mode == LossMode::Drop {
                        return Fate::Lost;
                    }
                    delay += pto * (1 << attempt.min(6));
                    attempt += 1;
                }
            }
        }
        Fate::Arrives(delay)
    }

    /// Whether `a` and `b` are on different sides of the partition at `at` (from the start).
    pub fn cut(&self, a: u32, b: u32, at: Duration) -> bool {
        let Some(p) = self.partition else {
            return false;
        };
        at >= p.start && at < p.start + p.duration && self.side(a) != self.side(b)
    }

    /// Which side of the partition a peer is on.
    fn side(&self, peer: u32) -> bool {
        let share = self.partition.map_or(0.0, |p| p.share);
        unit(mix(self.seed ^ 0x5151 ^ mix(peer as u64))) < share
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(loss: f64, loss_mode: LossMode) -> NetModel {
        NetModel {
            preset: Preset::Continental,
            loss,
            loss_mode,
            partition: None,
            seed: 9,
        }
    }

    #[test]
    fn latency_is_per_link_symmetric_and_in_range() {
        let m = model(0.0, LossMode::Stream);
        assert_eq!(m.base_latency(3, 8), m.base_latency(8, 3));
        let all: Vec<_> = (0..1000).map(|b| m.base_latency(0, b)).collect();
        assert!(all.iter().all(|d| *d >= Duration::from_millis(5)));
        assert!(all.iter().all(|d| *d <= Duration::from_millis(40)));
        assert!(all.iter().any(|d| *d > Duration::from_millis(30)));
    }

    #[test]
    fn loss_delays_on_streams_and_drops_when_asked() {
        let delays = |m: &NetModel| -> (u32, u32) {
            let mut late = 0;
            let mut lost = 0;
            for n in 0..10_000 {
                match m.fate(1, 2, n * 1000, 0, 100) {
                    Fate::Arrives(d) if d > m.base_latency(1, 2) + Duration::from_millis(30) => {
                        late += 1
                    }
                    Fate::Arrives(_) => {}
                    Fate::Lost => lost += 1,
                }
            }
            (late, lost)
        };
        let (late, lost) = delays(&model(0.05, LossMode::Stream));
        assert_eq!(lost, 0);
        assert!((350..650).contains(&late), "{late} late of 10000 at 5%");
        let (_, lost) = delays(&model(0.05, LossMode::Drop));
        assert!((350..650).contains(&lost), "{lost} lost of 10000 at 5%");
    }

    #[test]
    fn a_partition_cuts_only_across_and_only_while_it_lasts() {
        let mut m = model(0.0, LossMode::Stream);
        m.partition = Some(Partition {
            start: Duration::from_secs(10),
            duration: Duration::from_secs(5),
            share: 0.5,
        });
        let inside = Duration::from_secs(12);
        let across = (1..200).filter(|&b| m.cut(0, b, inside)).count();
        assert!((60..140).contains(&across), "{across}");
        assert!((1..200).all(|b| !m.cut(0, b, Duration::from_secs(16))));
        assert!((1..200).all(|b| !m.cut(0, b, Duration::from_secs(9))));
    }
}
