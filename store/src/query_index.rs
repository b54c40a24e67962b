//! The query index: postings that let a query find items by kind, marking,
//! publisher, tag and word, newest first, without reading every item.
//!
//! They live in the item index's sled tree under the prefix `Q`, written in
//! the same atomic batch as the item's location, so an item is findable
//! exactly when it is stored. Every posting is a key with an empty value,
//! ending with the item's [`Position::key`] (inverted creation time, then
//! id), so a range of one posting list comes out in answer order and a
//! query can jump to any position (see `query_plan.rs`):
//!
//! - `Qk` kind, marking, position: every item (both are visible on sealed
//!   items too);
//! - `Qp` publisher certificate id, position: every item;
//! - `Qg` tag, 0, position: tags of open items (tags hold no control
//!   characters, so 0 ends them);
//! - `Qw` word, 0, position: the words of open items' titles and bodies
//!   ([`item_words`]);
//! - `Qr` member key, position: sealed items, one per recipient key, so a
//!   recipient finds what it may open without opening everything;
//! - `Qv`: the layout's version, written once the postings of every stored
//!   item exist; absent (an older store, a rebuilt index) they are built at
//!   open.
//!
//! Nothing of a sealed item's contents is posted, on any node: its tags and
//! words exist only inside the envelope.

use super::ItemStore;
use crate::error::StoreError;
use cairn_protocol::query::{item_words, Position, POSITION_LEN};
use cairn_protocol::{CertificateId, ItemBody, ItemKind, PublicKey, Tlp};

pub(crate) const QUERY: u8 = b'Q';
pub(crate) const BY_KIND: u8 = b'k';
pub(crate) const BY_PUBLISHER: u8 = b'p';
pub(crate) const BY_TAG: u8 = b'g';
pub(crate) const BY_WORD: u8 = b'w';
pub(crate) const BY_RECIPIENT: u8 = b'r';
const VERSION_KEY: &[u8] = b"Qv";
/// Bumped when the posting layout or the words of an item change: the
/// postings are then built again at open.
const VERSION: u8 = 1;

/// Items whose postings are built per sled batch when the index is built
/// again.
const BUILD_BATCH: usize = 2_048;

/// A kind's byte in posting keys: its place in [`ItemKind::ALL`].
pub(crate) fn kind_code(kind: ItemKind) -> u8 {
    ItemKind::ALL.iter().position(|k| *k == kind).unwrap_or(0) as u8
}

/// A marking's byte in posting keys: its place in [`Tlp::ALL`].
pub(crate) fn tlp_code(tlp: Tlp) -> u8 {
    Tlp::ALL.iter().position(|t| *t == tlp).unwrap_or(0) as u8
}

/// The key prefix of one posting list.
pub(crate) fn list_prefix(field: u8, value: &[u8], terminated: bool) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + value.len() + POSITION_LEN);
    k.extend_from_slice(&[QUERY, field]);
    k.extend_from_slice(value);
    if terminated {
        k.push(0);
    }
    k
}

pub(crate) fn kind_prefix(kind: ItemKind, tlp: Tlp) -> Vec<u8> {
    list_prefix(BY_KIND, &[kind_code(kind), tlp_code(tlp)], false)
}

pub(crate) fn publisher_prefix(publisher: &CertificateId) -> Vec<u8> {
    list_prefix(BY_PUBLISHER, publisher.as_bytes(), false)
}

pub(crate) fn tag_prefix(tag: &str) -> Vec<u8> {
    list_prefix(BY_TAG, tag.as_bytes(), true)
}

pub(crate) fn word_prefix(word: &str) -> Vec<u8> {
    list_prefix(BY_WORD, word.as_bytes(), true)
}

pub(crate) fn recipient_prefix(key: &PublicKey) -> Vec<u8> {
    list_prefix(BY_RECIPIENT, &key.0, false)
}

fn posting(mut prefix: Vec<u8>, at: &[u8; POSITION_LEN]) -> Vec<u8> {
    prefix.extend_from_slice(at);
    prefix
}

/// Every posting key of one item (`position`: its place in answer order).
pub(crate) fn postings(body: &ItemBody, position: &Position) -> Vec<Vec<u8>> {
    let at = position.key();
    let mut keys = vec![
        posting(kind_prefix(body.kind, body.tlp), &at),
        posting(publisher_prefix(&body.publisher), &at),
    ];
    match (body.open_contents(), body.envelope()) {
        (Some(contents), _) => {
            let tags = contents.tags.iter().filter(|t| !t.contains('\0'));
            keys.extend(tags.map(|t| posting(tag_prefix(t), &at)));
            keys.extend(
                item_words(contents)
                    .iter()
                    .map(|w| posting(word_prefix(w), &at)),
            );
        }
        (None, Some(envelope)) => keys.extend(
            envelope
                .recipients
                .iter()
                .map(|r| posting(recipient_prefix(&r.member_key), &at)),
        ),
        (None, None) => {}
    }
    keys
}

/// The postings of a taken-out item that can be named without its bytes
/// (which are damaged): by kind (all of them: its kind is not known any
/// more) and publisher. Its tag, word and recipient postings stay; queries
/// check every posting against the item's location entry, and an item
/// fetched again writes the same postings.
pub(crate) fn visible_postings(position: &Position, publisher: &CertificateId) -> Vec<Vec<u8>> {
    let at = position.key();
    let mut keys: Vec<Vec<u8>> = ItemKind::ALL
        .iter()
        .flat_map(|k| {
            Tlp::ALL
                .iter()
                .map(move |t| posting(kind_prefix(*k, *t), &at))
        })
        .collect();
    keys.push(posting(publisher_prefix(publisher), &at));
    keys
}

impl ItemStore {
    /// Builds the postings of every stored item unless the index says they
    /// exist: an older store, or an index rebuilt from the data file.
    pub(crate) fn ensure_query_index(&self) -> Result<(), StoreError> {
        let current = self
            .index
            .get(VERSION_KEY)
            .map_err(|e| self.sled(e))?
            .is_some_and(|v| v.as_ref() == [VERSION]);
        if current {
            return Ok(());
        }
        let started = std::time::Instant::now();
        // Postings of an older layout would answer wrongly: start afresh.
        let mut stale = sled::Batch::default();
        for key in self.index.scan_prefix([QUERY]).keys() {
            stale.remove(key.map_err(|e| self.sled(e))?);
        }
        self.index.apply_batch(stale).map_err(|e| self.sled(e))?;
        let pairs = self.index()?;
        for part in pairs.chunks(BUILD_BATCH) {
            let mut batch = sled::Batch::default();
            for (created, id) in part {
                // A damaged item is taken out by `load` and skipped.
                if let Some(item) = self.load(id)? {
                    let position = Position {
                        created: *created,
                        id: *id,
                    };
                    for key in postings(&item.body, &position) {
                        batch.insert(key, &[][..]);
                    }
                }
            }
            self.index.apply_batch(batch).map_err(|e| self.sled(e))?;
        }
        self.index
            .insert(VERSION_KEY, &[VERSION][..])
            .map_err(|e| self.sled(e))?;
        self.db.flush().map_err(|e| self.sled(e))?;
        if !pairs.is_empty() {
            tracing::info!(
                items = pairs.len(),
                path = %self.path.display(),
                ms = started.elapsed().as_millis() as u64,
                "built the query index of the stored items"
            );
        }
        Ok(())
    }
}
