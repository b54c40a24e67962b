//! `cairn-bench`: measures Cairn against a baseline run in the same process,
//! on the same machine, in the same run, and prints the ratio.
//!
//! The machine these numbers come from is small (2 cores) and shared, so an
//! absolute figure means little on its own; each scenario therefore measures
//! its own baseline right next to it:
//!
//! - [`propagation`]: time until every node holds a published item, against
//!   plain rust-libp2p gossipsub built by the same `build_swarm` ([`plain`]);
//! - [`burst`]: delivered fraction under increasing publish rates, against
//!   the same plain gossipsub;
//! - [`catchup`]: a new node fetching 100k items (from one member, and from
//!   three holding the same: [`catchup_many`]), against a raw loopback TCP
//!   copy of the same bytes;
//! - [`ingest`]: durable verified items/s, against the machine's ed25519
//!   verification ceiling;
//! - [`footprint`]: RSS and cold start of a `cairnd` process holding 100k
//!   items, against the same for an empty data directory;
//! - [`audience`]: items sealed to a 10-member audience, against
//!   community-wide items of the same contents in the same run;
//! - [`taxii`]: Cairn's TAXII 2.1 server (full pull, time from publish to
//!   visible to a poller on another node, POST ingest), against medallion
//!   3.0.0, the OASIS reference server, in the same run when installed.
//! - [`query`]: filtered queries over 1,000,000 stored items from the query
//!   index, against the same queries answered by scanning the items.
//!
//! In-process nodes are started with `cairn_daemon::node::start` from
//! settings built in memory ([`fixture`]); nothing listens beyond 127.0.0.1.

pub mod audience;
pub mod burst;
pub mod catchup;
pub mod catchup_many;
pub mod fixture;
pub mod footprint;
pub mod hops;
pub mod ingest;
pub mod machine;
pub mod plain;
pub mod propagation;
pub mod query;
pub mod report;
pub mod sealing;
pub mod taxii;

use report::Report;
use std::time::Duration;

/// The scenarios, in the order `all` runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    Propagation,
    Burst,
    Catchup,
    Ingest,
    Footprint,
    Audience,
    Taxii,
    Query,
    All,
}

impl Scenario {
    /// The scenarios this one stands for (`all` expands to every one).
    pub fn expand(self) -> Vec<Scenario> {
        match self {
            Scenario::All => vec![
                Scenario::Propagation,
                Scenario::Burst,
                Scenario::Catchup,
                Scenario::Ingest,
                Scenario::Footprint,
                Scenario::Audience,
                Scenario::Taxii,
                Scenario::Query,
            ],
            s => vec![s],
        }
    }

    /// The scenario's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Propagation => "propagation",
            Scenario::Burst => "burst",
            Scenario::Catchup => "catchup",
            Scenario::Ingest => "ingest",
            Scenario::Footprint => "footprint",
            Scenario::Audience => "audience",
            Scenario::Taxii => "taxii",
            Scenario::Query => "query",
            Scenario::All => "all",
        }
    }
}

/// Options shared by the scenarios.
#[derive(Debug, Clone)]
pub struct Options {
    /// Items held by the full node in `catchup` and `footprint`.
    pub items: usize,
    /// Total publish rates swept by `burst`, msg/s.
    pub rates: Vec<u32>,
    /// Items in the store `query` searches.
    pub query_items: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            items: 100_000,
            rates: burst::RATES.to_vec(),
            query_items: query::ITEMS,
        }
    }
}

/// Hard limit for one scenario; each also bounds its own waits.
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(300);
/// `taxii` waits on medallion, whose memory backend matches objects to
/// its manifest pairwise: minutes for 10,000 objects (bounded in
/// [`taxii`] itself).
pub const TAXII_LIMIT: Duration = Duration::from_secs(900);
/// `query` signs and stores a million items first.
pub const QUERY_LIMIT: Duration = Duration::from_secs(3_600);

impl Scenario {
    /// Hard limit for this scenario.
    pub fn limit(self) -> Duration {
        match self {
            Scenario::Taxii => TAXII_LIMIT,
            Scenario::Query => QUERY_LIMIT,
            _ => SCENARIO_LIMIT,
        }
    }
}

/// Runs one scenario (not `all`) within its [`Scenario::limit`].
pub async fn run(scenario: Scenario, options: &Options) -> anyhow::Result<Report> {
    let started = std::time::Instant::now();
    let work = async {
        match scenario {
            Scenario::Propagation => propagation::run().await,
            Scenario::Burst => burst::run(&options.rates).await,
            Scenario::Catchup => catchup::run(options.items).await,
            Scenario::Ingest => ingest::run().await,
            Scenario::Footprint => footprint::run(options.items).await,
            Scenario::Audience => audience::run().await,
            Scenario::Taxii => taxii::run().await,
            Scenario::Query => query::run(options.query_items).await,
            Scenario::All => anyhow::bail!("`all` is expanded by the caller"),
        }
    };
    let mut report = tokio::time::timeout(scenario.limit(), work)
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "{} did not finish within {} s",
                scenario.name(),
                scenario.limit().as_secs()
            )
        })??;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Progress for the operator, on stderr so `--json` output stays clean.
pub fn progress(message: impl AsRef<str>) {
    eprintln!("  .. {}", message.as_ref());
}
