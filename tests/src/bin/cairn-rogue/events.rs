//! `--mode send-event` and `--mode replay-event`: participation events sent
//! straight to the authority (someone else's, replayed, or conflicting under
//! one number), whose answers the node prints.

use crate::node::{Rogue, READY_TIMEOUT};
use crate::say;
use anyhow::Context as _;
use cairn_protocol::codec;
use cairn_protocol::wire::Request;
use cairn_protocol::{
    Certificate, Community, EventBody, ParticipationKind, SecretKey, SignedEvent, Timestamp,
};
use libp2p::PeerId;
use std::time::Instant;

/// A participation event of the rogue's own, signed with its key.
fn event(
    community: &Community,
    key: &SecretKey,
    certificate: &Certificate,
    kind: ParticipationKind,
    sequence: u64,
) -> anyhow::Result<SignedEvent> {
    let body = EventBody {
        community: community.id,
        kind,
        effective: Timestamp::now(),
        certificate: certificate.clone(),
        sequence,
    };
    SignedEvent::sign(body, key).context("signing the event")
}

/// Sends the event in `file` (made first if missing) `count` times at once
/// to the authority, then, once the first answer is back, a different event
/// under the same number and one that skips a number. (Sent together, the
/// authority could take a conflicting withdrawal first: registered, it
/// revokes the certificate and the test's second run could not connect.)
pub(crate) async fn replay_event(
    rogue: &mut Rogue,
    file: &std::path::Path,
    count: usize,
    community: &Community,
    key: &SecretKey,
) -> anyhow::Result<()> {
    let original = if file.exists() {
        codec::decode::<SignedEvent>(&std::fs::read(file)?).context("reading the event")?
    } else {
        let e = event(
            community,
            key,
            &rogue.certificate,
            ParticipationKind::Joined,
            1,
        )?;
        std::fs::write(file, codec::encode(&e)?)?;
        e
    };
    let authority = cairn_daemon::network::peers::peer_id_of(&community.authority);
    let sequence = original.body.sequence;
    let kind = ParticipationKind::WithdrawalEffective;
    let conflicting = vec![
        event(community, key, &rogue.certificate, kind, sequence)?,
        event(community, key, &rogue.certificate, kind, sequence + 2)?,
    ];
    let before = rogue.seen.event_answers;
    for e in vec![original; count] {
        send_event(rogue, &authority, e);
    }
    rogue
        .drive(Instant::now() + READY_TIMEOUT, |s| s.event_answers > before)
        .await;
    for e in conflicting {
        send_event(rogue, &authority, e);
    }
    Ok(())
}

pub(crate) fn send_event(rogue: &mut Rogue, authority: &PeerId, event: SignedEvent) {
    say(format!(
        "sent-event id={} sequence={}",
        event.id(),
        event.body.sequence
    ));
    rogue
        .swarm
        .behaviour_mut()
        .direct
        .send_request(authority, Request::Participation { event });
}
