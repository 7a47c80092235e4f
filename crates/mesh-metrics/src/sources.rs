//! What the collector reads: a node, and optionally its store and another endpoint.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use p2panda_net::{Network, TopicId};
use p2panda_store::MemoryStore;
use p2panda_sync::TopicQuery;

use crate::reading::Reading;
use crate::series::Series;

/// How long the node's stats calls may take before a reading counts as failed: a node whose
/// engine is stuck must not stall the collector with it.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads of the node that failed: counted, because a failed read leaves the node's series out
/// of the scrape rather than showing stale values.
const UNANSWERED: &str = "mesh_metrics.node_unanswered_total";

pub(crate) const SERIES: &[Series] = &[Series::fork(
    UNANSWERED,
    "reads",
    "Sources::read",
    "Reads of the node's stats that failed or took longer than 5 s (its series are then absent)",
)
.everywhere()];

/// What bounds the node's readings: its address book settings on the forks, nothing upstream
/// (which has no settings).
#[cfg(feature = "patched")]
type Bounds = Arc<p2panda_net::AddressBookConfig>;
#[cfg(not(feature = "patched"))]
type Bounds = ();

/// The node's own readings, read without knowing its topic type.
type ReadNode =
    Arc<dyn Fn(Bounds) -> Pin<Box<dyn Future<Output = Result<Vec<Reading>>> + Send>> + Send + Sync>;

/// What to read: a `Network`, the `AddressBookConfig` it was built with, and optionally its
/// `MemoryStore` and an iroh `Endpoint` other than the network's own.
///
/// ```ignore
/// let sources = Sources::new(&network)
///     .address_book(&address_book_config) // the config given to NetworkBuilder::address_book
///     .store(&store);
/// ```
#[derive(Clone)]
pub struct Sources {
    node: ReadNode,
    unanswered: Arc<AtomicU64>,
    #[cfg(feature = "patched")]
    endpoint: iroh::Endpoint,
    #[cfg(feature = "patched")]
    address_book: Arc<p2panda_net::AddressBookConfig>,
    #[cfg(feature = "patched")]
    store: Option<(crate::store::StoreReader, crate::reading::BoundKind)>,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources").finish_non_exhaustive()
    }
}

impl Sources {
    /// Reads `network` (a clone of it: the handle is cheap and shares the node), and its own
    /// endpoint's incoming attempts. The address book's bounds are those of
    /// `AddressBookConfig::default()` until [`address_book`](Self::address_book) says otherwise.
    pub fn new<T>(network: &Network<T>) -> Self
    where
        T: TopicQuery + TopicId + Clone + Send + Sync + 'static,
    {
        let node = network.clone();
        let read: ReadNode = Arc::new(move |bounds| {
            let node = node.clone();
            Box::pin(async move { read_node(&node, bounds).await })
        });
        Self {
            node: read,
            unanswered: Arc::new(AtomicU64::new(0)),
            #[cfg(feature = "patched")]
            endpoint: network.endpoint().clone(),
            #[cfg(feature = "patched")]
            address_book: Arc::new(p2panda_net::AddressBookConfig::default()),
            #[cfg(feature = "patched")]
            store: None,
        }
    }

    /// The address book settings the node was built with (what it was given with
    /// `NetworkBuilder::address_book`), for its bounds: the `Network` does not expose them.
    #[cfg(feature = "patched")]
    pub fn address_book(mut self, config: &p2panda_net::AddressBookConfig) -> Self {
        self.address_book = Arc::new(config.clone());
        self
    }

    /// Reads QUIC's incoming attempts of `endpoint` instead of the network's own.
    #[cfg(feature = "patched")]
    pub fn endpoint(mut self, endpoint: &iroh::Endpoint) -> Self {
        self.endpoint = endpoint.clone();
        self
    }

    /// Reads `store` too (a clone of it, sharing its contents). Its bounds are its own
    /// `capacity()`, of kind `capacity` for an evicting store and `limit` for a rejecting one;
    /// an unlimited store is exported without bounds.
    #[cfg(feature = "patched")]
    pub fn store<L, E, P>(mut self, store: &MemoryStore<L, E, P>) -> Self
    where
        L: Clone + Send + Sync + 'static,
        E: Clone + Send + Sync + 'static,
        P: p2panda_store::memory::CapacityPolicy + crate::store::PolicyKind + 'static,
    {
        let store = store.clone();
        let reader: crate::store::StoreReader = Arc::new(move || (store.stats(), store.capacity()));
        self.store = Some((reader, P::KIND));
        self
    }

    /// Upstream's store reports nothing: the store series are absent (see
    /// [`crate::series::absent`]). Kept so a controller's code is the same on both builds.
    #[cfg(not(feature = "patched"))]
    pub fn store<L, E>(self, store: &MemoryStore<L, E>) -> Self {
        let _ = store;
        self
    }

    /// Everything the sources report now: the node's structures (see
    /// [`structures`](Self::structures)), the process figures and the count of unanswered
    /// reads. An error means the node did not answer within [`CALL_TIMEOUT`].
    pub async fn read(&self) -> Result<Vec<Reading>> {
        let mut readings = self.structures().await?;
        readings.extend(self.process_readings());
        Ok(readings)
    }

    /// The node's readings, the endpoint's and the store's, without the process figures (for a
    /// caller that measures its process itself). An error means the node did not answer within
    /// [`CALL_TIMEOUT`]; it is counted (see [`unanswered`](Self::unanswered)).
    pub async fn structures(&self) -> Result<Vec<Reading>> {
        #[cfg(feature = "patched")]
        let bounds = self.address_book.clone();
        #[cfg(not(feature = "patched"))]
        let bounds = ();
        let node = tokio::time::timeout(CALL_TIMEOUT, (self.node)(bounds)).await;
        let readings = match node {
            Ok(Ok(readings)) => readings,
            Ok(Err(err)) => return Err(self.count_unanswered(err)),
            Err(elapsed) => {
                let err = anyhow::Error::new(elapsed).context("the node's stats calls timed out");
                return Err(self.count_unanswered(err));
            }
        };
        #[cfg(feature = "patched")]
        let readings = self.with_endpoint_and_store(readings);
        Ok(readings)
    }

    /// `readings` with the endpoint's incoming attempts and the store's figures added.
    #[cfg(feature = "patched")]
    fn with_endpoint_and_store(&self, mut readings: Vec<Reading>) -> Vec<Reading> {
        readings.extend(crate::incoming::readings(&self.endpoint));
        if let Some((store, kind)) = &self.store {
            let (stats, capacity) = store();
            readings.extend(crate::store::readings(&stats, &capacity, *kind));
        }
        readings
    }

    /// Reads of the node that failed or timed out so far (shared by clones).
    pub fn unanswered(&self) -> u64 {
        self.unanswered.load(Ordering::Relaxed)
    }

    fn count_unanswered(&self, err: anyhow::Error) -> anyhow::Error {
        self.unanswered.fetch_add(1, Ordering::Relaxed);
        err
    }

    /// What is exported when the node does not answer too: the process figures and the count
    /// of unanswered reads.
    pub fn process_readings(&self) -> Vec<Reading> {
        let mut readings = crate::process::readings();
        readings.push(Reading::new(UNANSWERED, self.unanswered()));
        readings
    }
}

/// The node's readings on the forks: address book (with the configured bounds), topic streams
/// and gossip.
#[cfg(feature = "patched")]
async fn read_node<T>(node: &Network<T>, config: Bounds) -> Result<Vec<Reading>>
where
    T: TopicQuery + TopicId + 'static,
{
    let book = node.address_book_stats().await?;
    let topics = node.topic_stats().await?;
    let gossip = node.gossip_stats().await?;
    let mut readings = crate::address_book::readings(&book, &config);
    readings.extend(crate::topics::readings(&topics));
    readings.extend(crate::gossip::readings(&gossip));
    Ok(readings)
}

/// The node's readings upstream: only the number of known peers, without a bound.
#[cfg(not(feature = "patched"))]
async fn read_node<T>(node: &Network<T>, _bounds: Bounds) -> Result<Vec<Reading>>
where
    T: TopicQuery + TopicId + 'static,
{
    let peers = node.known_peers().await?;
    Ok(vec![Reading::new(
        "p2panda_net.address_book.peers",
        peers.len() as u64,
    )])
}
