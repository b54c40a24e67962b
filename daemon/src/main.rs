//! `cairnd`: run a Cairn node, or a whole demo community.

use anyhow::Context as _;
use cairn_daemon::{config::Config, demo, node};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's allocator: a node's many threads allocate
/// and free small buffers for every message, and glibc's arenas spent about
/// a tenth of all CPU in the burst bench on it (its `unlink_chunk` and
/// `malloc_consolidate` among the top entries); with mimalloc the same run
/// delivers more and converges sooner.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "cairnd",
    version,
    about = "Cairn node: NIS2 Art. 29 cybersecurity information sharing"
)]
struct Cli {
    /// Log lines as `text` (coloured only on a terminal) or `json`, one
    /// object per line, for log shippers
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node from its configuration file.
    Run {
        #[arg(
            long,
            short,
            value_name = "FILE",
            default_value = "/etc/cairn/cairn.toml"
        )]
        config: PathBuf,
    },
    /// Check a configuration file and the key, certificate and community it names.
    Check {
        #[arg(
            long,
            short,
            value_name = "FILE",
            default_value = "/etc/cairn/cairn.toml"
        )]
        config: PathBuf,
    },
    /// Start a demo community (issuer, authority, three entities) on 127.0.0.1.
    Demo {
        /// Keep the community running after the demo for the CLI to use.
        #[arg(long)]
        keep: bool,
        /// Write the demo's files here instead of a temporary directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

fn init_logging(default: &str, format: LogFormat) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_env("CAIRN_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        // Colour codes are noise in a file or in journald.
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

async fn run(config: PathBuf) -> anyhow::Result<()> {
    let settings = Config::load(&config)?.settings()?;
    let node = node::start(settings).await?;
    for a in node.listen_addrs().await {
        tracing::info!("reachable at {a}");
    }
    tracing::info!(socket = %node.control_socket.display(), "control socket ready");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("stopping");
    node.stop().await;
    Ok(())
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { config } => {
            init_logging("info,libp2p_gossipsub=warn", cli.log_format);
            run(config.clone())
                .await
                .with_context(|| format!("cairnd with {}", config.display()))
        }
        Command::Check { config } => {
            init_logging("warn", cli.log_format);
            Config::load(&config)
                .and_then(|c| c.settings())
                .map(|s| {
                    println!(
                        "{}: OK: {} in community \"{}\", certificate valid until {}",
                        config.display(),
                        s.certificate.body.subject.display_name(),
                        s.community.name,
                        s.certificate.body.not_after
                    )
                })
                .map_err(Into::into)
        }
        Command::Demo { keep, dir } => {
            init_logging("warn", cli.log_format);
            demo::run(keep, dir).await
        }
    };
    if let Err(e) = result {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
    }
}

/// The error and its causes on one line, skipping a cause whose text an
/// outer message already carries (many errors print their source too).
fn one_line(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if text.contains(&s) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&s);
    }
    text.replace('\n', " ")
}
