//! What a soak samples: process-wide figures and the size of every structure that could grow.

use std::mem::size_of;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::alloc;

/// One structure's size at a sample, with its bound if it has one: the collector's reading, so
/// that the soak judges exactly what a controller's `/metrics` exports.
pub use mesh_metrics::reading::{is_counter, Bound, BoundKind, Reading};

/// Everything sampled at one moment of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Time since the run started.
    pub elapsed: Duration,
    /// Short-lived peers that have left so far.
    pub cycles: u64,
    /// Taken between waves, when no short-lived peer is alive: only what the long-lived nodes
    /// keep. Trends are fitted through quiet samples.
    pub quiet: bool,
    /// Taken after churn paused long enough for every time-bounded trace of departed peers to
    /// expire (see `RunOptions::settled_pause`): what the long-lived nodes keep for good. Also
    /// quiet.
    pub settled: bool,
    /// Live heap bytes of the whole process (counting allocator), less what the run's own
    /// [`SampleHistory`] holds at that moment.
    pub heap_bytes: u64,
    /// Live heap blocks (allocations not yet freed) of the whole process, less those of the
    /// run's own [`SampleHistory`]. Unlike `heap_bytes`, it does not move when a table or vector
    /// grows its capacity, and it grows with every entry a structure keeps. `None` when not
    /// recorded: a sample read back from a CSV without a block column.
    pub heap_blocks: Option<u64>,
    /// Resident set size of the process.
    pub rss_bytes: u64,
    /// Open file descriptors of the process.
    pub fds: u64,
    /// Live tokio tasks of the runtime.
    pub tasks: u64,
    /// Structure sizes on the hub (and the harness's own bookkeeping).
    pub structures: Vec<Reading>,
}

impl Sample {
    /// Every figure of the sample as (name, value, bound), process figures first.
    pub fn figures(&self) -> Vec<(String, u64, Option<u64>)> {
        let mut out = vec![
            ("process.heap_bytes".to_owned(), self.heap_bytes, None),
            ("process.rss_bytes".to_owned(), self.rss_bytes, None),
            ("process.open_fds".to_owned(), self.fds, None),
            ("process.tokio_tasks".to_owned(), self.tasks, None),
        ];
        if let Some(blocks) = self.heap_blocks {
            out.insert(1, ("process.heap_blocks".to_owned(), blocks, None));
        }
        out.extend(
            self.structures
                .iter()
                .map(|r| (r.name.clone(), r.value, r.bound.map(|b| b.value))),
        );
        out
    }

    /// The value and bound of the figure called `name` (as [`figures`](Self::figures) names
    /// it), if the sample has it.
    pub fn figure(&self, name: &str) -> Option<(u64, Option<u64>)> {
        let process = |value| Some((value, None));
        match name {
            "process.heap_bytes" => process(self.heap_bytes),
            "process.heap_blocks" => self.heap_blocks.and_then(process),
            "process.rss_bytes" => process(self.rss_bytes),
            "process.open_fds" => process(self.fds),
            "process.tokio_tasks" => process(self.tasks),
            _ => self
                .structures
                .iter()
                .find(|r| r.name == name)
                .map(|r| (r.value, r.bound.map(|b| b.value))),
        }
    }
}

/// The samples of a run so far, and the heap they hold.
///
/// The harness keeps every sample in memory until the run ends, a few KB each: over a soak that
/// is megabytes, growing with the run, that the nodes under test do not hold. [`held`] is
/// exactly what the allocator counts for the history (capacities times element sizes, the
/// readings' names included), and [`held_blocks`] the blocks, so the heap figures can leave it
/// out (see [`Sample::heap_bytes`], [`Sample::heap_blocks`]).
///
/// [`held`]: SampleHistory::held
/// [`held_blocks`]: SampleHistory::held_blocks
#[derive(Debug, Default)]
pub struct SampleHistory {
    samples: Vec<Sample>,
    /// Heap of the stored samples' readings and names.
    readings_bytes: u64,
    /// Blocks of the stored samples' readings and names.
    readings_blocks: u64,
    held: Arc<AtomicU64>,
    held_blocks: Arc<AtomicU64>,
}

impl SampleHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores a sample.
    pub fn push(&mut self, sample: Sample) {
        self.readings_bytes += readings_heap_bytes(&sample.structures);
        self.readings_blocks += readings_heap_blocks(&sample.structures);
        self.samples.push(sample);
        let held = (self.samples.capacity() * size_of::<Sample>()) as u64 + self.readings_bytes;
        self.held.store(held, Ordering::Relaxed);
        // The samples' own buffer is one block (it holds at least the sample just pushed).
        self.held_blocks
            .store(1 + self.readings_blocks, Ordering::Relaxed);
    }

    /// Heap bytes the history holds now.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// A handle that reads [`held`](Self::held) from elsewhere (e.g. inside the sampling
    /// future).
    pub fn held_handle(&self) -> Arc<AtomicU64> {
        self.held.clone()
    }

    /// Heap blocks the history holds now.
    pub fn held_blocks(&self) -> u64 {
        self.held_blocks.load(Ordering::Relaxed)
    }

    /// A handle that reads [`held_blocks`](Self::held_blocks) from elsewhere.
    pub fn held_blocks_handle(&self) -> Arc<AtomicU64> {
        self.held_blocks.clone()
    }

    /// The samples, in order.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The samples, in order, taking them out of the history.
    pub fn into_samples(self) -> Vec<Sample> {
        self.samples
    }
}

/// Heap bytes a sample's readings hold: the vector's buffer and every name's.
fn readings_heap_bytes(readings: &Vec<Reading>) -> u64 {
    (readings.capacity() * size_of::<Reading>()
        + readings.iter().map(|r| r.name.capacity()).sum::<usize>()) as u64
}

/// Heap blocks a sample's readings hold: the vector's buffer and every name's (an empty
/// vector or name holds none).
fn readings_heap_blocks(readings: &Vec<Reading>) -> u64 {
    let names = readings.iter().filter(|r| r.name.capacity() > 0).count();
    (usize::from(readings.capacity() > 0) + names) as u64
}

/// Process-wide figures: heap, RSS, file descriptors, tokio tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessFigures {
    /// Live heap bytes (0 if the counting allocator is not installed).
    pub heap_bytes: u64,
    /// Live heap blocks (0 if the counting allocator is not installed).
    pub heap_blocks: u64,
    /// Resident set size in bytes.
    pub rss_bytes: u64,
    /// Open file descriptors.
    pub fds: u64,
    /// Live tasks of the current tokio runtime (0 outside one).
    pub tasks: u64,
}

/// Reads the process-wide figures now.
pub fn process_figures() -> ProcessFigures {
    ProcessFigures {
        heap_bytes: alloc::live_bytes(),
        heap_blocks: alloc::live_blocks(),
        rss_bytes: rss_bytes().unwrap_or(0),
        fds: open_fds().unwrap_or(0),
        tasks: tokio::runtime::Handle::try_current()
            .map(|h| h.metrics().num_alive_tasks() as u64)
            .unwrap_or(0),
    }
}

pub use mesh_metrics::process::{open_fds, rss_bytes};
