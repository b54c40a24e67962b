//! `cairn`: the operator's command line for a Cairn node.
//!
//! Issuer commands (`key`, `community`, `cert`) work offline on files; every
//! other command asks the local `cairnd` over its control socket. This file
//! holds the command tree and sends each command to the module that does it.

mod cert;
mod client;
mod community;
mod csaf;
mod directory;
mod failure;
mod find;
mod http_user;
mod interop;
mod keys;
mod ledger;
mod locate;
mod misp;
mod misp_feed_user;
mod node;
mod payload;
mod pseudonym;
mod publish;
mod render;
mod revoke;
mod rfc3339;
mod store;
mod sync;
mod table;
mod taxii;

use anyhow::Result;
use cairn_protocol::control::ControlRequest;
use clap::{CommandFactory, Parser, Subcommand};
use client::Client;
use node::{ItemsCommand, Json, RegisterCommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Operate a Cairn node: NIS2 Art. 29 cybersecurity information sharing.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, after_help = locate::HELP)]
struct Cli {
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
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
enum StoreCommand {
    /// Read back every stored item now; damaged ones are taken out and
    /// fetched again from members (exits 1 when any was found)
    Check(Json),
}

#[derive(Debug, clap::Args)]
struct RevealArgs {
    /// The item, by id or by the short id `items list` shows
    #[arg(value_name = "ITEM")]
    item: String,
    /// Why: the case or legal basis (one line), kept in the register
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    out: Json,
}

#[derive(Debug, Subcommand)]
enum RevocationCommand {
    /// Enforce a revocation file (from `cairn cert revoke`) on the local node
    /// and spread it to the community
    Publish {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// Print a one-line status every second (catch-up progress included)
    #[arg(long)]
    watch: bool,
    #[command(flatten)]
    out: Json,
}

fn main() -> ExitCode {
    let cli = match Cli::parse_with_sources(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => return failure::report_usage(e),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match run(&cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failure::report(&e),
    }
}

fn run(cli: &Cli, out: &mut dyn Write) -> Result<()> {
    let node = || cli.client();
    match &cli.command {
        Command::Key(cmd) => keys::run(cmd, out),
        Command::Community(cmd) => community::run(cmd, out),
        Command::Cert(cmd) => cert::run(cmd, node, out),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "cairn", out);
            Ok(out.flush()?)
        }
        Command::Man { dir } => man(dir.as_deref(), out),
        Command::Revocation(RevocationCommand::Publish { file }) => {
            revoke::publish(&node()?, file, out)
        }
        Command::Status(a) if a.watch => sync::watch_status(&node()?, &a.out, out),
        Command::Status(a) => node::status(&node()?, &a.out, out),
        Command::Sync(o) => sync::run(&node()?, o, out),
        Command::Publish(a) => node::publish(&node()?, a, out),
        Command::Items(cmd) => node::items(&node()?, cmd, out),
        Command::Members(o) => node::members(&node()?, o, out),
        Command::Join(o) => node::participation(&node()?, ControlRequest::Join, o, out),
        Command::Withdraw(o) => node::participation(&node()?, ControlRequest::Withdraw, o, out),
        Command::Participation(o) => {
            node::participation(&node()?, ControlRequest::Participation, o, out)
        }
        Command::Register(cmd) => node::register(&node()?, cmd, out),
        Command::Store(StoreCommand::Check(o)) => store::check(&node()?, o, out),
        Command::Reveal(a) => node::reveal(&node()?, &a.item, &a.reason, &a.out, out),
        Command::Export(cmd) => interop::export(&node()?, cmd, out),
        Command::Import(cmd) => interop::import(&node()?, cmd, out),
        Command::Taxii(cmd) => taxii::run(cmd, out),
        Command::MispFeed(cmd) => misp_feed_user::run(cmd, out),
        Command::Web(cmd) => http_user::run("web", cmd, out),
        Command::Metrics(cmd) => http_user::run("metrics", cmd, out),
    }
}

/// cairn(1) to `out`, or every page (one per subcommand) into `dir`.
fn man(dir: Option<&std::path::Path>, out: &mut dyn Write) -> Result<()> {
    match dir {
        Some(dir) => {
            clap_mangen::generate_to(Cli::command(), dir).map_err(|e| {
                anyhow::anyhow!("cannot write the manual pages into {}: {e}", dir.display())
            })?;
            Ok(())
        }
        None => {
            clap_mangen::Man::new(Cli::command()).render(out)?;
            Ok(out.flush()?)
        }
    }
}

impl Cli {
    /// Parses `args`, noting for each node option whether it came from the
    /// command line or the environment (`locate` ranks them).
    fn parse_with_sources<I, T>(args: I) -> Result<Cli, clap::Error>
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
    fn located(&self) -> Result<locate::Located> {
        self.given.locate(
            std::path::Path::new(locate::DEFAULT_CONFIG),
            std::path::Path::new(locate::DEFAULT_DATA_DIR),
        )
    }

    /// A client of the local node.
    fn client(&self) -> Result<Client> {
        let l = self.located()?;
        Ok(Client::located(l.socket, l.origin))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    fn socket_of(args: &[&str]) -> PathBuf {
        Cli::parse_with_sources(args)
            .unwrap()
            .located()
            .unwrap()
            .socket
    }

    #[test]
    fn the_socket_is_found_from_socket_data_dir_or_config() {
        assert_eq!(
            socket_of(&["cairn", "--data-dir", "/srv/cairn", "status"]),
            PathBuf::from("/srv/cairn/cairnd.sock")
        );
        assert_eq!(
            socket_of(&["cairn", "status", "--socket", "/run/c.sock", "--json"]),
            PathBuf::from("/run/c.sock")
        );
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("cairn.toml");
        std::fs::write(&config, "data_dir = \"/srv/node\"\n").unwrap();
        let c = config.to_str().unwrap();
        assert_eq!(
            socket_of(&["cairn", "members", "--config", c]),
            PathBuf::from("/srv/node/cairnd.sock")
        );
        assert_eq!(
            socket_of(&["cairn", "--config", c, "--data-dir", "/d", "members"]),
            PathBuf::from("/d/cairnd.sock"),
            "--data-dir is more specific than --config"
        );
    }

    #[test]
    fn help_documents_where_the_node_is_looked_for() {
        let help = Cli::command().render_help().to_string();
        for needle in [
            "--config",
            "CAIRN_CONFIG",
            "/etc/cairn/cairn.toml",
            "the first that is set wins",
        ] {
            assert!(
                help.contains(needle),
                "{needle} missing from --help:\n{help}"
            );
        }
    }

    #[test]
    fn completions_and_the_man_page_come_from_the_command_tree() {
        let mut out = Vec::new();
        run(
            &Cli::parse_with_sources(["cairn", "completions", "bash"]).unwrap(),
            &mut out,
        )
        .unwrap();
        let bash = String::from_utf8(out).unwrap();
        assert!(
            bash.contains("complete -F") && bash.contains("payload"),
            "{bash}"
        );
        for shell in ["zsh", "fish"] {
            let mut out = Vec::new();
            run(
                &Cli::parse_with_sources(["cairn", "completions", shell]).unwrap(),
                &mut out,
            )
            .unwrap();
            assert!(
                String::from_utf8(out).unwrap().contains("payload"),
                "{shell}"
            );
        }
        let mut out = Vec::new();
        run(
            &Cli::parse_with_sources(["cairn", "man"]).unwrap(),
            &mut out,
        )
        .unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH cairn 1"),
            "{page}"
        );
        assert!(
            page.contains("completions") && page.contains("CAIRN_CONFIG"),
            "{page}"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        run(
            &Cli::parse_with_sources(["cairn", "man", "--dir", d]).unwrap(),
            &mut Vec::new(),
        )
        .unwrap();
        for page in [
            "cairn.1",
            "cairn-items.1",
            "cairn-items-payload.1",
            "cairn-cert-issue.1",
        ] {
            assert!(dir.path().join(page).is_file(), "{page} not written");
        }
    }

    #[test]
    fn a_listing_of_zero_items_is_refused_not_shown_as_empty() {
        let err = Cli::parse_with_sources(["cairn", "items", "list", "--limit", "0"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--limit"), "{err}");
        assert!(Cli::parse_with_sources(["cairn", "items", "list", "--limit", "1"]).is_ok());
    }

    #[test]
    fn vocabularies_reject_unknown_words_listing_the_valid_ones() {
        let base = [
            "cairn",
            "cert",
            "issue",
            "--community",
            "c",
            "--issuer-key",
            "k",
            "--member-key",
            "m",
            "--entity-name",
            "E",
            "--entity-type",
            "essential",
            "--member-state",
            "DE",
            "--out",
            "o",
        ];
        let with = |extra: &[&str]| {
            let mut v = base.to_vec();
            v.extend_from_slice(extra);
            Cli::parse_with_sources(v)
        };
        assert!(with(&["--sector", "health", "--roles", "publish,receive"]).is_ok());
        let err = with(&["--sector", "bakery", "--roles", "publish"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown sector 'bakery'") && err.contains("research"),
            "{err}"
        );
        let err = with(&["--sector", "health", "--roles", "publish,admin"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown role 'admin'"), "{err}");
        let err = with(&[
            "--sector",
            "health",
            "--roles",
            "publish",
            "--valid-days",
            "0",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("--valid-days"), "{err}");
    }
}
