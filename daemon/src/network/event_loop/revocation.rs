//! Revocations arriving by gossip: verified and fsynced off the network
//! task, then relayed (Accept) or, if forged, rejected so gossipsub
//! penalises whoever sent it.

use super::EventLoop;
use cairn_protocol::codec;
use cairn_protocol::wire::GossipMessage;
use cairn_protocol::Timestamp;
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use libp2p::PeerId;
use tracing::{debug, warn};

impl EventLoop {
    pub(super) fn on_gossip_revocation(&mut self, source: PeerId, id: MessageId, data: Vec<u8>) {
        let Ok(permit) = self.responders.clone().try_acquire_owned() else {
            // Busy: no penalty; anti-entropy brings it soon.
            self.report(&id, &source, MessageAcceptance::Ignore);
            return;
        };
        let revocations = self.ctx.revocations.clone();
        let verdicts = self.ctx.ingest.verdicts();
        tokio::spawn(async move {
            let acceptance = tokio::task::spawn_blocking(move || {
                let revocation = match codec::decode::<GossipMessage>(&data) {
                    Ok(GossipMessage::Revocation { revocation }) => revocation,
                    _ => return MessageAcceptance::Reject,
                };
                match revocations.add(revocation, Timestamp::now()) {
                    Ok(_) => MessageAcceptance::Accept,
                    Err(crate::revocations::AddError::Invalid(e)) => {
                        warn!(peer = %source, "forged revocation rejected: {e}");
                        MessageAcceptance::Reject
                    }
                    Err(e) => {
                        warn!(peer = %source, "revocation not stored: {e}");
                        MessageAcceptance::Ignore
                    }
                }
            })
            .await
            .unwrap_or(MessageAcceptance::Ignore);
            drop(permit);
            let _ = verdicts
                .send(crate::ingest::worker::Verdict {
                    message_id: id,
                    source,
                    // Honest nodes relay only revocations they verified.
                    strike: acceptance == MessageAcceptance::Reject,
                    acceptance,
                    queued: false,
                })
                .await;
        });
    }

    pub(super) fn report(&mut self, id: &MessageId, source: &PeerId, a: MessageAcceptance) {
        if !self
            .swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(id, source, a)
        {
            debug!(peer = %source, "late verdict for an expired gossip message");
        }
    }
}
