//! How a failure leaves the binary: one `error: ...` line on stderr and a
//! non-zero exit, whether it came from argument parsing, a file, the node or
//! the network, so scripts and people can both rely on the shape.

use std::io::ErrorKind;
use std::process::ExitCode;

/// Exit code for a failed command.
pub const FAILED: u8 = 1;
/// Exit code for a command line that does not parse (clap's convention).
pub const USAGE: u8 = 2;

/// Prints `err` and its causes on one line; returns the exit code. A closed
/// stdout (`cairn items list | head`) is not a failure.
pub fn report(err: &anyhow::Error) -> ExitCode {
    let broken_pipe = err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    eprintln!("error: {}", one_line(&chain(err)));
    ExitCode::from(FAILED)
}

/// The error and its causes joined by `: `, like `{err:#}`, but skipping a
/// cause whose text the message already carries (many errors print their
/// source themselves and also return it from `source()`).
fn chain(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let s = cause.to_string();
        if text.contains(&s) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&s);
    }
    text
}

/// Prints a clap usage error as one line; help and version requests are
/// printed as clap formats them.
pub fn report_usage(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as K;
    match err.kind() {
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand => {
            let code = err.exit_code();
            let _ = err.print();
            ExitCode::from(u8::try_from(code).unwrap_or(FAILED))
        }
        _ => {
            eprintln!("error: {}", usage_line(&err.render().to_string()));
            ExitCode::from(USAGE)
        }
    }
}

/// Clap's multi-line report without its `error:` prefix, usage block and
/// help hint, folded onto one line, with a pointer to `--help`.
fn usage_line(rendered: &str) -> String {
    let kept: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .collect();
    let text = kept.join(" ");
    let text = text.strip_prefix("error:").unwrap_or(&text).trim();
    format!("{text} (see --help)")
}

/// Any text folded onto one line.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_reports_fold_onto_one_line() {
        let rendered = "error: the following required arguments were not provided:\n  --out <FILE>\n\nUsage: cairn key gen --out <FILE>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_line(rendered),
            "the following required arguments were not provided: --out <FILE> (see --help)"
        );
    }

    #[test]
    fn causes_already_in_the_message_are_not_repeated() {
        let io = std::io::Error::new(ErrorKind::NotFound, "No such file");
        let err = anyhow::Error::new(std::io::Error::other(format!("cannot read k: {io}")))
            .context("bad key");
        assert_eq!(chain(&err), "bad key: cannot read k: No such file");
        let err = anyhow::Error::new(io).context("cannot read k");
        assert_eq!(chain(&err), "cannot read k: No such file");
    }

    #[test]
    fn multi_line_messages_fold_too() {
        assert_eq!(
            one_line("node says:\n  disk full\n"),
            "node says: disk full"
        );
    }
}
