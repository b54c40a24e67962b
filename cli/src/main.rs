//! `cairn`: the operator's command line for a Cairn node.
//!
//! Issuer commands (`key`, `community`, `cert`) work offline on files; every
//! other command asks the local `cairnd` over its control socket. This file
//! holds the command tree and sends each command to the module that does it.

mod cert;
mod client;
mod community;
mod failure;
mod interop;
mod keys;
mod node;
mod publish;
mod render;
mod revoke;
mod rfc3339;
mod sync;
mod table;
mod taxii;

use anyhow::Result;
use cairn_protocol::control::ControlRequest;
use clap::{Parser, Subcommand};
use client::Client;
use node::{ItemsCommand, Json, RegisterCommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Operate a Cairn node: NIS2 Art. 29 cybersecurity information sharing.
#[derive(Debug, Parser)]
#[command(name = "cairn", version)]
struct Cli {
    /// The node's data directory; its control socket is DIR/cairnd.sock
    #[arg(
        long,
        global = true,
        env = "CAIRN_DATA_DIR",
        default_value = "/var/lib/cairn",
        value_name = "DIR",
        help_heading = "Node options"
    )]
    data_dir: PathBuf,
    /// The node's control socket (overrides --data-dir)
    #[arg(
        long,
        global = true,
        env = "CAIRN_SOCKET",
        value_name = "PATH",
        help_heading = "Node options"
    )]
    socket: Option<PathBuf>,
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
    /// Export items in a format other tools read (STIX 2.1)
    #[command(subcommand)]
    Export(interop::ExportCommand),
    /// Import a STIX 2.1 bundle as items published by this node
    #[command(subcommand)]
    Import(interop::ImportCommand),
    /// The node's TAXII 2.1 server: users and their passwords (offline)
    #[command(subcommand)]
    Taxii(taxii::TaxiiCommand),
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
    let cli = match Cli::try_parse() {
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
    let node = || Client::new(cli.socket_path());
    match &cli.command {
        Command::Key(cmd) => keys::run(cmd, out),
        Command::Community(cmd) => community::run(cmd, out),
        Command::Cert(cmd) => cert::run(cmd, node, out),
        Command::Revocation(RevocationCommand::Publish { file }) => {
            revoke::publish(&node(), file, out)
        }
        Command::Status(a) if a.watch => sync::watch_status(&node(), &a.out, out),
        Command::Status(a) => node::status(&node(), &a.out, out),
        Command::Sync(o) => sync::run(&node(), o, out),
        Command::Publish(a) => node::publish(&node(), a, out),
        Command::Items(cmd) => node::items(&node(), cmd, out),
        Command::Members(o) => node::members(&node(), o, out),
        Command::Join(o) => node::participation(&node(), ControlRequest::Join, o, out),
        Command::Withdraw(o) => node::participation(&node(), ControlRequest::Withdraw, o, out),
        Command::Participation(o) => {
            node::participation(&node(), ControlRequest::Participation, o, out)
        }
        Command::Register(cmd) => node::register(&node(), cmd, out),
        Command::Export(cmd) => interop::export(&node(), cmd, out),
        Command::Import(cmd) => interop::import(&node(), cmd, out),
        Command::Taxii(cmd) => taxii::run(cmd, out),
    }
}

impl Cli {
    /// `--socket`, or the socket in the data directory.
    fn socket_path(&self) -> PathBuf {
        self.socket
            .clone()
            .unwrap_or_else(|| self.data_dir.join("cairnd.sock"))
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

    #[test]
    fn the_socket_defaults_to_the_data_dir() {
        let cli = Cli::try_parse_from(["cairn", "--data-dir", "/srv/cairn", "status"]).unwrap();
        assert_eq!(cli.socket_path(), PathBuf::from("/srv/cairn/cairnd.sock"));
        let cli =
            Cli::try_parse_from(["cairn", "status", "--socket", "/run/c.sock", "--json"]).unwrap();
        assert_eq!(cli.socket_path(), PathBuf::from("/run/c.sock"));
    }

    #[test]
    fn a_listing_of_zero_items_is_refused_not_shown_as_empty() {
        let err = Cli::try_parse_from(["cairn", "items", "list", "--limit", "0"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("--limit"), "{err}");
        assert!(Cli::try_parse_from(["cairn", "items", "list", "--limit", "1"]).is_ok());
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
            Cli::try_parse_from(v)
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
