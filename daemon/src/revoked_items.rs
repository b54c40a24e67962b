//! Items held against a revocation learned too late.
//!
//! A node that comes back after an absence learns revocations from the
//! members it reaches. If the first one it reaches is the revoked member
//! itself (a thief with a leaked key, now found through the member
//! directory as easily as through a bootstrap list), that member can pass
//! it items before any honest member's handshake brings the revocation.
//! Every node that knew the revocation refused those items; this one must
//! not keep them either. So whenever a revocation is added, the items whose
//! publisher's certificate was already revoked when they were created are
//! taken out of the store and of the reconciliation set, and not fetched
//! again (a member offering them is refused like any other).
//!
//! Items created before the revocation took effect stay, marked, as on
//! every node. For a key compromise that includes items a thief back-dated
//! and passed before the revocation arrived: nothing tells them apart from
//! the member's own (ARCHITECTURE.md, "Known limits").

use crate::context::Context;
use cairn_protocol::revocation::RevocationSet;
use cairn_protocol::{Certificate, CertificateId, ItemId, Timestamp};
use std::collections::HashMap;
use tracing::warn;

/// The held items of `held` (id, creation millis, publisher certificate)
/// that were created when their publisher's certificate was already
/// revoked; `certificate` finds a publisher's certificate. A plain function:
/// the rule is tested without a node.
pub fn unlawful(
    set: &RevocationSet,
    held: &[(ItemId, u64, CertificateId)],
    certificate: impl Fn(&CertificateId) -> Option<Certificate>,
) -> Vec<ItemId> {
    // Revocation effect per publisher, looked up once each.
    let mut since: HashMap<CertificateId, Option<Timestamp>> = HashMap::new();
    let mut out = Vec::new();
    for (id, created, publisher) in held {
        let effective = *since.entry(*publisher).or_insert_with(|| {
            certificate(publisher).and_then(|c| set.status(publisher, &c).map(|e| e.effective))
        });
        if effective.is_some_and(|e| *created >= e.millis()) {
            out.push(*id);
        }
    }
    out
}

/// Takes out what [`unlawful`] names; blocking (reads the store's index).
/// Returns how many items were removed.
pub fn purge(ctx: &Context) -> Result<usize, cairn_store::StoreError> {
    let set = ctx.revocations.set();
    if set.is_empty() {
        return Ok(0);
    }
    // Most revocations name members whose items this node never held:
    // check the stored publishers before walking every item.
    let certificates = ctx.items.certificates()?;
    if !certificates
        .iter()
        .any(|c| set.status(&c.id(), c).is_some())
    {
        return Ok(0);
    }
    let by_id: HashMap<CertificateId, Certificate> =
        certificates.into_iter().map(|c| (c.id(), c)).collect();
    let held = ctx.items.publishers()?;
    let ids = unlawful(&set, &held, |id| by_id.get(id).cloned());
    if ids.is_empty() {
        return Ok(0);
    }
    let removed = ctx.items.remove_refused(&ids)?;
    let n = removed.len();
    for (_, id) in &removed {
        warn!(
            item = %id,
            "item removed: its publisher's certificate was revoked before it was created (this node took it before it learned of the revocation)"
        );
    }
    ctx.index.remove(removed);
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Fixture;

    #[test]
    fn items_created_after_the_revocation_took_effect_are_named() {
        let f = Fixture::new();
        let (revoked, revocation) = f.revoked_member("thief");
        let (_, honest) = f.certificate("honest");
        let mut set = RevocationSet::default();
        let effects = revocation.claimed_effects();
        let effective = effects[0].effective.millis();
        set.add(effects);
        let held = vec![
            (ItemId([1; 32]), effective - 1, revoked.id()),
            (ItemId([2; 32]), effective, revoked.id()),
            (ItemId([3; 32]), effective + 5_000, revoked.id()),
            (ItemId([4; 32]), effective + 5_000, honest.id()),
            // A publisher whose certificate this node does not hold.
            (ItemId([5; 32]), effective + 5_000, CertificateId([9; 32])),
        ];
        let certs = [revoked.clone(), honest.clone()];
        let named = unlawful(&set, &held, |id| {
            certs.iter().find(|c| c.id() == *id).cloned()
        });
        assert_eq!(named, vec![ItemId([2; 32]), ItemId([3; 32])]);
        assert!(unlawful(&RevocationSet::default(), &held, |_| None).is_empty());
    }
}
