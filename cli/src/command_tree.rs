//! The command tree of `cairn`: every subcommand, its arguments and help
//! text (the source of `--help`, the completions and the manual pages), and
//! how the node options (`--config`, `--data-dir`, `--socket`) find the
//! node. `main.rs` sends each command to the module that does it.

use crate::client::Client;
use crate::node::{ItemsCommand, Json, RegisterCommand};
use crate::{cert, community, http_user, interop, keys, locate, misp_feed_user, publish, taxii};
use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

/// Operate a Cairn node: NIS2 Art. 29 cybersecurity information sharing.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, after_help = locate::HELP)]
pub(crate) struct Cli {
    /// The node's config (its cairn.toml): talk to the node it configures
    #[arg(
        long,
        global = true,
        env = "CAIRN_CONFIG",
        value_name = "FILE",
        help_heading = "Node options"
    )]
    config: Option<PathBuf>,
    /// The node's data directory; its control socket is DIR/cairnd.sock
    #[arg(
        long,
        global = true,
        env = "CAIRN_DATA_DIR",
        value_name = "DIR",
        help_heading = "Node options"
    )]
    data_dir: Option<PathBuf>,
    /// The node's control socket
    #[arg(
        long,
        global = true,
        env = "CAIRN_SOCKET",
        value_name = "PATH",
        help_heading = "Node options"
    )]
    socket: Option<PathBuf>,
    /// Where each of the node options above came from (flag or environment).
    #[arg(skip)]
    given: locate::Given,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Secret key files (offline)
    #[command(subcommand)]
    Key(keys::KeyCommand),
    /// Community definitions (offline, issuer)
    #[command(subcommand)]
    Community(community::CommunityCommand),
    /// Membership certificates (offline, issuer)
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// The node's identity, community and connections
    Status(StatusArgs),
    /// Reconcile with every connected member now, showing catch-up progress
    Sync(Json),
    /// Share an item with the community
    Publish(publish::PublishArgs),
    /// Items this node holds
    #[command(subcommand)]
    Items(ItemsCommand),
    /// Members this node knows of (revoked ones marked)
    Members(Json),
    /// Revocations: hand one to the local node, which enforces and spreads it
    #[command(subcommand)]
    Revocation(RevocationCommand),
    /// Notify the competent authority that this entity joined (Art. 29(4))
    Join(Json),
    /// Notify the competent authority that this entity's withdrawal took effect (Art. 29(4))
    Withdraw(Json),
    /// This node's participation events and the authority's receipts
    Participation(Json),
    /// The participation register (competent authority nodes)
    #[command(subcommand)]
    Register(RegisterCommand),
    /// The node's item store
    #[command(subcommand)]
    Store(StoreCommand),
    /// Print a shell completion script (offline)
    ///
    /// bash: `cairn completions bash > /etc/bash_completion.d/cairn`;
    /// zsh: `cairn completions zsh > "${fpath[1]}/_cairn"`;
    /// fish: `cairn completions fish > ~/.config/fish/completions/cairn.fish`.
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page cairn(1) as roff (offline)
    ///
    /// `cairn man | man -l -` reads it; `cairn man --dir DIR` writes
    /// cairn.1 and one page per subcommand (cairn-items-payload.1, ...) for
    /// packaging.
    Man {
        /// Write every page into DIR instead of cairn(1) to stdout
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Name the entity behind a pseudonymous item (the competent authority's
    /// node only); the reveal is recorded in its register first
    Reveal(RevealArgs),
    /// Export items in a format other tools read (STIX 2.1, MISP feed, CSAF
    /// 2.0)
    #[command(subcommand)]
    Export(interop::ExportCommand),
    /// Import a STIX 2.1 bundle or a MISP feed as items published by this
    /// node
    #[command(subcommand)]
    Import(interop::ImportCommand),
    /// The node's TAXII 2.1 server: users and their passwords (offline)
    #[command(subcommand)]
    Taxii(taxii::TaxiiCommand),
    /// The node's MISP feed server: readers and their passwords (offline)
    #[command(subcommand)]
    MispFeed(misp_feed_user::MispFeedCommand),
    /// The node's web view: users and their passwords (offline)
    #[command(subcommand)]
    Web(http_user::UserCommand),
    /// The node's Prometheus metrics server: users and their passwords (offline)
    #[command(subcommand)]
    Metrics(http_user::UserCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum StoreCommand {
    /// Read back every stored item now; damaged ones are taken out and
    /// fetched again from members (exits 1 when any was found)
    Check(Json),
}

#[derive(Debug, clap::Args)]
pub(crate) struct RevealArgs {
    /// The item, by id or by the short id `items list` shows
    #[arg(value_name = "ITEM")]
    pub(crate) item: String,
    /// Why: the case or legal basis (one line), kept in the register
    #[arg(long)]
    pub(crate) reason: String,
    #[command(flatten)]
    pub(crate) out: Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RevocationCommand {
    /// Enforce a revocation file (from `cairn cert revoke`) on the local node
    /// and spread it to the community
    Publish {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// Print a one-line status every second (catch-up progress included)
    #[arg(long)]
    pub(crate) watch: bool,
    #[command(flatten)]
    pub(crate) out: Json,
}

impl Cli {
    /// Parses `args`, noting for each node option whether it came from the
    /// command line or the environment (`locate` ranks them).
    pub(crate) fn parse_with_sources<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::parser::ValueSource;
        use clap::FromArgMatches;
        let matches = Cli::command().try_get_matches_from(args)?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        let source = |id: &str| match matches.value_source(id) {
            Some(ValueSource::EnvVariable) => locate::Source::Env,
            _ => locate::Source::Flag,
        };
        cli.given = locate::Given {
            socket: cli.socket.clone().map(|p| (p, source("socket"))),
            data_dir: cli.data_dir.clone().map(|p| (p, source("data_dir"))),
            config: cli.config.clone().map(|p| (p, source("config"))),
        };
        Ok(cli)
    }

    /// The local node's control socket and how it was found.
    pub(crate) fn located(&self) -> Result<locate::Located> {
        self.given.locate(
            std::path::Path::new(locate::DEFAULT_CONFIG),
            std::path::Path::new(locate::DEFAULT_DATA_DIR),
        )
    }

    /// A client of the local node.
    pub(crate) fn client(&self) -> Result<Client> {
        let l = self.located()?;
        Ok(Client::located(l.socket, l.origin))
    }
}
