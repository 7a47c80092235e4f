//! The same short fresh-key flood as `fresh_keys_bounds`: once the attack is over and the TTL
//! has shed the attackers, the hub's sync sessions must be back to its honest peers' and the
//! process's heap back within the suite's margin (10% or 1 MiB) of its level before the attack.

use attack::{last, short_fresh_key_flood};
use mesh_harness::alloc::CountingAlloc;
use mesh_harness::attack::summary::heap_margin;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fails on the fork today: about 3 MiB of heap stays after 1,000 announced keys \
            although every exported structure is back; part of it is the honest traffic's own \
            gossip caches, still filling when the reference is taken (docs/attacks.md)"]
async fn a_fresh_key_flood_leaves_nothing_behind() {
    let (record, summary) = short_fresh_key_flood().await;
    assert!(mesh_harness::alloc::is_installed());
    assert!(
        record.tally.is_some(),
        "the attacker failed: {:?}",
        record.attacker_error
    );
    let sessions = last(&record.samples, "p2panda_net.sync.sessions").unwrap();
    assert!(
        sessions <= 4,
        "{sessions} sync sessions left after the attackers were evicted"
    );
    let before = (summary.heap_before_mib * 1048576.0) as u64;
    let after = (summary.heap_after_mib * 1048576.0) as u64;
    assert!(
        after <= before + heap_margin(before),
        "heap {after} B after the attack, {before} B before (margin {} B)",
        heap_margin(before)
    );
}
