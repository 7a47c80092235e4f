//! Process figures of the node's process: live heap (with [`crate::alloc::CountingAlloc`]
//! installed), resident set, open file descriptors and tokio tasks. Named
//! `mesh_harness_process_*` because the alert rules select on the names the harness has always
//! exported.

use crate::reading::Reading;
use crate::series::Series;

/// The area's series.
pub(crate) const SERIES: &[Series] = &[
    Series::fork(
        "process.heap_bytes",
        "bytes",
        "alloc::CountingAlloc",
        "Live heap bytes (counting allocator); absent where none is installed",
    )
    .everywhere(),
    Series::fork(
        "process.rss_bytes",
        "bytes",
        "/proc/self/status",
        "Resident set size",
    )
    .everywhere(),
    Series::fork(
        "process.open_fds",
        "descriptors",
        "/proc/self/fd",
        "Open file descriptors",
    )
    .everywhere(),
    Series::fork(
        "process.tokio_tasks",
        "tasks",
        "tokio RuntimeMetrics::num_alive_tasks",
        "Live tasks of the tokio runtime",
    )
    .everywhere(),
];

/// The process figures now. The heap figure only where [`crate::alloc::CountingAlloc`] is the
/// global allocator: without it a zero would look like a measurement.
pub(crate) fn readings() -> Vec<Reading> {
    let mut out = Vec::with_capacity(4);
    if crate::alloc::is_installed() {
        out.push(Reading::new(
            "process.heap_bytes",
            crate::alloc::live_bytes(),
        ));
    }
    if let Some(rss) = rss_bytes() {
        out.push(Reading::new("process.rss_bytes", rss));
    }
    if let Some(fds) = open_fds() {
        out.push(Reading::new("process.open_fds", fds));
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        let tasks = runtime.metrics().num_alive_tasks() as u64;
        out.push(Reading::new("process.tokio_tasks", tasks));
    }
    out
}

/// Resident set size from `/proc/self/status` (`VmRSS`, in kB).
/// Resident set size from `/proc/self/status` (`VmRSS`, in kB).
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Entries of `/proc/self/fd`, less the one `read_dir` itself holds open.
/// Entries of `/proc/self/fd`, less the one `read_dir` itself holds open.
pub fn open_fds() -> Option<u64> {
    let count = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some(count.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_figures_are_read() {
        assert!(rss_bytes().unwrap() > 0);
        let before = open_fds().unwrap();
        let file = std::fs::File::open("/proc/self/status").unwrap();
        assert_eq!(open_fds().unwrap(), before + 1);
        drop(file);
    }
}
