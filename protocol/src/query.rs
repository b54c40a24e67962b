//! Finding items: the query a reader asks ([`ItemQuery`]), the order
//! answers come in (newest first, then by id), the opaque [`Cursor`] that
//! pages through them, the words of an item's text as search sees them
//! ([`words`]), and the one rule deciding whether an item matches
//! ([`Filter::matches`]).
//!
//! The store's index and a full scan both answer by these definitions, so
//! the two can be compared item for item (the store's property tests do).
//! A filter only ever looks at what the asking node may read: an item
//! sealed to an audience this node is not in shows its kind, marking,
//! publisher and time, and nothing else can match it.

use crate::certificate::CertificateId;
use crate::item::{Contents, ItemBody, ItemId, ItemKind};
use crate::time::Timestamp;
use crate::tlp::Tlp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Most items in one page; further ones are reached with the cursor.
pub const MAX_PAGE: usize = 10_000;

/// Longest word that is indexed and searched, in bytes (a SHA-256 in hex is
/// 64); longer runs of word characters are not words.
pub const MAX_WORD: usize = 128;

/// Most distinct words of one item that search finds (title first, then
/// the body in order). Bounds the index's cost of one item: a 64 KiB body
/// could otherwise post ten thousand words.
pub const MAX_ITEM_WORDS: usize = 1024;

/// What a reader asks for. Within one field the values are alternatives
/// (any of the kinds); across fields all must hold. Every tag, every tag
/// prefix and every word of `text` must match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemQuery {
    /// Any of these kinds; empty: every kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<ItemKind>,
    /// Any of these markings; empty: every marking.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlps: Vec<Tlp>,
    /// Tags the item carries, exactly (case matters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// For each, some tag of the item starts with it (`ioc:` finds
    /// `ioc:ipv4-addr=…`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_prefixes: Vec<String>,
    /// The publisher: an entity's legal name (every certificate the node
    /// knows under that name), a member key or a certificate id in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Created at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Created before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// Words that must all occur in the title or body (see [`words`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Where the previous page ended; absent: from the newest item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    /// Most items in the page (1 to [`MAX_PAGE`]).
    pub limit: usize,
}

/// An item's place in the answer order: newer first, equal times by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    pub created: u64,
    pub id: ItemId,
}

/// Length of [`Position::key`].
pub const POSITION_LEN: usize = 8 + ItemId::LEN;

impl Position {
    pub fn new(created: Timestamp, id: ItemId) -> Self {
        Position {
            created: created.millis(),
            id,
        }
    }

    /// Bytes that sort in answer order: the creation time inverted (so the
    /// newest comes first), then the id. Index keys end with these.
    pub fn key(&self) -> [u8; POSITION_LEN] {
        let mut k = [0; POSITION_LEN];
        k[..8].copy_from_slice(&(u64::MAX - self.created).to_be_bytes());
        k[8..].copy_from_slice(self.id.as_bytes());
        k
    }

    /// The position whose [`Position::key`] is `key`.
    pub fn from_key(key: &[u8]) -> Option<Self> {
        if key.len() != POSITION_LEN {
            return None;
        }
        let inverted = u64::from_be_bytes(key[..8].try_into().ok()?);
        Some(Position {
            created: u64::MAX - inverted,
            id: ItemId::from_slice(&key[8..]).ok()?,
        })
    }
}

impl PartialOrd for Position {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Answer order: a position is "less" when it comes first.
impl Ord for Position {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// Where a page ended: the next page holds the items after it in answer
/// order. Opaque to readers (a string of hex digits); it stays valid while
/// items arrive, since newer items sort before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cursor(pub Position);

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0.key()))
    }
}

/// A string that is not a cursor this node gave out.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a cursor: pass back the `next` value a previous page printed")]
pub struct BadCursor(String);

impl std::str::FromStr for Cursor {
    type Err = BadCursor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadCursor(s.chars().take(100).collect());
        let bytes = hex::decode(s.trim()).map_err(|_| bad())?;
        Position::from_key(&bytes).map(Cursor).ok_or_else(bad)
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One page of a query's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemPage<T> {
    pub items: Vec<T>,
    /// Pass back as [`ItemQuery::cursor`] for the next page; absent: this
    /// was the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Cursor>,
}

/// The searchable words of `text`: runs of letters, digits and `.-_@`
/// (so `198.51.100.7`, `CVE-2026-1234`, `evil.example.com` and addresses
/// stay whole), with `.-_@` trimmed from their ends, lowercased; runs over
/// [`MAX_WORD`] bytes are left out. In order of first appearance, each once.
pub fn words(text: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    push_words(text, &mut seen, &mut out, usize::MAX);
    out
}

/// The words search finds in an item's contents: title first, then body,
/// at most [`MAX_ITEM_WORDS`].
pub fn item_words(contents: &Contents) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    push_words(&contents.title, &mut seen, &mut out, MAX_ITEM_WORDS);
    push_words(&contents.body, &mut seen, &mut out, MAX_ITEM_WORDS);
    out
}

fn push_words(text: &str, seen: &mut BTreeSet<String>, out: &mut Vec<String>, cap: usize) {
    let joiner = |c: char| matches!(c, '.' | '-' | '_' | '@');
    for run in text.split(|c: char| !(c.is_alphanumeric() || joiner(c))) {
        if out.len() >= cap {
            return;
        }
        let word = run.trim_matches(joiner);
        if word.is_empty() || word.len() > MAX_WORD {
            continue;
        }
        let word = word.to_lowercase();
        if seen.insert(word.clone()) {
            out.push(word);
        }
    }
}

/// A query resolved to what items carry: publisher names turned into
/// certificate ids, text into words, times into milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub kinds: Vec<ItemKind>,
    pub tlps: Vec<Tlp>,
    pub tags: Vec<String>,
    pub tag_prefixes: Vec<String>,
    /// `None`: any publisher. `Some` of an empty list: nobody (a name no
    /// certificate known here carries).
    pub publishers: Option<Vec<CertificateId>>,
    /// Created at or after, in milliseconds.
    pub since: Option<u64>,
    /// Created before, in milliseconds.
    pub until: Option<u64>,
    pub words: Vec<String>,
}

/// What a filter may look at of one item on this node.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    pub kind: ItemKind,
    pub tlp: Tlp,
    pub created: u64,
    pub publisher: CertificateId,
    /// The contents if this node may read them (open, or sealed to it and
    /// opened); `None` for a sealed item it cannot read.
    pub contents: Option<&'a Contents>,
}

impl<'a> Facts<'a> {
    /// The facts of `body`, with `opened` the contents of a sealed item this
    /// node opened (ignored for an open item).
    pub fn of(body: &'a ItemBody, opened: Option<&'a Contents>) -> Self {
        Facts {
            kind: body.kind,
            tlp: body.tlp,
            created: body.created.millis(),
            publisher: body.publisher,
            contents: body.open_contents().or(opened),
        }
    }
}

impl Filter {
    /// The filter `query` stands for, with its publisher already resolved
    /// (see [`Filter::publishers`]).
    pub fn new(query: &ItemQuery, publishers: Option<Vec<CertificateId>>) -> Self {
        Filter {
            kinds: query.kinds.clone(),
            tlps: query.tlps.clone(),
            tags: query.tags.clone(),
            tag_prefixes: query.tag_prefixes.clone(),
            publishers,
            since: query.since.map(Timestamp::millis),
            until: query.until.map(Timestamp::millis),
            words: query.text.as_deref().map(words).unwrap_or_default(),
        }
    }

    /// Whether the filter asks about contents (tags or words), which a
    /// sealed item this node cannot read never matches.
    pub fn asks_contents(&self) -> bool {
        !(self.tags.is_empty() && self.tag_prefixes.is_empty() && self.words.is_empty())
    }

    /// Whether an item with these facts is in the answer.
    pub fn matches(&self, f: &Facts<'_>) -> bool {
        let any = |list: &[ItemKind]| list.is_empty() || list.contains(&f.kind);
        if !any(&self.kinds) || !(self.tlps.is_empty() || self.tlps.contains(&f.tlp)) {
            return false;
        }
        if let Some(p) = &self.publishers {
            if !p.contains(&f.publisher) {
                return false;
            }
        }
        if self.since.is_some_and(|s| f.created < s) || self.until.is_some_and(|u| f.created >= u) {
            return false;
        }
        if !self.asks_contents() {
            return true;
        }
        let Some(c) = f.contents else {
            return false;
        };
        let has_tag = |t: &String| c.tags.contains(t);
        let has_prefix = |p: &String| c.tags.iter().any(|t| t.starts_with(p.as_str()));
        if !self.tags.iter().all(has_tag) || !self.tag_prefixes.iter().all(has_prefix) {
            return false;
        }
        if self.words.is_empty() {
            return true;
        }
        let found = item_words(c);
        self.words.iter().all(|w| found.contains(w))
    }
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
