//! What the network looks like from inside a test binary.
//!
//! The target runner (`scripts/netns-run`) must put every test, bench and `cargo run` binary in
//! a network namespace whose only interface is `lo`. This crate reads that back from the kernel.

use std::fs;
use std::io;

/// Names of the network interfaces visible to this process, from `/proc/self/net/dev`
/// (which, unlike `/sys/class/net`, always reflects the calling process's namespace).
pub fn interfaces() -> io::Result<Vec<String>> {
    let text = fs::read_to_string("/proc/self/net/dev")?;
    Ok(text
        .lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect())
}
