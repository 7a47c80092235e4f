//! A short fresh-key flood against a fork hub whose address book holds at most 100 peers: the
//! flood must fill the book to its bound and no further, no bounded structure may leave its
//! bound, the book must shed the attackers within the TTL, and the hub must keep answering and
//! serving an honest peer that joins and syncs after the attack.

use attack::{last, peak, short_fresh_key_flood, MAX_PEERS};
use mesh_harness::alloc::CountingAlloc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_key_flood_fills_the_book_to_its_bound_and_no_further() {
    let (record, summary) = short_fresh_key_flood().await;
    assert!(
        record.tally.is_some(),
        "the attacker failed: {:?}",
        record.attacker_error
    );

    let (book, bound) = peak(&record.samples, "p2panda_net.address_book.peers").expect("book");
    assert_eq!(
        bound,
        Some(MAX_PEERS),
        "the hub's book has the configured bound"
    );
    assert!(
        book <= MAX_PEERS,
        "the book held {book} peers, over its bound of {MAX_PEERS}"
    );
    assert!(
        book >= MAX_PEERS * 9 / 10,
        "the flood did not reach the bound ({book} peers)"
    );
    let evicted = last(
        &record.samples,
        "p2panda_net.address_book.evictions_capacity_total",
    );
    assert!(
        evicted.unwrap_or(0) > 0,
        "no capacity eviction: the bound was not exercised"
    );
    assert!(
        summary.over_bound.is_empty(),
        "over bound: {}",
        summary.over_bound
    );

    // Hub and three honest peers remain once the attackers' TTL (10 s) has passed.
    let left = last(&record.samples, "p2panda_net.address_book.peers").unwrap();
    assert!(left <= 4, "the book still holds {left} peers after the TTL");

    assert_eq!(record.panics, 0);
    assert!(record.hub_answers, "the hub stopped answering");
    let after = record.probes.last().expect("probes");
    assert!(
        after.synced && after.join.is_some(),
        "the probe after the attack: {after:?}"
    );
}
