//! Answering a query from the postings (`query_index.rs`): each clause of
//! the filter is a stream of positions in answer order, and the answer is
//! their intersection, found by leapfrogging: every stream jumps to the
//! furthest position any other has reached, until all agree. A query costs
//! in proportion to the jumps it makes, not to the items stored.

use super::query_index::{
    kind_prefix, namespace_prefix, namespaces, publisher_prefix, recipient_prefix, tag_prefix,
    word_prefix, BY_TAG, QUERY,
};
use super::*;
use cairn_protocol::query::{Filter, Position, POSITION_LEN};
use cairn_protocol::{ItemBody, ItemKind, PublicKey, Tlp};

type Key = [u8; POSITION_LEN];

/// Distinct tags under a prefix that are merged list by list; past this,
/// the prefix's postings are read and sorted at once (then a query costs in
/// proportion to the items the prefix matches).
const MERGED_TAGS: usize = 256;

/// One posting list, read lazily: `next` is its first position at or after
/// the last position asked for.
struct List {
    prefix: Vec<u8>,
    next: Option<Key>,
    asked: bool,
    ended: bool,
}

/// A clause: positions in answer order that satisfy it.
enum Stream {
    /// Any of these lists.
    Union(Vec<List>),
    /// Positions read and sorted beforehand.
    Sorted { keys: Vec<Key>, at: usize },
}

/// A page of positions, and whether the answer goes on after it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub positions: Vec<Position>,
    /// More items match after the page.
    pub more: bool,
}

impl ItemStore {
    /// Up to `limit` stored items after `after` (in answer order) matching
    /// `filter`, newest first, found from the postings. Tag and word
    /// clauses find open items only: a sealed item's contents are not
    /// indexed (see `sealed_to` for the ones this node may open).
    pub fn find(
        &self,
        filter: &Filter,
        after: Option<Position>,
        limit: usize,
    ) -> Result<Found, StoreError> {
        // The cursor first: an item indexed after this read is found by
        // both halves, and the merge keeps it once.
        let cursor = self.index_cursor();
        let found = match self.streams(filter)? {
            Some(mut streams) => self.leapfrog(&mut streams, filter, after, limit)?,
            None => Found::default(),
        };
        let tail = self.unindexed_matching(cursor, filter, after, &found, limit, |_| true)?;
        Ok(found.merged(tail.into_iter(), limit))
    }

    /// Up to `limit` sealed items after `after` whose recipients include one
    /// of `keys` and whose visible fields (kind, marking, publisher, time)
    /// match `filter`; the caller opens them and checks the rest.
    pub fn sealed_to(
        &self,
        keys: &[PublicKey],
        filter: &Filter,
        after: Option<Position>,
        limit: usize,
    ) -> Result<Found, StoreError> {
        let visible = Filter {
            tags: Vec::new(),
            tag_prefixes: Vec::new(),
            words: Vec::new(),
            ..filter.clone()
        };
        let cursor = self.index_cursor();
        let found = match self.streams(&visible)? {
            Some(mut streams) => {
                let lists = keys
                    .iter()
                    .map(|k| List::new(recipient_prefix(k)))
                    .collect();
                streams.push(Stream::Union(lists));
                self.leapfrog(&mut streams, filter, after, limit)?
            }
            None => Found::default(),
        };
        let to_us = |body: &ItemBody| {
            body.envelope()
                .is_some_and(|e| e.recipients.iter().any(|r| keys.contains(&r.member_key)))
        };
        let tail = self.unindexed_matching(cursor, &visible, after, &found, limit, to_us)?;
        Ok(found.merged(tail.into_iter(), limit))
    }

    /// The streams of `filter`'s clauses, or `None` when a clause can match
    /// nothing.
    fn streams(&self, filter: &Filter) -> Result<Option<Vec<Stream>>, StoreError> {
        let kinds = if filter.kinds.is_empty() {
            ItemKind::ALL
        } else {
            &filter.kinds[..]
        };
        let tlps = if filter.tlps.is_empty() {
            Tlp::ALL
        } else {
            &filter.tlps[..]
        };
        // Every item has one kind posting, so the union of all of them is
        // the whole store in answer order: needed only when no other clause
        // narrows the answer (an unfiltered stream of 45 lists would only
        // slow the intersection down).
        let by_kind: Vec<List> = kinds
            .iter()
            .flat_map(|k| tlps.iter().map(move |t| List::new(kind_prefix(*k, *t))))
            .collect();
        let narrowed_by_kind = !(filter.kinds.is_empty() && filter.tlps.is_empty());
        let mut streams = Vec::new();
        if narrowed_by_kind {
            streams.push(Stream::Union(by_kind));
            return self.more_streams(filter, streams, None);
        }
        self.more_streams(filter, streams, Some(by_kind))
    }

    /// `streams` with the clauses beyond kind and marking added; `whole`,
    /// the stream of every item, if nothing else narrows the answer.
    fn more_streams(
        &self,
        filter: &Filter,
        mut streams: Vec<Stream>,
        whole: Option<Vec<List>>,
    ) -> Result<Option<Vec<Stream>>, StoreError> {
        if let Some(publishers) = &filter.publishers {
            if publishers.is_empty() {
                return Ok(None);
            }
            let lists = publishers
                .iter()
                .map(|p| List::new(publisher_prefix(p)))
                .collect();
            streams.push(Stream::Union(lists));
        }
        for tag in &filter.tags {
            streams.push(Stream::Union(vec![List::new(tag_prefix(tag))]));
        }
        for prefix in &filter.tag_prefixes {
            streams.push(self.tags_starting(prefix)?);
        }
        for word in &filter.words {
            streams.push(Stream::Union(vec![List::new(word_prefix(word))]));
        }
        if streams.is_empty() {
            streams.push(Stream::Union(whole.unwrap_or_default()));
        }
        Ok(Some(streams))
    }

    /// The stream of items with a tag starting with `prefix`: one list per
    /// distinct tag while they are few, else every posting read and sorted.
    fn tags_starting(&self, prefix: &str) -> Result<Stream, StoreError> {
        if namespaces(prefix).last() == Some(prefix) {
            return Ok(Stream::Union(vec![List::new(namespace_prefix(prefix))]));
        }
        let mut start = vec![QUERY, BY_TAG];
        start.extend_from_slice(prefix.as_bytes());
        let mut lists = Vec::new();
        let mut from = start.clone();
        while lists.len() <= MERGED_TAGS {
            let Some(entry) = self.postings.range(from.clone()..).next() else {
                break;
            };
            let (key, _) = entry.map_err(|e| self.sled(e))?;
            if !key.starts_with(&start) {
                break;
            }
            let Some(end) = key[2..].iter().position(|b| *b == 0) else {
                return Err(self.damaged(format!("tag posting {} is malformed", hex::encode(&key))));
            };
            let tag_key = key[..2 + end + 1].to_vec();
            // The next distinct tag sorts after every key of this one.
            from = tag_key.clone();
            *from.last_mut().expect("ends with 0") = 1;
            lists.push(List::new(tag_key));
        }
        if lists.len() <= MERGED_TAGS {
            return Ok(Stream::Union(lists));
        }
        let mut keys = Vec::new();
        for entry in self.postings.scan_prefix(&start).keys() {
            let key = entry.map_err(|e| self.sled(e))?;
            let tail = key.len().checked_sub(POSITION_LEN).map(|s| &key[s..]);
            match tail.and_then(|t| Key::try_from(t).ok()) {
                Some(k) => keys.push(k),
                None => {
                    return Err(
                        self.damaged(format!("tag posting {} is malformed", hex::encode(&key)))
                    )
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(Stream::Sorted { keys, at: 0 })
    }

    /// The intersection of `streams` after `after` within the filter's
    /// times, up to `limit` items that are still stored.
    fn leapfrog(
        &self,
        streams: &mut [Stream],
        filter: &Filter,
        after: Option<Position>,
        limit: usize,
    ) -> Result<Found, StoreError> {
        let mut at: Key = [0; POSITION_LEN];
        if let Some(until) = filter.until {
            // Created before `until`: from the newest such time on.
            let newest = until.saturating_sub(1);
            at[..8].copy_from_slice(&(u64::MAX - newest).to_be_bytes());
            if until == 0 {
                return Ok(Found {
                    positions: Vec::new(),
                    more: false,
                });
            }
        }
        if let Some(after) = after {
            match successor(after.key()) {
                Some(next) => at = at.max(next),
                None => {
                    return Ok(Found {
                        positions: Vec::new(),
                        more: false,
                    })
                }
            }
        }
        // Created at or after `since`: up to the oldest such time.
        let last_inverted = u64::MAX - filter.since.unwrap_or(0);
        let mut positions = Vec::new();
        'answer: loop {
            let mut agreed = 0;
            let mut i = 0;
            while agreed < streams.len() {
                let Some(next) = self.seek(&mut streams[i], &at)? else {
                    break 'answer;
                };
                if next == at {
                    agreed += 1;
                } else {
                    at = next;
                    agreed = 1;
                    if inverted_time(&at) > last_inverted {
                        break 'answer;
                    }
                }
                i = (i + 1) % streams.len();
            }
            if inverted_time(&at) > last_inverted {
                break;
            }
            let position = Position::from_key(&at).expect("a whole key");
            // Tag, word and recipient postings of an item taken out stay
            // behind (see `visible_postings`): the location entry decides.
            if self.contains(&position.id)? {
                if positions.len() == limit {
                    return Ok(Found {
                        positions,
                        more: true,
                    });
                }
                positions.push(position);
            }
            match successor(at) {
                Some(next) => at = next,
                None => break,
            }
        }
        Ok(Found {
            positions,
            more: false,
        })
    }

    /// The first position of `stream` at or after `at`.
    fn seek(&self, stream: &mut Stream, at: &Key) -> Result<Option<Key>, StoreError> {
        match stream {
            Stream::Sorted { keys, at: i } => {
                while *i < keys.len() && keys[*i] < *at {
                    *i += 1;
                }
                Ok(keys.get(*i).copied())
            }
            Stream::Union(lists) => {
                let mut best: Option<Key> = None;
                for list in lists.iter_mut() {
                    if let Some(k) = self.seek_list(list, at)? {
                        best = Some(best.map_or(k, |b| b.min(k)));
                    }
                }
                Ok(best)
            }
        }
    }

    fn seek_list(&self, list: &mut List, at: &Key) -> Result<Option<Key>, StoreError> {
        // Seeks only move forward, so an answer at or after `at` still is
        // the first one there.
        if list.ended || (list.asked && list.next.is_some_and(|n| n >= *at)) {
            return Ok(list.next);
        }
        let mut from = list.prefix.clone();
        from.extend_from_slice(at);
        list.asked = true;
        list.next = match self.postings.range(from..).next() {
            Some(entry) => {
                let (key, _) = entry.map_err(|e| self.sled(e))?;
                match key.strip_prefix(&list.prefix[..]) {
                    Some(tail) => Some(Key::try_from(tail).map_err(|_| {
                        self.damaged(format!("posting {} is malformed", hex::encode(&key)))
                    })?),
                    None => None,
                }
            }
            None => None,
        };
        list.ended = list.next.is_none();
        Ok(list.next)
    }
}

impl List {
    fn new(prefix: Vec<u8>) -> Self {
        List {
            prefix,
            next: None,
            asked: false,
            ended: false,
        }
    }
}

fn inverted_time(key: &Key) -> u64 {
    u64::from_be_bytes(key[..8].try_into().expect("8 bytes"))
}

/// The key right after `key` in byte order among keys of its length.
fn successor(mut key: Key) -> Option<Key> {
    for b in key.iter_mut().rev() {
        if *b == u8::MAX {
            *b = 0;
        } else {
            *b += 1;
            return Some(key);
        }
    }
    None
}
