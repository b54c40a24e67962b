//! Audiences on this node: resolving who a new item is for, sealing it to
//! them, and opening the items this node is a recipient of.
//!
//! Resolution uses the certificates this node knows (its own, every member
//! it ever admitted, and those stored with items): a member that never
//! connected to this node nor published cannot be named yet, and the error
//! says so. The publisher's own key is always a recipient, so a
//! node can read what it sent.

use crate::context::Context;
use cairn_protocol::control::{AudienceRequest, AudienceView};
use cairn_protocol::envelope::{self, EnvelopeError};
use cairn_protocol::{
    Certificate, CertificateId, Contents, EncryptionPublicKey, EncryptionSecretKey, Envelope,
    ItemBody, PublicKey, Role, Selector, SignedItem, Timestamp,
};
use std::collections::BTreeMap;

/// The recipients an audience request resolves to.
#[derive(Debug, PartialEq, Eq)]
pub struct Resolved {
    pub recipients: Vec<(PublicKey, EncryptionPublicKey)>,
    pub selectors: Vec<Selector>,
}

/// Whether `cert` can receive an audience item now: a named entity with the
/// receive role, valid at `now`, not revoked.
fn can_receive(cert: &Certificate, now: Timestamp, revoked: &dyn Fn(&Certificate) -> bool) -> bool {
    cert.body.subject.entity_name().is_some()
        && cert.has_role(Role::Receive)
        && cert.check_validity(now).is_ok()
        && !revoked(cert)
}

/// Resolves `request` against the certificates this node knows. `me` is the
/// publishing certificate (the node's, or its pseudonym's), always a
/// recipient. A plain function: the
/// rules are tested without a node.
pub fn resolve(
    request: &AudienceRequest,
    me: &Certificate,
    known: &[Certificate],
    now: Timestamp,
    revoked: &dyn Fn(&Certificate) -> bool,
) -> Result<Resolved, String> {
    let usable: Vec<&Certificate> = known
        .iter()
        .filter(|c| can_receive(c, now, revoked))
        .collect();
    let mut chosen: BTreeMap<[u8; 32], EncryptionPublicKey> = BTreeMap::new();
    let mut add = |c: &Certificate| {
        chosen.insert(c.body.member_key.0, c.body.encryption_key);
    };
    add(me);
    for name in &request.entities {
        let matching: Vec<&&Certificate> = usable
            .iter()
            .filter(|c| c.body.subject.entity_name() == Some(name.as_str()))
            .collect();
        if matching.is_empty() {
            let known_but_not_usable = known
                .iter()
                .any(|c| c.body.subject.entity_name() == Some(name.as_str()));
            return Err(if known_but_not_usable {
                format!("'{name}' cannot receive audience items now: its certificate is expired, revoked or without the receive role (see `cairn members`)")
            } else {
                format!("no member named '{name}' is known to this node: use the legal name `cairn members` shows (a member becomes known once it has connected to this node or published)")
            });
        }
        matching.into_iter().for_each(|c| add(c));
    }
    for sector in &request.sectors {
        let any = usable
            .iter()
            .filter(|c| c.body.subject.sector() == Some(*sector) && c.id() != me.id())
            .inspect(|c| add(c))
            .count();
        if any == 0 {
            return Err(format!(
                "no other member of sector {sector} is known to this node (see `cairn members`)"
            ));
        }
    }
    for state in &request.member_states {
        let any = usable
            .iter()
            .filter(|c| c.body.subject.member_state() == Some(*state) && c.id() != me.id())
            .inspect(|c| add(c))
            .count();
        if any == 0 {
            return Err(format!("no other member established in {state} is known to this node (see `cairn members`)"));
        }
    }
    Ok(Resolved {
        recipients: chosen.into_iter().map(|(k, e)| (PublicKey(k), e)).collect(),
        selectors: request.selectors(),
    })
}

/// Every certificate this node knows, newest first per member key.
pub fn known_certificates(ctx: &Context, seen: &[Certificate]) -> Vec<Certificate> {
    let mut all: Vec<Certificate> = seen.to_vec();
    all.extend(ctx.items.certificates().unwrap_or_default());
    all.push(ctx.certificate());
    // An id hashes the certificate's encoding: once per certificate, not
    // per comparison (this runs on every sealed publish). The id as the
    // last key puts copies of one certificate side by side for dedup.
    let mut keyed: Vec<(CertificateId, Certificate)> =
        all.into_iter().map(|c| (c.id(), c)).collect();
    keyed.sort_by_key(|(id, c)| (std::cmp::Reverse((c.body.not_after, c.body.serial)), *id));
    keyed.dedup_by_key(|(id, _)| *id);
    keyed.into_iter().map(|(_, c)| c).collect()
}

/// From this many recipients a sealing spreads over the cores: starting a
/// thread costs a fraction of one wrap.
const SEAL_PARALLEL_FROM: usize = 4;

/// The envelope of `contents` for `resolved`, bound to `body`'s visible fields.
pub fn seal(
    contents: &Contents,
    resolved: Resolved,
    body: &ItemBody,
) -> Result<Envelope, EnvelopeError> {
    // The wraps are nearly all the cost and independent: on all cores, so
    // a sealed item is not held back by its audience's size.
    envelope::seal_with(
        contents,
        &resolved.recipients,
        resolved.selectors,
        body.seal_context(),
        |to, wrap| crate::ingest::par_map_in(to, SEAL_PARALLEL_FROM, 1, wrap),
    )
}

/// Opens `item` if this node is a recipient, under its own key or its
/// pseudonym's (which is the recipient of what it published under that
/// pseudonym); `Ok(None)` for an open item.
pub fn open(ctx: &Context, item: &SignedItem) -> Result<Option<Contents>, EnvelopeError> {
    let Some(envelope) = item.body.envelope() else {
        return Ok(None);
    };
    let pseudonym = ctx.pseudonym.as_ref().map(|p| &p.key);
    let mine = std::iter::once(&ctx.key)
        .chain(pseudonym)
        .find(|k| envelope.is_for(&k.public()))
        .ok_or(EnvelopeError::NotARecipient)?;
    let key = EncryptionSecretKey::derive_from(mine);
    envelope
        .open(&mine.public(), &key, item.body.seal_context())
        .map(Some)
}

/// Names of member keys, for showing recipients.
pub struct Names(BTreeMap<[u8; 32], String>);

impl Names {
    pub fn new(known: &[Certificate]) -> Self {
        let mut names = BTreeMap::new();
        for c in known.iter().rev() {
            names.insert(c.body.member_key.0, c.body.subject.display_name());
        }
        Names(names)
    }

    fn of(&self, key: &PublicKey) -> String {
        self.0
            .get(&key.0)
            .cloned()
            .unwrap_or_else(|| format!("(member key {key})"))
    }
}

/// The audience of a sealed item as this node shows it, and its contents if
/// this node could open them.
pub fn view(
    ctx: &Context,
    item: &SignedItem,
    names: &Names,
) -> Option<(AudienceView, Option<Contents>)> {
    let envelope = item.body.envelope()?;
    let (contents, reason) = match open(ctx, item) {
        Ok(c) => (c, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let view = AudienceView {
        selectors: envelope.selectors.iter().map(|s| s.to_string()).collect(),
        recipients: envelope
            .recipients
            .iter()
            .map(|r| names.of(&r.member_key))
            .collect(),
        readable: contents.is_some(),
        unreadable_reason: reason,
        sealed_size: envelope.ciphertext.len(),
    };
    Some((view, contents))
}

#[cfg(test)]
#[path = "audience_tests.rs"]
mod tests;
