//! `alloc::live_blocks` counts allocations not yet freed, and a reallocation keeps its block:
//! the soak's block figure grows with every entry a structure keeps, not with a table's
//! capacity.
//!
//! Its own test binary: it installs the counting allocator for the whole process, and its one
//! test is the only thread allocating while it counts.

use std::hint::black_box;

use mesh_harness::alloc::{self, CountingAlloc};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[test]
fn blocks_follow_allocations_not_capacity() {
    assert!(alloc::is_installed());
    let before = alloc::live_blocks();

    // One block per boxed entry.
    let boxes: Vec<Box<u64>> = (0..100).map(|i| black_box(Box::new(i))).collect();
    // The vector's own buffer is one more.
    assert_eq!(alloc::live_blocks() - before, 101);

    // A vector that grows its capacity reallocates one block: bytes grow, blocks do not.
    let mut grown: Vec<u64> = Vec::with_capacity(1);
    let (blocks, bytes) = (alloc::live_blocks(), alloc::live_bytes());
    for i in 0..10_000 {
        grown.push(black_box(i));
    }
    assert_eq!(
        alloc::live_blocks(),
        blocks,
        "a reallocation keeps its block"
    );
    assert!(alloc::live_bytes() >= bytes + 9_999 * 8);

    drop(grown);
    drop(boxes);
    assert_eq!(
        alloc::live_blocks(),
        before,
        "every freed block is uncounted"
    );
}
