//! A counting global allocator: live heap bytes, their peak, live blocks, and allocation counts.
//!
//! A binary opts in with
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: mesh_harness::alloc::CountingAlloc = mesh_harness::alloc::CountingAlloc;
//! ```
//!
//! and reads [`live_bytes`] whenever it wants. Counting costs two relaxed atomic operations per
//! allocation and deallocation. Without the attribute the counters stay at zero and
//! [`is_installed`] says so, so a report never shows a zero that looks like a measurement.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static LIVE_BLOCKS: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting live bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAlloc;

fn added(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn removed(size: usize) {
    LIVE.fetch_sub(size, Ordering::Relaxed);
}

/// A new block: counted as an allocation and a live block besides its bytes.
fn block_added(size: usize) {
    added(size);
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
}

fn block_removed(size: usize) {
    removed(size);
    LIVE_BLOCKS.fetch_sub(1, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only
// updates counters besides.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            block_added(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            block_added(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        block_removed(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        // A reallocated block stays one block: only its bytes change.
        if !new.is_null() {
            removed(layout.size());
            added(new_size);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        new
    }
}

/// Bytes currently allocated through [`CountingAlloc`].
pub fn live_bytes() -> u64 {
    LIVE.load(Ordering::Relaxed) as u64
}

/// The highest [`live_bytes`] seen so far.
pub fn peak_bytes() -> u64 {
    PEAK.load(Ordering::Relaxed) as u64
}

/// Blocks currently allocated through [`CountingAlloc`] (a reallocation keeps its block).
///
/// What a leak of one entry per churned peer shows as, even where its bytes are too few to see
/// beside the heap's noise; a hash table or vector that reallocates to a larger capacity does
/// not change it.
pub fn live_blocks() -> u64 {
    LIVE_BLOCKS.load(Ordering::Relaxed) as u64
}

/// Allocations made so far (not counting frees).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Whether the running binary installed [`CountingAlloc`] as its global allocator (it has
/// allocated through it at least once).
pub fn is_installed() -> bool {
    allocations() > 0
}
