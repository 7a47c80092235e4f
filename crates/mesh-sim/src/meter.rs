//! Heap bytes per simulated node: a counting global allocator that charges every allocation and
//! free to the node whose code is running on this thread.
//!
//! The simulation enters a node's [`Meter`] around each call into that node's protocol state and
//! builds the state's input inside it, so whatever the state allocates and keeps stays charged to
//! it, and whatever it frees is credited back. Wire bytes and the driver's own bookkeeping are
//! made [`outside`] any meter. Both builds are measured the same way; the figure is the live heap
//! the state holds (capacity, not length, as the allocator sees it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr;

/// The process allocator: the system allocator, counting into the entered meter.
pub struct Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

thread_local! {
    static CURRENT: Cell<*const Cell<i64>> = const { Cell::new(ptr::null()) };
}

/// Adds `delta` bytes to the meter entered on this thread, if any.
fn charge(delta: i64) {
    let _ = CURRENT.try_with(|current| {
        let meter = current.get();
        if !meter.is_null() {
            // SAFETY: a meter is only entered through `Meter::enter`, whose guard borrows it and
            // resets the pointer before the borrow ends.
            let meter = unsafe { &*meter };
            meter.set(meter.get() + delta);
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; counting touches only a thread-local.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            charge(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            charge(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        charge(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, new_size);
        if !q.is_null() {
            charge(new_size as i64 - layout.size() as i64);
        }
        q
    }
}

/// The live heap bytes charged to one node.
#[derive(Debug, Default)]
pub struct Meter(Box<Cell<i64>>);

impl Meter {
    /// Live bytes charged so far.
    pub fn bytes(&self) -> i64 {
        self.0.get()
    }

    /// Charges this thread's allocations to this meter until the guard drops.
    pub fn enter(&self) -> Entered<'_> {
        let previous = CURRENT.with(|c| c.replace(&*self.0 as *const Cell<i64>));
        Entered {
            previous,
            _meter: self,
        }
    }
}

/// While alive, allocations on this thread are charged to the meter it borrows.
pub struct Entered<'a> {
    previous: *const Cell<i64>,
    _meter: &'a Meter,
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// Runs `f` with no meter entered (the driver's own allocations inside a node's turn).
pub fn outside<T>(f: impl FnOnce() -> T) -> T {
    let previous = CURRENT.with(|c| c.replace(ptr::null()));
    let out = f();
    CURRENT.with(|c| c.set(previous));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_allocation_stays_charged_and_a_freed_one_is_credited() {
        let meter = Meter::default();
        let kept = {
            let _in = meter.enter();
            let dropped = vec![0u8; 1000];
            drop(dropped);
            vec![0u8; 4096]
        };
        assert_eq!(meter.bytes(), 4096);
        let untracked = outside(|| vec![0u8; 10]);
        {
            let _in = meter.enter();
            drop(kept);
            let nested = outside(|| vec![1u8; 77]);
            drop(untracked);
            outside(|| drop(nested));
        }
        // the untracked vector was freed inside the meter: that credit is the only error
        assert_eq!(meter.bytes(), -10);
    }
}
