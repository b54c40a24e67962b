//! The member side of Art. 29(4): create participation events, keep them in
//! the durable outbox, and deliver them to the authority until a valid
//! receipt comes back. Nothing is dropped: an event leaves the outbox only
//! with a receipt that verifies under the community's authority key.
//!
//! An event goes straight to the authority when it is connected (the fast
//! path); otherwise it is handed to the connected members, who pass it on
//! until it reaches the authority, and the receipt comes back the same way
//! (`notices`). Either way it is offered again until its receipt is here.

use crate::context::Context;
use crate::network::client::Client;
use crate::notices::delivery::Route;
use crate::notices::relay;
use cairn_protocol::wire::{Request, Response};
use cairn_protocol::{
    EventBody, EventId, Notice, ParticipationKind, Receipt, SignedEvent, Timestamp,
};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tracing::{info, info_span, warn, Instrument};

/// Whether `next` may follow the entity's last notification.
pub fn check_transition(
    last: Option<ParticipationKind>,
    next: ParticipationKind,
) -> Result<(), String> {
    use ParticipationKind::*;
    match (last, next) {
        (Some(Joined), Joined) => {
            Err("this entity has already joined; `cairn participation` shows the events".into())
        }
        (None | Some(WithdrawalEffective), WithdrawalEffective) => {
            Err("this entity has not joined, so there is nothing to withdraw from".into())
        }
        _ => Ok(()),
    }
}

/// Creates, signs and durably queues the next event of kind `kind`.
pub fn record(ctx: &Context, kind: ParticipationKind) -> Result<SignedEvent, String> {
    if ctx.authority.is_some() {
        return Err(
            "this is the authority node: it keeps the register and does not notify itself".into(),
        );
    }
    check_transition(ctx.outbox.last_kind(), kind)?;
    let now = Timestamp::now();
    // The authority would refuse it for good, and the outbox delivers in
    // order: an event that can never be registered must not be queued.
    let certificate = ctx.certificate();
    certificate
        .check_validity(now)
        .map_err(|e| format!("cannot notify the authority: this node's {e}"))?;
    let body = EventBody {
        community: ctx.community.id,
        kind,
        effective: now,
        certificate,
        sequence: ctx.outbox.next_sequence(),
    };
    let event = SignedEvent::sign(body, &ctx.key).map_err(|e| e.to_string())?;
    ctx.outbox
        .push(&event)
        .map_err(|e| format!("cannot record the event durably: {e}"))?;
    Ok(event)
}

/// Exponential backoff with jitter: 0.5 s doubling up to 30 s.
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    /// The delay before the next attempt; `jitter` in [0, 1) spreads retries
    /// of many members so a restarted authority is not hit all at once.
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let base = 500u64.saturating_mul(1 << self.attempt.min(6)).min(30_000);
        self.attempt = self.attempt.saturating_add(1);
        Duration::from_millis(base) + Duration::from_millis((base as f64 * 0.2 * jitter) as u64)
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    f64::from(nanos % 1000) / 1000.0
}

/// Longest wait between offers of an event handed to members: the receipt
/// normally comes back on its own; this only covers relays that forgot it.
const RELAY_RETRY: Duration = Duration::from_secs(5);

/// Verifies `receipt` for event `id` and records it in the outbox (fsync).
pub(crate) async fn record_receipt(
    ctx: &Context,
    id: EventId,
    receipt: Receipt,
) -> Result<(), String> {
    receipt
        .verify(&ctx.community, &id)
        .map_err(|e| format!("invalid receipt: {e}"))?;
    let outbox = ctx.outbox.clone();
    let index = receipt.body.register_index;
    tokio::task::spawn_blocking(move || outbox.acknowledge(&id, &receipt))
        .await
        .map_err(|e| format!("cannot record the receipt: {e}"))?
        .map_err(|e| format!("cannot record the receipt: {e}"))?;
    info!(index, "receipt received");
    Ok(())
}

/// How one attempt to deliver an event ended, short of a receipt.
enum Pending {
    /// Handed to members; the receipt comes back through them.
    Relayed,
    /// Not delivered (why, for the log).
    Failed(String),
}

/// Sends `event` straight to the authority and records the receipt it
/// answers with.
async fn send_direct(ctx: &Context, client: &Client, event: SignedEvent) -> Result<(), String> {
    let id = event.id();
    let authority = crate::network::peers::peer_id_of(&ctx.community.authority);
    match client
        .request(authority, Request::Participation { event })
        .await
    {
        Err(_) => Err("node stopping".to_string()),
        Ok(Err(e)) => Err(e),
        Ok(Ok(Response::Refused { reason })) => {
            Err(format!("the authority refused the event: {reason}"))
        }
        Ok(Ok(Response::Receipt { receipt })) => record_receipt(ctx, id, receipt).await,
        Ok(Ok(_)) => Err("the authority answered with something other than a receipt".into()),
    }
}

/// One attempt: straight to the authority if it is connected, else (or if
/// that failed) through every connected member. The route taken is noted
/// for the operator (`ctx.delivery`).
async fn send(ctx: &Arc<Context>, client: &Client, event: SignedEvent) -> Result<(), Pending> {
    let id = event.id();
    let now = Instant::now;
    let Ok(snapshot) = client.snapshot().await else {
        return Err(Pending::Failed("node stopping".into()));
    };
    let authority = crate::network::peers::peer_id_of(&ctx.community.authority);
    let members: Vec<_> = snapshot.members.iter().map(|(p, _)| *p).collect();
    if members.contains(&authority) {
        ctx.delivery.note(id, Route::Direct { why: None }, now());
        match send_direct(ctx, client, event.clone()).await {
            Ok(()) => {
                ctx.delivery.delivered(&id);
                return Ok(());
            }
            Err(why) => {
                ctx.delivery.note(
                    id,
                    Route::Direct {
                        why: Some(why.clone()),
                    },
                    now(),
                );
                if why.starts_with("the authority refused") {
                    return Err(Pending::Failed(why));
                }
                // The link may just have dropped: try the members too.
            }
        }
    }
    let relays: Vec<_> = members.into_iter().filter(|p| *p != authority).collect();
    if relays.is_empty() {
        ctx.delivery.note(id, Route::NoMember, now());
        return Err(Pending::Failed(
            "neither the authority nor any member is connected".into(),
        ));
    }
    let sent = relay::send_to(ctx, client, &Notice::Event { event }, &relays).await;
    if sent.receipt.is_some() || !ctx.outbox.pending().iter().any(|e| e.id() == id) {
        ctx.delivery.delivered(&id);
        return Ok(());
    }
    if let Some(reason) = sent.refused.filter(|_| sent.accepted == 0) {
        ctx.delivery.note(
            id,
            Route::Refused {
                reason: reason.clone(),
            },
            now(),
        );
        return Err(Pending::Failed(format!("refused: {reason}")));
    }
    if sent.accepted == 0 {
        ctx.delivery.note(id, Route::NoMember, now());
        return Err(Pending::Failed(format!(
            "no member took it ({} requests failed)",
            sent.failed
        )));
    }
    ctx.delivery.note(
        id,
        Route::ViaMembers {
            members: sent.accepted,
        },
        now(),
    );
    Err(Pending::Relayed)
}

/// Delivers queued events in order until shut down. `wake` is notified when
/// a new event is queued or the authority connects.
///
/// A registered withdrawal is also a revocation that carries its receipt
/// (`Revocation::Withdrawal`). A withdrawn node whose receipt was lost can
/// no longer connect to ask again, but learns that revocation (from the
/// refusal of its connections, or any other way): the outbox then takes
/// the receipt from it. So the loop also wakes when a revocation arrives.
pub async fn deliver(
    ctx: Arc<Context>,
    client: Client,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    let mut revocations = ctx.revocations.watch();
    loop {
        let pending = ctx.outbox.pending();
        let mut failed = false;
        let mut relayed = false;
        for event in pending {
            let id = event.id();
            let span = info_span!("participation", event = %id, kind = %event.body.kind);
            let outcome = match ctx.revocations.withdrawal_receipt(&id) {
                Some(receipt) => {
                    info!(parent: &span, "the receipt came with the withdrawal's revocation");
                    record_receipt(&ctx, id, receipt).instrument(span).await
                }
                None => send(&ctx, &client, event)
                    .instrument(span)
                    .await
                    .map_err(|p| match p {
                        Pending::Relayed => {
                            info!(event = %id, "participation sent via members: no connection to the authority; waiting for the receipt");
                            relayed = true;
                            String::new()
                        }
                        Pending::Failed(e) => e,
                    }),
            };
            if let Err(e) = outcome {
                if !relayed {
                    warn!(event = %id, "participation not yet delivered: {e}");
                }
                failed = true;
                break;
            }
        }
        let delay = if relayed {
            backoff.next_delay(jitter()).min(RELAY_RETRY)
        } else if failed {
            backoff.next_delay(jitter())
        } else {
            backoff.reset();
            Duration::from_secs(3600)
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = wake.notified() => {}
            Ok(()) = revocations.changed(), if failed => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ParticipationKind::*;

    #[test]
    fn transitions_follow_join_then_withdraw() {
        assert!(check_transition(None, Joined).is_ok());
        assert!(check_transition(Some(Joined), WithdrawalEffective).is_ok());
        assert!(check_transition(Some(WithdrawalEffective), Joined).is_ok());
        assert!(check_transition(Some(Joined), Joined).is_err());
        assert!(check_transition(None, WithdrawalEffective).is_err());
        assert!(check_transition(Some(WithdrawalEffective), WithdrawalEffective).is_err());
    }

    #[test]
    fn backoff_grows_caps_and_resets() {
        let mut b = Backoff::default();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(500));
        assert_eq!(b.next_delay(0.0), Duration::from_millis(1000));
        for _ in 0..20 {
            b.next_delay(0.0);
        }
        assert_eq!(b.next_delay(0.0), Duration::from_millis(30_000));
        assert!(b.next_delay(0.99) <= Duration::from_millis(36_000));
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(500));
    }
}
