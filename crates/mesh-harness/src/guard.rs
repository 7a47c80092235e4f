//! The safety guard every binary that runs nodes calls first: node code runs only in a network
//! namespace whose interfaces are `lo` and the lab's own (`lab...`), never on the machine's real
//! network.

use std::process::ExitCode;

/// Where the interfaces of the current network namespace are listed.
const NET_DEV: &str = "/proc/net/dev";
/// What the lab's host-side interface names start with.
const LAB_PREFIX: &str = "lab";
/// The exit code of a refusal, as `scripts/netns-run`'s.
pub const REFUSED: u8 = 97;

/// Checks the current network namespace; on refusal, says why on stderr (as `program`) and
/// returns the exit code to leave with.
pub fn check(program: &str) -> Result<(), ExitCode> {
    let refusal = match std::fs::read_to_string(NET_DEV) {
        Ok(dev) => foreign_interfaces(&dev).map(|names| {
            format!(
                "interface(s) {} are neither lo nor {LAB_PREFIX}...: this looks like a real \
                 network. Run inside a lab namespace, or through scripts/netns-run.",
                names.join(", ")
            )
        }),
        Err(err) => Some(format!(
            "cannot read {NET_DEV} to check the interfaces: {err}"
        )),
    };
    match refusal {
        None => Ok(()),
        Some(reason) => {
            eprintln!("{program}: refusing to start: {reason}");
            Err(ExitCode::from(REFUSED))
        }
    }
}

/// The interfaces listed in `dev` (the text of `/proc/net/dev`) that are neither `lo` nor the
/// lab's; `None` when there are none.
fn foreign_interfaces(dev: &str) -> Option<Vec<&str>> {
    let foreign: Vec<&str> = interfaces(dev)
        .filter(|name| *name != "lo" && !name.starts_with(LAB_PREFIX))
        .collect();
    (!foreign.is_empty()).then_some(foreign)
}

/// The interface names of `/proc/net/dev`: each line after the two header lines, up to its `:`.
fn interfaces(dev: &str) -> impl Iterator<Item = &str> {
    dev.lines()
        .skip(2)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, _)| name.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "Inter-|   Receive |  Transmit\n face |bytes    packets|bytes\n";

    fn dev(names: &[&str]) -> String {
        let lines: String = names
            .iter()
            .map(|n| format!("{n:>6}: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"))
            .collect();
        format!("{HEADER}{lines}")
    }

    #[test]
    fn only_lo_and_lab_interfaces_pass() {
        assert_eq!(foreign_interfaces(&dev(&["lo"])), None);
        assert_eq!(foreign_interfaces(&dev(&["lo", "lab3", "lab-h1"])), None);
        assert_eq!(
            foreign_interfaces(&dev(&["lo", "eth0", "lab1", "wlp2s0"])),
            Some(vec!["eth0", "wlp2s0"])
        );
    }

    /// The namespace the tests run in (scripts/netns-run: only `lo`) passes.
    #[test]
    fn the_test_namespace_passes() {
        let dev = std::fs::read_to_string(NET_DEV).unwrap();
        assert_eq!(interfaces(&dev).collect::<Vec<_>>(), vec!["lo"]);
        assert!(check("test").is_ok());
    }
}
