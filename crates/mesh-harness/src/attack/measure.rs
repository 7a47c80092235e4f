//! One sample of an attack run: the process's heap, RSS and CPU time, and the hub's structures
//! as the `mesh-metrics` collector reads them; the run's phases; a count of panics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::Duration;

use mesh_metrics::Sources;

use crate::probe::{process_figures, Reading};

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Phase {
    /// Honest peers joining: not judged.
    Warmup = 0,
    /// Honest traffic only: the reference.
    Before = 1,
    /// The attack.
    During = 2,
    /// After the attacker left, until the heap settled.
    After = 3,
}

impl Phase {
    /// The phase stored as `value` (`Phase as u8`); anything unknown is `After`.
    pub fn from_u8(value: u8) -> Self {
        match value {
            0 => Phase::Warmup,
            1 => Phase::Before,
            2 => Phase::During,
            _ => Phase::After,
        }
    }

    /// Its name in the CSV.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Warmup => "warmup",
            Phase::Before => "before",
            Phase::During => "during",
            Phase::After => "after",
        }
    }
}

/// Everything one sample holds.
#[derive(Debug, Clone)]
pub struct AttackSample {
    /// The phase it was taken in.
    pub phase: Phase,
    /// Time since the run started.
    pub elapsed: Duration,
    /// Live heap bytes of the process (counting allocator).
    pub heap_bytes: u64,
    /// Resident set size.
    pub rss_bytes: u64,
    /// User plus system CPU time of the process so far.
    pub cpu: Duration,
    /// Live tokio tasks.
    pub tasks: u64,
    /// The hub's structures; `None` when it did not answer.
    pub structures: Option<Vec<Reading>>,
}

/// Takes a sample of the process and of the hub through `hub`.
pub async fn sample(hub: &Sources, phase: Phase, elapsed: Duration) -> AttackSample {
    let figures = process_figures();
    let structures = hub.structures().await.ok();
    AttackSample {
        phase,
        elapsed,
        heap_bytes: figures.heap_bytes,
        rss_bytes: figures.rss_bytes,
        cpu: cpu_time(),
        tasks: figures.tasks,
        structures,
    }
}

/// User plus system CPU time of this process (`getrusage(RUSAGE_SELF)`; child processes, such
/// as `mesh-attack`'s attacker, are not counted).
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct it is given and nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return Duration::ZERO;
        }
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

static PANICS: AtomicU64 = AtomicU64::new(0);
static HOOK: Once = Once::new();

/// Counts every panic of the process from now on (in any thread or task), keeping the default
/// report on stderr.
pub fn count_panics() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::Relaxed);
            previous(info);
        }));
    });
}

/// Panics counted so far (see [`count_panics`]).
pub fn panics() -> u64 {
    PANICS.load(Ordering::Relaxed)
}
