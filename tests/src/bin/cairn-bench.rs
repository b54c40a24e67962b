//! `cairn-bench`: Cairn's performance against baselines measured in the same
//! run on the same machine. See `cairn_tests::bench` for the scenarios.
//!
//! ```text
//! cargo build --release -p cairn-daemon -p cairn-tests
//! cargo run --release -p cairn-tests --bin cairn-bench -- all
//! cargo run --release -p cairn-tests --bin cairn-bench -- catchup --items 20000 --json
//! ```

use cairn_tests::bench::machine::Machine;
use cairn_tests::bench::{self, Options, Scenario};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// The allocator `cairnd` uses, so the in-process nodes cost what real ones
/// do (the plain gossipsub baseline runs on it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "cairn-bench",
    about = "Benchmarks Cairn against baselines measured in the same run"
)]
struct Cli {
    /// What to measure.
    #[arg(value_enum, required_unless_present = "probe_store")]
    scenario: Option<Scenario>,
    /// Print one JSON object per scenario instead of tables.
    #[arg(long)]
    json: bool,
    /// Items held by the full node in `catchup` and `footprint`.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    items: u64,
    /// Total publish rates (msg/s) swept by `burst`, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = cairn_tests::bench::burst::RATES, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rates: Vec<u32>,
    /// Items in the store `query` searches.
    #[arg(long, default_value_t = cairn_tests::bench::query::ITEMS as u64, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    query_items: u64,
    /// Internal (footprint): report this process's memory while opening
    /// the item database at PATH, as one JSON line.
    #[arg(long, hide = true, value_name = "PATH")]
    probe_store: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The in-process nodes log nothing unless asked (e.g. CAIRN_LOG=debug).
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    if let Some(path) = &cli.probe_store {
        return match bench::footprint::probe_store(path) {
            Ok(v) => {
                println!("{v}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("store probe failed: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let Some(scenario) = cli.scenario else {
        return ExitCode::FAILURE;
    };
    let options = Options {
        items: cli.items as usize,
        rates: cli.rates.clone(),
        query_items: cli.query_items as usize,
    };
    let machine = Machine::read();
    if !cli.json {
        machine.print();
    }
    let mut failed = false;
    for scenario in scenario.expand() {
        eprintln!("running {} ...", scenario.name());
        match bench::run(scenario, &options).await {
            Ok(report) if cli.json => println!("{}", report.to_json(&machine)),
            Ok(report) => report.print(),
            Err(e) => {
                failed = true;
                if cli.json {
                    let v = serde_json::json!({
                        "scenario": scenario.name(),
                        "error": format!("{e:#}"),
                        "machine": machine,
                    });
                    println!("{v}");
                } else {
                    println!("\n== {}: FAILED: {e:#}", scenario.name());
                }
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
