//! What may be stored and relayed, and the worker that stores it.
//!
//! Every item, whether gossiped, fetched during catch-up or published
//! locally, is checked here before it is stored. Gossip that fails is
//! rejected, not ignored, so gossipsub's peer scoring penalises whoever
//! relayed it. [`Verifier`] checks batches on all cores and remembers which
//! publisher certificates it has already authenticated; [`worker`] batches
//! verification and storage (group commit).

mod route;
pub mod worker;

use crate::revocations::Revocations;
use cairn_protocol::codec::{self, CodecError};
use cairn_protocol::wire::GossipMessage;
use cairn_protocol::{
    Authentic, Certificate, CertificateId, Community, EncodedItem, ItemError, Timestamp,
};
use std::collections::HashMap;
use std::sync::Arc;

/// Why gossiped data was rejected.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("undecodable gossip message: {0}")]
    Decode(#[from] CodecError),
    #[error("gossip message is not an item")]
    NotAnItem,
}

/// Why an item failed verification: the message, and a bounded label for
/// metrics (`crate::metrics::reason`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub reason: &'static str,
    pub message: String,
}

impl From<ItemError> for Invalid {
    fn from(e: ItemError) -> Self {
        Invalid {
            reason: crate::metrics::item_reason(&e),
            message: e.to_string(),
        }
    }
}

/// Decodes a gossiped item without verifying it (revocations take another
/// path: the network task routes by the message's kind before decoding).
pub fn decode_gossip(data: &[u8]) -> Result<(EncodedItem, Certificate), IngestError> {
    match codec::decode::<GossipMessage>(data)? {
        GossipMessage::Item { item, certificate } => Ok((EncodedItem::new(item)?, certificate)),
        GossipMessage::Revocation { .. } => Err(IngestError::NotAnItem),
    }
}

/// Most certificates remembered as authentic; a community has far fewer
/// members, so reaching it means churn, and the cache simply starts over.
const CERT_CACHE: usize = 10_000;

/// Below this many items a batch is checked on the calling thread: starting
/// threads would cost more than it saves.
const PARALLEL_FROM: usize = 32;

/// Elements a thread takes at a time in [`par_map`]: small enough that a
/// thread slowed by other work (the store stage runs at the same time) does
/// not leave the others idle at the end of a batch.
const PARALLEL_CHUNK: usize = 64;

/// Applies `f` to every element on all cores; results are in input order.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    par_map_in(items, PARALLEL_FROM, PARALLEL_CHUNK, f)
}

/// As [`par_map`], on the calling thread below `from` elements, with
/// `chunk` elements taken at a time: for elements costlier than the
/// signature checks `par_map` is tuned for (an HPKE seal, about 0.1 ms).
pub fn par_map_in<T: Sync, R: Send>(
    items: &[T],
    from: usize,
    chunk: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < from.max(2) || threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunks: Vec<&[T]> = items.chunks(chunk.max(1)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (f, chunks, next) = (&f, &chunks, &next);
    let work = move || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(chunk) = chunks.get(i) else {
                return mine;
            };
            mine.push((i, chunk.iter().map(f).collect::<Vec<R>>()));
        }
    };
    // The calling thread takes chunks too, rather than wait idle: one
    // thread fewer to start (on two cores, one instead of two), which
    // matters for small work such as sealing to ten recipients.
    let mut done: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads.min(chunks.len()))
            .map(|_| scope.spawn(work))
            .collect();
        let mut all = work();
        for h in handles {
            all.extend(h.join().expect("ingest workers do not panic"));
        }
        all
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().flat_map(|(_, r)| r).collect()
}

/// Verifies items in batches, authenticating each publisher certificate once
/// (its issuer signature checked, its member key decoded).
pub struct Verifier {
    community: Community,
    authentic: HashMap<CertificateId, Result<Authentic, Invalid>>,
    revocations: Option<Arc<Revocations>>,
}

impl Verifier {
    /// A verifier for `community` that knows of no revocation.
    pub fn new(community: Community) -> Self {
        Verifier {
            community,
            authentic: HashMap::new(),
            revocations: None,
        }
    }

    /// A verifier that also refuses items of revoked publishers.
    pub fn with_revocations(community: Community, revocations: Arc<Revocations>) -> Self {
        Verifier {
            revocations: Some(revocations),
            ..Verifier::new(community)
        }
    }

    /// Verifies every `(item, certificate)` at `now`, in parallel over the
    /// machine's cores for large batches. Results are in input order.
    /// Items marked in `held` are ones this node already stores under the
    /// same id (so with the same bytes, whose signature it verified): their
    /// signature is not checked again, every other rule is. During a burst
    /// the same item often arrives by gossip and by catch-up.
    pub fn verify_batch(
        &mut self,
        batch: &[(EncodedItem, Certificate)],
        held: &[bool],
        now: Timestamp,
    ) -> Vec<Result<(), Invalid>> {
        self.verify_selected(batch, held, &vec![true; batch.len()], now)
            .into_iter()
            .map(|r| r.expect("every item was selected"))
            .collect()
    }

    /// [`Verifier::verify_batch`] for the items marked in `selected`; the
    /// others are not looked at (None).
    pub fn verify_selected(
        &mut self,
        batch: &[(EncodedItem, Certificate)],
        held: &[bool],
        selected: &[bool],
        now: Timestamp,
    ) -> Vec<Option<Result<(), Invalid>>> {
        assert_eq!(batch.len(), held.len(), "one held flag per item");
        assert_eq!(batch.len(), selected.len(), "one selected flag per item");
        if self.authentic.len() > CERT_CACHE {
            self.authentic.clear();
        }
        // Items of one publisher carry equal certificates: hash each once.
        let mut seen: Vec<(&Certificate, CertificateId)> = Vec::new();
        let cert_ids: Vec<CertificateId> = batch
            .iter()
            .map(|(_, c)| match seen.iter().find(|(k, _)| *k == c) {
                Some((_, id)) => *id,
                None => {
                    let id = c.id();
                    seen.push((c, id));
                    id
                }
            })
            .collect();
        for (cert, id) in &seen {
            self.authentic.entry(*id).or_insert_with(|| {
                cert.authenticate(&self.community)
                    .map_err(|e| Invalid::from(ItemError::Certificate(e)))
            });
        }
        let work: Vec<(usize, &EncodedItem, &CertificateId, bool)> = batch
            .iter()
            .zip(&cert_ids)
            .zip(held)
            .enumerate()
            .filter(|(i, _)| selected[*i])
            .map(|(i, (((item, _), id), held))| (i, item, id, *held))
            .collect();
        // One snapshot per batch: a revocation that arrives meanwhile applies
        // from the next batch on.
        let revoked = self.revocations.as_ref().map(|r| r.set());
        let results = par_map(&work, |(_, item, id, held)| {
            let publisher = self.authentic[*id].as_ref().map_err(Clone::clone)?;
            let checked = if *held {
                item.recheck_held(publisher, &self.community, now)
            } else {
                item.verify_from(publisher, &self.community, now)
            };
            checked.map_err(Invalid::from)?;
            if let Some(set) = &revoked {
                set.check_item(id, publisher.certificate(), item.item().body.created, *held)
                    .map_err(|e| Invalid::from(ItemError::Certificate(e)))?;
            }
            Ok(())
        });
        let mut out = vec![None; batch.len()];
        for ((i, ..), result) in work.iter().zip(results) {
            out[*i] = Some(result);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Fixture;
    use cairn_protocol::SignedItem;

    /// The path gossip takes through the worker: decode, then verify.
    fn check(data: &[u8], f: &Fixture) -> Result<(), String> {
        let pair = decode_gossip(data).map_err(|e| e.to_string())?;
        Verifier::new(f.community.clone())
            .verify_batch(&[pair], &[false], Timestamp::now())
            .remove(0)
            .map_err(|e| e.message)
    }

    #[test]
    fn only_selected_items_are_verified() {
        let f = Fixture::new();
        let pair = |title: &str| {
            let (item, cert) = f.item("hospital", title);
            let data = codec::encode(&GossipMessage::Item {
                item,
                certificate: cert,
            })
            .unwrap();
            decode_gossip(&data).unwrap()
        };
        let batch = vec![pair("one"), pair("two"), pair("three")];
        let results = Verifier::new(f.community.clone()).verify_selected(
            &batch,
            &[false; 3],
            &[true, false, true],
            Timestamp::now(),
        );
        assert_eq!(results, vec![Some(Ok(())), None, Some(Ok(()))]);
    }

    #[test]
    fn a_valid_item_passes_and_forgeries_do_not() {
        let f = Fixture::new();
        let (item, cert) = f.item("hospital", "ransomware note");
        let ok = codec::encode(&GossipMessage::Item {
            item: item.clone(),
            certificate: cert.clone(),
        })
        .unwrap();
        assert_eq!(check(&ok, &f), Ok(()));

        let mut forged = item.clone();
        crate::testutil::retitle(&mut forged, "changed");
        let bad = codec::encode(&GossipMessage::Item {
            item: forged,
            certificate: cert,
        })
        .unwrap();
        assert_eq!(check(&bad, &f), Err(ItemError::BadSignature.to_string()));
        let garbage = check(b"\x01garbage", &f).unwrap_err();
        assert!(garbage.contains("undecodable"), "{garbage}");
    }

    #[test]
    fn batches_verify_in_parallel_and_in_order() {
        let f = Fixture::new();
        let encoded =
            |(item, cert): (SignedItem, Certificate)| (EncodedItem::new(item).unwrap(), cert);
        let mut batch: Vec<(EncodedItem, Certificate)> = (0..100)
            .map(|i| encoded(f.item("hospital", &format!("item {i}"))))
            .collect();
        let (mut tampered, cert) = f.item("hospital", "item 7");
        crate::testutil::retitle(&mut tampered, "tampered");
        batch[7] = encoded((tampered, cert));
        batch.push(encoded(f.rogue_item()));
        let mut v = Verifier::new(f.community.clone());
        let fresh = vec![false; batch.len()];
        let results = v.verify_batch(&batch, &fresh, Timestamp::now());
        assert_eq!(results.len(), 101);
        for (i, r) in results.iter().enumerate() {
            match i {
                7 => assert!(
                    r.as_ref().unwrap_err().message.contains("signature"),
                    "{r:?}"
                ),
                100 => assert!(r.as_ref().unwrap_err().message.contains("issuer"), "{r:?}"),
                _ => assert!(r.is_ok(), "item {i}: {r:?}"),
            }
        }
        // A second pass uses the cached certificate result and agrees.
        assert_eq!(v.verify_batch(&batch, &fresh, Timestamp::now()), results);
    }

    #[test]
    fn items_already_held_skip_only_the_signature_check() {
        let f = Fixture::new();
        let encoded =
            |(item, cert): (SignedItem, Certificate)| (EncodedItem::new(item).unwrap(), cert);
        let (item, cert) = f.item("hospital", "held");
        let (_, bank_cert) = f.item("bank", "other member");
        let mut tampered = item.clone();
        crate::testutil::retitle(&mut tampered, "tampered");
        let batch = vec![
            encoded((item.clone(), cert.clone())),
            // The same item presented with another member's certificate.
            encoded((item, bank_cert)),
            encoded(f.rogue_item()),
            // The flag is trusted: only ids the node holds may carry it (a
            // tampered item has another id, so it is never flagged).
            encoded((tampered, cert)),
        ];
        let mut v = Verifier::new(f.community.clone());
        let results = v.verify_batch(&batch, &[true; 4], Timestamp::now());
        assert_eq!(results[0], Ok(()));
        assert_eq!(
            results[3],
            Ok(()),
            "held: the signature is not checked again"
        );
        let fresh = v.verify_batch(&batch[3..], &[false], Timestamp::now());
        assert!(fresh[0].as_ref().unwrap_err().message.contains("signature"));
        let mismatch = &results[1].as_ref().unwrap_err().message;
        assert!(mismatch.contains("publisher"), "{mismatch}");
        let rogue = &results[2].as_ref().unwrap_err().message;
        assert!(rogue.contains("issuer"), "{rogue}");
    }

    #[test]
    fn par_map_keeps_input_order_at_every_size() {
        for n in [0, 1, 31, 32, 33, 64, 65, 1000, 4097] {
            let input: Vec<usize> = (0..n).collect();
            let out = par_map(&input, |x| x * 2);
            assert_eq!(
                out,
                input.iter().map(|x| x * 2).collect::<Vec<_>>(),
                "n = {n}"
            );
        }
    }

    #[test]
    fn items_from_a_self_made_certificate_are_refused() {
        let f = Fixture::new();
        let (item, cert) = f.rogue_item();
        let data = codec::encode(&GossipMessage::Item {
            item,
            certificate: cert,
        })
        .unwrap();
        let err = check(&data, &f).unwrap_err();
        assert!(err.contains("not an issuer of this community"), "{err}");
    }
}
