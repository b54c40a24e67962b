//! Warning the operator before the node's certificate expires: an expired
//! certificate silently cuts the node off from the community, so the status
//! and the log say so well before, while there is time to renew.

use cairn_protocol::{Certificate, Timestamp};
use std::time::Duration;

/// How long before expiry warnings start.
pub const WARN_BEFORE_DAYS: u64 = 14;

/// How often the running node checks again.
pub const CHECK_EVERY: Duration = Duration::from_secs(3600);

/// The warning due for `certificate` at `now`, if any.
pub fn warning(certificate: &Certificate, now: Timestamp) -> Option<String> {
    let not_after = certificate.body.not_after;
    if now > not_after {
        return Some(format!(
            "this node's certificate expired at {}: members refuse it; ask the issuer for a renewal (`cairn cert renew`) and install it (`cairn cert install`)",
            not_after.to_rfc3339()
        ));
    }
    let left_ms = not_after.millis() - now.millis();
    let days = left_ms / cairn_protocol::time::DAY_MS;
    if days < WARN_BEFORE_DAYS {
        return Some(format!(
            "this node's certificate expires at {} (in {days} days, {} hours): ask the issuer for a renewal (`cairn cert renew`) and install it (`cairn cert install`)",
            not_after.to_rfc3339(),
            left_ms / 3_600_000
        ));
    }
    None
}

/// Logs the warning now and every [`CHECK_EVERY`] until `shutdown`.
pub async fn watch(
    ctx: std::sync::Arc<crate::context::Context>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(CHECK_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Some(w) = warning(&ctx.certificate(), Timestamp::now()) {
                    tracing::warn!("{w}");
                }
            }
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Fixture;

    #[test]
    fn warns_two_weeks_ahead_and_after_expiry_only() {
        let f = Fixture::new();
        let (_, cert) = f.certificate("hospital"); // valid for 30 days
        let now = Timestamp::now();
        assert_eq!(warning(&cert, now), None);
        let soon = cert
            .body
            .not_after
            .minus_millis(3 * cairn_protocol::time::DAY_MS);
        let w = warning(&cert, soon).unwrap();
        assert!(
            w.contains("in 3 days") && w.contains("cairn cert renew"),
            "{w}"
        );
        let late = cert.body.not_after.plus_millis(1);
        assert!(warning(&cert, late).unwrap().contains("expired"));
    }
}
