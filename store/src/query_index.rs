//! The query index: postings that let a query find items by kind, marking,
//! publisher, tag and word, newest first, without reading every item.
//!
//! They live in a sled database of their own beside the item index
//! (`items.query`), under the prefix `Q`: it is flushed by sled on its own
//! schedule, never with the fsync that makes an item durable, and it can
//! be removed at any time (it is written again from the items). They are
//! written behind the store's writes, not with them (`query_indexer.rs`):
//! an item's dozens of postings would otherwise make every insert several
//! times slower and lengthen the path from arrival to relay. Queries stay
//! exact meanwhile: what the postings do not cover yet, the items of the
//! time chunks from the cursor `Qc` on, is read and checked directly (see
//! `query_plan.rs`). Every posting is a key with an empty value,
//! ending with the item's [`Position::key`] (inverted creation time, then
//! id), so a range of one posting list comes out in answer order and a
//! query can jump to any position (see `query_plan.rs`):
//!
//! - `Qk` kind, marking, position: every item (both are visible on sealed
//!   items too);
//! - `Qp` publisher certificate id, position: every item;
//! - `Qg` tag, 0, position: tags of open items (tags hold no control
//!   characters, so 0 ends them);
//! - `Qh` namespace, 0, position: each namespace of an open item's tags
//!   (`cve:`, `ioc:ipv4-addr=`: see [`namespaces`]), so that a prefix query
//!   for one is a single list however many distinct tags it holds;
//! - `Qw` word, 0, position: the words of open items' titles and bodies
//!   ([`item_words`]);
//! - `Qr` member key, position: sealed items, one per recipient key, so a
//!   recipient finds what it may open without opening everything;
//! - `Qc` -> time chunk number: every item of the chunks before it has its
//!   postings (an item of a later chunk may have some of them already;
//!   writing a posting again changes nothing);
//! - `Qv`: the layout's version. Postings of another layout are removed at
//!   open and the cursor starts again from the first chunk.
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
pub(crate) const BY_NAMESPACE: u8 = b'h';
pub(crate) const BY_WORD: u8 = b'w';
pub(crate) const BY_RECIPIENT: u8 = b'r';
const VERSION_KEY: &[u8] = b"Qv";
pub(crate) const CURSOR_KEY: &[u8] = b"Qc";
/// Bumped when the posting layout or the words of an item change: the
/// postings are then built again, behind the store's writes.
/// 2: postings written behind the writes, with a cursor; 3: namespaces.
const VERSION: u8 = 3;

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

/// The list of items with a tag in the namespace `namespace` (a tag's
/// start up to and including a `:` or `=`, see [`namespaces`]).
pub(crate) fn namespace_prefix(namespace: &str) -> Vec<u8> {
    list_prefix(BY_NAMESPACE, namespace.as_bytes(), true)
}

/// Where a tag's namespaces end: after each `:` and `=` (`cve:`, `ioc:`,
/// `ioc:ipv4-addr=`, `nis2:impact-sectors-impacted=`). A prefix query
/// names one of these far more often than any other prefix, and some of
/// them hold thousands of distinct tags (every CVE id), whose lists a
/// query would otherwise read whole and sort.
pub(crate) fn namespaces(tag: &str) -> impl Iterator<Item = &str> {
    tag.char_indices()
        .filter(|(_, c)| *c == ':' || *c == '=')
        .map(move |(i, _)| &tag[..=i])
        .take(MAX_NAMESPACES)
}

/// Namespaces posted per tag: bounds what one long tag costs.
const MAX_NAMESPACES: usize = 4;

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
            let mut spaces: Vec<&str> = Vec::new();
            for tag in tags {
                keys.push(posting(tag_prefix(tag), &at));
                spaces.extend(namespaces(tag));
            }
            spaces.sort_unstable();
            spaces.dedup();
            keys.extend(spaces.iter().map(|n| posting(namespace_prefix(n), &at)));
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
    /// Reads the query index's cursor, or starts the index afresh when its
    /// postings were written by another layout (or none exist: an older
    /// store, an index rebuilt from the data file). Nothing is built here:
    /// a node with a million items starts at once, and the indexer
    /// (`query_indexer.rs`) catches up behind it.
    pub(crate) fn open_query_index(&self) -> Result<(), StoreError> {
        let current = self
            .postings
            .get(VERSION_KEY)
            .map_err(|e| self.sled(e))?
            .is_some_and(|v| v.as_ref() == [VERSION]);
        if !current {
            // Postings of another layout would answer wrongly; the batch
            // runs before anything else writes (start-up), so holding
            // sled's write lock meanwhile delays nobody.
            let mut stale = sled::Batch::default();
            for key in self.postings.scan_prefix([QUERY]).keys() {
                stale.remove(key.map_err(|e| self.sled(e))?);
            }
            stale.insert(VERSION_KEY, &[VERSION][..]);
            self.postings.apply_batch(stale).map_err(|e| self.sled(e))?;
        }
        let cursor = match self.postings.get(CURSOR_KEY).map_err(|e| self.sled(e))? {
            Some(v) => v
                .as_ref()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| self.damaged("the query index cursor is not 8 bytes".into()))?,
            None => 0,
        };
        // The items' index may have lost its last chunks in a crash (and
        // will number new chunks from there): index those numbers again.
        let chunks = self.next_chunk.load(std::sync::atomic::Ordering::Acquire);
        self.indexed_to
            .store(cursor.min(chunks), std::sync::atomic::Ordering::Release);
        Ok(())
    }
}
