//! Runs a future that only waits on in-memory input.

use std::future::Future;

/// Drives `future` to completion on this thread.
///
/// The decoders under test read from byte slices and write to sinks that are always ready, so
/// they never wait on a wake-up; futures' executor is enough and needs no runtime.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}
