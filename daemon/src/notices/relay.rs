//! Passing notices on. A node checks every notice it is given (the
//! member's or the authority's signature), keeps it in its pool and floods
//! it once to every other connected member; on the authority the event is
//! registered and its receipt flooded back. Members admitted later get
//! everything the pool holds (`push_held`), so a notice waits for a link,
//! never for a lucky one.

use super::pool::EventOffer;
use crate::authority::Authority;
use crate::context::Context;
use crate::network::client::Client;
use cairn_protocol::wire::{Request, Response};
use cairn_protocol::{Notice, ParticipationKind, Receipt, Revocation, SignedEvent, Timestamp};
use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use libp2p::PeerId;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// Time a withdrawn member's receipt has to reach it before the revocation
/// its withdrawal amounts to closes its connections.
pub const WITHDRAWAL_GRACE: Duration = Duration::from_secs(1);

/// What became of a notice sent to some members.
#[derive(Debug, Default)]
pub struct Sent {
    /// Members that took it (to pass on, or already holding it).
    pub accepted: usize,
    /// A receipt that came back in an answer (checked, already taken).
    pub receipt: Option<Receipt>,
    /// A refusal, if one came (the authority's, or a relay's check).
    pub refused: Option<String>,
    /// Requests that failed (the member went away).
    pub failed: usize,
}

/// On the authority: registers `event` (idempotent: a retry or a copy by
/// another path gets the same entry and receipt) and returns the answer,
/// with the revocation a registered withdrawal amounts to.
pub async fn register(
    authority: &Arc<Authority>,
    event: SignedEvent,
) -> (Response, Option<Revocation>) {
    let withdrawal =
        (event.body.kind == ParticipationKind::WithdrawalEffective).then(|| event.clone());
    let response = authority.clone().handle(event).await;
    let revocation = match (withdrawal, &response) {
        (Some(event), Response::Receipt { receipt }) => {
            Some(Revocation::from_withdrawal(event, receipt.clone()))
        }
        _ => None,
    };
    (response, revocation)
}

/// A registered withdrawal ends the member's access: the member's event
/// and the receipt revoke its key. The receipt goes first, with a moment
/// to reach the member before its connections close.
pub async fn spread_withdrawal(ctx: Arc<Context>, client: Client, revocation: Revocation) {
    tokio::time::sleep(WITHDRAWAL_GRACE).await;
    if let Err(e) = crate::revocations::enforce_and_spread(&ctx, &client, revocation).await {
        warn!("withdrawal registered but not spread as a revocation: {e}");
    }
}

/// Handles a notice member `from` sent; the answer goes back to it.
pub async fn on_notice(
    ctx: Arc<Context>,
    client: Client,
    from: PeerId,
    notice: Notice,
) -> Response {
    let event = notice.event_id();
    if let Err(e) = notice.check(&ctx.community, Timestamp::now()) {
        warn!(peer = %from, %event, "notice refused: {e}");
        return Response::Refused {
            reason: e.to_string(),
        };
    }
    match notice {
        Notice::Event { event } => on_event(ctx, client, from, event).await,
        Notice::Receipt { receipt } => {
            on_receipt(&ctx, &client, Some(from), receipt).await;
            Response::Accepted
        }
    }
}

async fn on_event(ctx: Arc<Context>, client: Client, from: PeerId, event: SignedEvent) -> Response {
    let id = event.id();
    if let Some(authority) = ctx.authority.clone() {
        let (response, revocation) = register(&authority, event).await;
        if let Response::Receipt { receipt } = &response {
            debug!(peer = %from, event = %id, "event registered from a relayed notice");
            // Back by every path, not only the one the event came by.
            if ctx.notices.offer_receipt(receipt, Instant::now()) {
                let notice = Notice::Receipt {
                    receipt: receipt.clone(),
                };
                tokio::spawn(flood(ctx.clone(), client.clone(), notice, Some(from)));
            }
        }
        if let Some(revocation) = revocation {
            tokio::spawn(spread_withdrawal(ctx, client, revocation));
        }
        return response;
    }
    match ctx.notices.offer_event(&event, Instant::now()) {
        EventOffer::Registered(receipt) => Response::Receipt { receipt },
        EventOffer::Known => Response::Accepted,
        EventOffer::New => {
            info!(peer = %from, event = %id, kind = %event.body.kind, "passing a member's participation event on");
            tokio::spawn(flood(ctx, client, Notice::Event { event }, Some(from)));
            Response::Accepted
        }
    }
}

/// Takes a checked receipt: records it if it acknowledges one of this
/// node's own events, and passes it on once.
pub async fn on_receipt(
    ctx: &Arc<Context>,
    client: &Client,
    from: Option<PeerId>,
    receipt: Receipt,
) {
    let id = receipt.body.event;
    if ctx.outbox.pending().iter().any(|e| e.id() == id) {
        match crate::participation::record_receipt(ctx, id, receipt.clone()).await {
            Ok(()) => {
                info!(event = %id, peer = ?from, "receipt came back through members");
                ctx.delivery.delivered(&id);
                ctx.participation_wake.notify_one();
            }
            Err(e) => warn!(event = %id, "receipt not recorded: {e}"),
        }
    }
    if ctx.notices.offer_receipt(&receipt, Instant::now()) {
        tokio::spawn(flood(
            ctx.clone(),
            client.clone(),
            Notice::Receipt { receipt },
            from,
        ));
    }
}

/// Sends `notice` to every connected member but `except`. Boxed: a receipt
/// in an answer is passed on by another flood.
pub fn flood(
    ctx: Arc<Context>,
    client: Client,
    notice: Notice,
    except: Option<PeerId>,
) -> BoxFuture<'static, ()> {
    async move {
        let Ok(snapshot) = client.snapshot().await else {
            return;
        };
        let peers: Vec<PeerId> = snapshot
            .members
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| Some(*p) != except)
            .collect();
        let sent = send_to(&ctx, &client, &notice, &peers).await;
        debug!(event = %notice.event_id(), ?sent, "notice passed on");
    }
    .boxed()
}

/// Everything the pool holds, to a member just admitted.
pub async fn push_held(ctx: Arc<Context>, client: Client, peer: PeerId) {
    for notice in ctx.notices.held(Instant::now()) {
        send_to(&ctx, &client, &notice, &[peer]).await;
    }
}

/// Sends `notice` to each of `peers` at once. A receipt in any answer is
/// checked against the event and taken as if sent as a notice.
pub async fn send_to(
    ctx: &Arc<Context>,
    client: &Client,
    notice: &Notice,
    peers: &[PeerId],
) -> Sent {
    let event = notice.event_id();
    let answers = join_all(peers.iter().map(|&peer| {
        let request = Request::Notice {
            notice: notice.clone(),
        };
        async move { (peer, client.request(peer, request).await) }
    }))
    .await;
    let mut sent = Sent::default();
    for (peer, answer) in answers {
        match answer {
            Err(_) => return sent, // stopping
            Ok(Err(e)) => {
                debug!(%peer, %event, "notice not delivered to a member: {e}");
                sent.failed += 1;
            }
            Ok(Ok(Response::Accepted)) => sent.accepted += 1,
            Ok(Ok(Response::Receipt { receipt })) => {
                sent.accepted += 1;
                match receipt.verify(&ctx.community, &event) {
                    Ok(()) => {
                        on_receipt(ctx, client, Some(peer), receipt.clone()).await;
                        sent.receipt = Some(receipt);
                    }
                    Err(e) => {
                        warn!(%peer, %event, "a member answered with an invalid receipt: {e}")
                    }
                }
            }
            Ok(Ok(Response::Refused { reason })) => {
                debug!(%peer, %event, "notice refused: {reason}");
                sent.refused = Some(reason);
            }
            Ok(Ok(_)) => debug!(%peer, %event, "unexpected answer to a notice"),
        }
    }
    sent
}
