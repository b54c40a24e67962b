//! The authority role: receive Art. 29(4) participation events, keep the
//! register, answer with signed receipts.
//!
//! A receipt is only sent after the entry is fsynced in the register, so a
//! member holding a receipt can rely on the authority having the entry even
//! if the authority crashes right after answering. Retries of the same event
//! get the same entry and the same receipt (exactly once).
//!
//! The authority alone can open the escrow behind a pseudonymous item (its
//! encryption key derives from its node key); it does so only by
//! [`Authority::reveal`], which records the reveal in the register before
//! anyone sees the entity.

use cairn_protocol::pseudonym::{check_reason, open_publisher, PseudonymError};
use cairn_protocol::wire::Response;
use cairn_protocol::{
    Certificate, Community, EncryptionSecretKey, EventError, Receipt, ReceiptBody, RegisterEntry,
    Reveal, RevealBody, SecretKey, SignedEvent, SignedItem, Subject, Timestamp,
};
use cairn_store::register::Register;
use cairn_store::StoreError;
use std::sync::Arc;
use tokio::sync::broadcast;
use tracing::{info, warn};

/// How many register entries a slow watcher may fall behind before it has
/// to re-read from the register (it loses nothing; see the control API).
const FEED_CAPACITY: usize = 256;

/// Why an event was not registered.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    #[error("event refused: {0}")]
    Event(#[from] EventError),
    #[error("register write failed: {0}")]
    Store(#[from] StoreError),
    #[error("event number {sequence} of this entity is already registered as a different event (entry {index}); a node that lost its outbox must not reuse numbers")]
    SequenceReused { sequence: u64, index: u64 },
    #[error("event number {given} of this entity is out of sequence: the register expects number {expected} next")]
    OutOfSequence { given: u64, expected: u64 },
}

/// Why a pseudonym was not revealed.
#[derive(Debug, thiserror::Error)]
pub enum RevealError {
    #[error(transparent)]
    Pseudonym(#[from] PseudonymError),
    #[error("the item does not verify under its certificate: {0}")]
    Item(#[from] cairn_protocol::ItemError),
    #[error("the reveal could not be recorded, so nothing was revealed: {0}")]
    Store(#[from] StoreError),
}

/// Verifies `event` and appends it to `register` (once), returning the
/// receipt and whether the entry is new.
pub fn register_event(
    register: &Register,
    community: &Community,
    key: &SecretKey,
    event: &SignedEvent,
    now: Timestamp,
) -> Result<(Receipt, RegisterEntry, bool), AuthorityError> {
    event.verify(community, now)?;
    let event_id = event.id();
    let member = &event.body.certificate.body.member_key;
    if let Some(e) = register.get_by_sequence(member, event.body.sequence) {
        if e.participation().map(|(e, _)| e.id()) != Some(event_id) {
            return Err(AuthorityError::SequenceReused {
                sequence: event.body.sequence,
                index: e.index,
            });
        }
    }
    let appended = register
        .append(event, |index| {
            Receipt::sign(
                ReceiptBody {
                    community: community.id,
                    event: event_id,
                    register_index: index,
                    registered_at: now,
                    authority: key.public(),
                },
                key,
            )
        })
        .map_err(|e| match e {
            StoreError::RegisterSequence {
                given, expected, ..
            } => AuthorityError::OutOfSequence { given, expected },
            e => AuthorityError::Store(e),
        })?;
    let receipt = match appended.entry.participation() {
        Some((_, receipt)) => receipt.clone(),
        None => unreachable!("an event is registered as a participation entry"),
    };
    Ok((receipt, appended.entry, appended.new))
}

/// The authority node's role, shared by the network task and the control API.
pub struct Authority {
    pub register: Arc<Register>,
    community: Community,
    key: SecretKey,
    /// Opens escrows (derived from `key`; the configuration checked that the
    /// community file names it).
    encryption: EncryptionSecretKey,
    feed: broadcast::Sender<RegisterEntry>,
}

impl Authority {
    /// The role over an opened register.
    pub fn new(register: Arc<Register>, community: Community, key: SecretKey) -> Self {
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        Authority {
            register,
            community,
            encryption: EncryptionSecretKey::derive_from(&key),
            key,
            feed,
        }
    }

    /// Opens the escrow of `publisher`, the pseudonymous certificate that
    /// signed `item`, and records the reveal (who, what, when, why) in the
    /// register; the identity is returned only once the entry is on disk.
    /// Blocks on the fsync: call it through `spawn_blocking`.
    pub fn reveal(
        &self,
        item: &SignedItem,
        publisher: &Certificate,
        reason: &str,
        now: Timestamp,
    ) -> Result<RegisterEntry, RevealError> {
        check_reason(reason)?;
        // Only what the pseudonym really signed is laid at its holder's door.
        item.verify(publisher, &self.community, now)?;
        let identity = open_publisher(&self.encryption, item, publisher)?;
        let Subject::Pseudonym(pseudonym) = &publisher.body.subject else {
            return Err(PseudonymError::NotPseudonymous.into());
        };
        let item_id = item.id();
        let entry = self.register.append_reveal(|register_index| {
            Reveal::sign(
                RevealBody {
                    community: self.community.id,
                    authority: self.key.public(),
                    register_index,
                    revealed_at: now,
                    item: item_id,
                    certificate: publisher.id(),
                    pseudonym: pseudonym.id,
                    identity,
                    reason: reason.trim().to_string(),
                },
                &self.key,
            )
        })?;
        // The entity is in the register, not in the log.
        info!(index = entry.index, item = %item_id, pseudonym = %pseudonym.id, "pseudonym revealed");
        let _ = self.feed.send(entry.clone());
        Ok(entry)
    }

    /// New entries as they are registered.
    pub fn subscribe(&self) -> broadcast::Receiver<RegisterEntry> {
        self.feed.subscribe()
    }

    /// Handles one participation request; the answer goes back to the member.
    pub async fn handle(self: Arc<Self>, event: SignedEvent) -> Response {
        let me = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            register_event(
                &me.register,
                &me.community,
                &me.key,
                &event,
                Timestamp::now(),
            )
            .map(|r| (r, event))
        })
        .await;
        match result {
            Ok(Ok(((receipt, entry, new), event))) => {
                let c = &event.body.certificate.body;
                if new {
                    info!(
                        index = entry.index,
                        kind = %event.body.kind,
                        entity = %c.subject.display_name(),
                        "participation registered"
                    );
                    if event.body.kind == cairn_protocol::ParticipationKind::WithdrawalEffective {
                        // Its key is revoked; its pseudonyms have other keys.
                        info!(
                            entity = %c.subject.display_name(),
                            "a withdrawal does not reach the member's pseudonymous certificates: the issuer revokes them with its named certificate (`cairn cert revoke --reason withdrawn`)"
                        );
                    }
                    let _ = self.feed.send(entry.clone());
                }
                Response::Receipt { receipt }
            }
            Ok(Err(e)) => {
                warn!("participation event refused: {e}");
                Response::Refused {
                    reason: e.to_string(),
                }
            }
            Err(e) => Response::Refused {
                reason: format!("internal error: {e}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Fixture;
    use cairn_protocol::{EventBody, ParticipationKind};

    fn joined(f: &Fixture, name: &str, sequence: u64) -> SignedEvent {
        let (key, certificate) = f.certificate(name);
        let body = EventBody {
            community: f.community.id,
            kind: ParticipationKind::Joined,
            effective: Timestamp::now(),
            certificate,
            sequence,
        };
        SignedEvent::sign(body, &key).unwrap()
    }

    #[test]
    fn events_are_registered_once_with_a_verifiable_receipt() {
        let f = Fixture::new();
        let dir = tempfile::tempdir().unwrap();
        let register = Register::open(dir.path()).unwrap();
        let e = joined(&f, "hospital", 1);
        let now = Timestamp::now();
        let (receipt, first, new) =
            register_event(&register, &f.community, &f.authority, &e, now).unwrap();
        assert!(new);
        assert_eq!(receipt.verify(&f.community, &e.id()), Ok(()));
        let (_, again, new) =
            register_event(&register, &f.community, &f.authority, &e, now).unwrap();
        assert!(!new);
        assert_eq!(again, first);
        let (_, second, _) = register_event(
            &register,
            &f.community,
            &f.authority,
            &joined(&f, "grid", 1),
            now,
        )
        .unwrap();
        assert_eq!(second.index, 1);
    }

    #[test]
    fn a_reused_sequence_number_is_refused() {
        let f = Fixture::new();
        let dir = tempfile::tempdir().unwrap();
        let register = Register::open(dir.path()).unwrap();
        let first = joined(&f, "hospital", 1);
        register_event(
            &register,
            &f.community,
            &f.authority,
            &first,
            Timestamp::now(),
        )
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let again = joined(&f, "hospital", 1);
        assert_ne!(again.id(), first.id());
        let err = register_event(
            &register,
            &f.community,
            &f.authority,
            &again,
            Timestamp::now(),
        );
        assert!(matches!(
            err,
            Err(AuthorityError::SequenceReused {
                sequence: 1,
                index: 0
            })
        ));
        assert_eq!(register.len(), 1);
    }

    #[test]
    fn replays_get_the_original_receipt_and_gaps_are_refused() {
        let f = Fixture::new();
        let dir = tempfile::tempdir().unwrap();
        let register = Register::open(dir.path()).unwrap();
        let (key, certificate) = f.certificate("hospital");
        let event = |sequence, kind| {
            let body = EventBody {
                community: f.community.id,
                kind,
                effective: Timestamp::now(),
                certificate: certificate.clone(),
                sequence,
            };
            SignedEvent::sign(body, &key).unwrap()
        };
        let now = Timestamp::now();
        let gap = event(2, ParticipationKind::Joined);
        assert!(matches!(
            register_event(&register, &f.community, &f.authority, &gap, now),
            Err(AuthorityError::OutOfSequence {
                given: 2,
                expected: 1
            })
        ));
        let first = event(1, ParticipationKind::Joined);
        let (receipt, _, _) =
            register_event(&register, &f.community, &f.authority, &first, now).unwrap();
        let withdrawal = event(2, ParticipationKind::WithdrawalEffective);
        register_event(&register, &f.community, &f.authority, &withdrawal, now).unwrap();
        // Replayed long after, out of order: the original receipt, once.
        let later = Timestamp(now.0 + 60_000);
        let (again, _, new) =
            register_event(&register, &f.community, &f.authority, &first, later).unwrap();
        assert!(!new);
        assert_eq!(again, receipt);
        assert_eq!(register.len(), 2);
    }

    #[test]
    fn forged_events_never_reach_the_register() {
        let f = Fixture::new();
        let dir = tempfile::tempdir().unwrap();
        let register = Register::open(dir.path()).unwrap();
        let mut e = joined(&f, "hospital", 1);
        e.body.kind = ParticipationKind::WithdrawalEffective;
        let err = register_event(&register, &f.community, &f.authority, &e, Timestamp::now());
        assert!(matches!(
            err,
            Err(AuthorityError::Event(EventError::BadSignature))
        ));
        assert!(register.is_empty());
    }

    fn authority(f: &Fixture, dir: &std::path::Path) -> Authority {
        Authority::new(
            Arc::new(Register::open(dir).unwrap()),
            f.community.clone(),
            f.authority.clone(),
        )
    }

    #[test]
    fn a_reveal_names_the_entity_and_is_registered_first() {
        let f = Fixture::new();
        let dir = tempfile::tempdir().unwrap();
        let a = authority(&f, dir.path());
        let (_, named) = f.certificate("hospital");
        let (key, pseudonymous) = f.pseudonym(&named);
        let item = f.item_by(&key, &pseudonymous, "phishing wave");
        let mut feed = a.subscribe();
        let entry = a
            .reveal(&item, &pseudonymous, "Case 2026/17", Timestamp::now())
            .unwrap();
        let reveal = entry.reveal().expect("a reveal entry");
        assert_eq!(reveal.body.identity.certificate, named.id());
        assert_eq!(reveal.body.identity.member_key, named.body.member_key);
        assert_eq!(reveal.body.item, item.id());
        assert_eq!(reveal.verify(&f.community), Ok(()));
        assert_eq!(a.register.entries(0), vec![entry.clone()]);
        assert_eq!(feed.try_recv().unwrap(), entry);
    }

    #[test]
    fn nothing_is_revealed_for_named_items_or_without_a_reason() {
        let f = Fixture::new();
        let dir = tempfile::tempdir().unwrap();
        let a = authority(&f, dir.path());
        let (item, named) = f.item("hospital", "an item under a name");
        assert!(matches!(
            a.reveal(&item, &named, "Case 1", Timestamp::now()),
            Err(RevealError::Pseudonym(PseudonymError::NotPseudonymous))
        ));
        let (key, pseudonymous) = f.pseudonym(&named);
        let item = f.item_by(&key, &pseudonymous, "phishing wave");
        assert!(matches!(
            a.reveal(&item, &pseudonymous, " ", Timestamp::now()),
            Err(RevealError::Pseudonym(PseudonymError::Reason))
        ));
        assert!(a.register.is_empty());
    }
}
