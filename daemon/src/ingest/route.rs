//! Where the ingest worker's results go, in two steps: as soon as a batch is
//! verified, the gossip verdicts (so gossipsub relays a valid item without
//! waiting for this node's disk) and the checks its own publisher waits on
//! (so its item goes to gossip while the fsync runs); once the batch is
//! stored, each caller's final results.

use super::worker::{ItemResult, Refusal, Verdict};
use crate::network::peers::peer_public_key;
use cairn_protocol::{Certificate, EncodedItem};
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use libp2p::PeerId;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

/// Where each item of a batch came from, to route its result.
pub(super) enum Origin {
    Gossip {
        message_id: MessageId,
        source: PeerId,
    },
    Caller(usize),
}

/// A caller that submitted items directly.
pub(super) struct Caller {
    pub reply: oneshot::Sender<Vec<ItemResult>>,
    /// Told the checks before storing, when it asked.
    pub checked: Option<oneshot::Sender<Vec<Result<(), Refusal>>>>,
    pub count: usize,
}

/// Items verified and stored together.
pub(super) struct Batch {
    pub items: Vec<(EncodedItem, Certificate)>,
    pub origins: Vec<Origin>,
    pub undecodable: Vec<Verdict>,
    pub callers: Vec<Caller>,
    pub durable: bool,
}

/// The gossipsub verdict for a gossiped item whose check is `check`, and
/// whether it counts against `source` (towards a ban). Depends on the check
/// only: a valid item is relayed whether or not this node then manages to
/// store it (its peers verify it themselves).
pub(super) fn verdict(
    check: &Result<(), Refusal>,
    source: &PeerId,
    certificate: &Certificate,
) -> (MessageAcceptance, bool) {
    match check {
        Ok(()) => (MessageAcceptance::Accept, false),
        Err(Refusal::NotStored(_)) | Err(Refusal::RateLimited) => {
            (MessageAcceptance::Ignore, false)
        }
        Err(Refusal::Invalid(_)) => {
            // The publisher's own node sent it: nobody else to blame. (Items
            // are not relayed by an honest node unless they verified there.)
            let own = peer_public_key(source) == Some(certificate.body.member_key);
            (MessageAcceptance::Reject, own)
        }
    }
}

/// Right after verification: every gossip verdict, and the checks to the
/// callers that asked for them.
pub(super) async fn early(
    batch: &mut Batch,
    checks: &[Result<(), Refusal>],
    verdicts: &mpsc::Sender<Verdict>,
) {
    let mut out = std::mem::take(&mut batch.undecodable);
    let mut per_caller: Vec<Vec<Result<(), Refusal>>> =
        batch.callers.iter().map(|_| Vec::new()).collect();
    for ((origin, check), (_, certificate)) in batch.origins.iter().zip(checks).zip(&batch.items) {
        match origin {
            Origin::Gossip { message_id, source } => {
                if let Err(e) = check {
                    warn!(peer = %source, "gossip rejected: {e}");
                }
                let (acceptance, strike) = verdict(check, source, certificate);
                out.push(Verdict {
                    message_id: message_id.clone(),
                    source: *source,
                    acceptance,
                    strike,
                    queued: true,
                });
            }
            Origin::Caller(i) => per_caller[*i].push(check.clone()),
        }
    }
    for (caller, checks) in batch.callers.iter_mut().zip(per_caller) {
        if let Some(tell) = caller.checked.take() {
            let _ = tell.send(checks);
        }
    }
    for v in out {
        if verdicts.send(v).await.is_err() {
            debug!("network task gone; verdict dropped");
        }
    }
}

/// Once stored: each caller's results, in the order it submitted them.
pub(super) fn reply(batch: Batch, results: Vec<ItemResult>) {
    let mut per_caller: Vec<Vec<ItemResult>> = batch
        .callers
        .iter()
        .map(|c| Vec::with_capacity(c.count))
        .collect();
    for (origin, result) in batch.origins.into_iter().zip(results) {
        if let Origin::Caller(i) = origin {
            per_caller[i].push(result);
        }
    }
    for (caller, results) in batch.callers.into_iter().zip(per_caller) {
        let _ = caller.reply.send(results);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Fixture;

    #[tokio::test]
    async fn verdicts_and_checks_go_out_before_anything_is_stored() {
        let f = Fixture::new();
        let encoded = |title: &str| {
            let (item, cert) = f.item("hospital", title);
            (EncodedItem::new(item).unwrap(), cert)
        };
        let (checked_tx, checked_rx) = oneshot::channel();
        let (reply_tx, mut reply_rx) = oneshot::channel();
        let source = PeerId::random();
        let mut batch = Batch {
            items: vec![encoded("gossiped"), encoded("forged"), encoded("own")],
            origins: vec![
                Origin::Gossip {
                    message_id: MessageId::new(b"a"),
                    source,
                },
                Origin::Gossip {
                    message_id: MessageId::new(b"b"),
                    source,
                },
                Origin::Caller(0),
            ],
            undecodable: Vec::new(),
            callers: vec![Caller {
                reply: reply_tx,
                checked: Some(checked_tx),
                count: 1,
            }],
            durable: true,
        };
        let checks = vec![
            Ok(()),
            Err(Refusal::Invalid(crate::ingest::Invalid {
                reason: "signature",
                message: "bad signature".into(),
            })),
            Ok(()),
        ];
        let (verdicts_tx, mut verdicts_rx) = mpsc::channel(8);
        early(&mut batch, &checks, &verdicts_tx).await;

        let first = verdicts_rx.try_recv().unwrap();
        assert_eq!(first.message_id, MessageId::new(b"a"));
        assert_eq!(first.acceptance, MessageAcceptance::Accept);
        let second = verdicts_rx.try_recv().unwrap();
        assert_eq!(second.acceptance, MessageAcceptance::Reject);
        // A random peer is not the publisher: a relay, not struck.
        assert!(!second.strike);
        assert_eq!(checked_rx.await.unwrap(), vec![Ok(())]);
        // The final result waits for the store.
        assert!(reply_rx.try_recv().is_err());
        reply(
            batch,
            vec![Ok(true), Err(checks[1].clone().unwrap_err()), Ok(true)],
        );
        assert_eq!(reply_rx.await.unwrap(), vec![Ok(true)]);
    }

    #[test]
    fn a_valid_item_is_relayed_and_a_rate_limited_one_ignored() {
        let f = Fixture::new();
        let (_, cert) = f.item("hospital", "x");
        let peer = PeerId::random();
        assert_eq!(
            verdict(&Ok(()), &peer, &cert),
            (MessageAcceptance::Accept, false)
        );
        assert_eq!(
            verdict(&Err(Refusal::RateLimited), &peer, &cert),
            (MessageAcceptance::Ignore, false)
        );
    }
}
