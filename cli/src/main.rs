//! `cairn`: the operator's command line for a Cairn node.
//!
//! Issuer commands (`key`, `community`, `cert`) work offline on files; every
//! other command asks the local `cairnd` over its control socket. This file
//! sends each command of the tree (`command_tree.rs`) to the module that
//! does it.

mod cert;
mod client;
mod command_tree;
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
use clap::CommandFactory;
use command_tree::{Cli, Command, RevocationCommand, StoreCommand};
use std::io::Write;
use std::process::ExitCode;

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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::path::PathBuf;

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
