//! Answering from items the query index does not cover yet: the time
//! chunks from the index's cursor on (see `query_indexer.rs`). A page
//! from the postings is joined with the matching ones among them, so an
//! item is findable as soon as it is stored, and a lagging index makes a
//! query slower, never wrong.

use super::query_plan::Found;
use super::ItemStore;
use crate::error::StoreError;
use crate::item_index::{chunk_key, TIME};
use cairn_protocol::query::{Facts, Filter, Position};
use cairn_protocol::ItemBody;

impl Found {
    /// This page (from the postings) joined with `unindexed`, the matching
    /// items that may lack postings: the first `limit` of both in answer
    /// order. When the postings' page was full, everything after its last
    /// position is cut off anyway, so the join is exact.
    pub(crate) fn merged(self, unindexed: impl Iterator<Item = Position>, limit: usize) -> Found {
        let mut positions = self.positions;
        positions.extend(unindexed);
        positions.sort_unstable();
        positions.dedup();
        let mut more = self.more;
        if positions.len() > limit {
            positions.truncate(limit);
            more = true;
        }
        Found { positions, more }
    }
}

impl ItemStore {
    /// The positions of the items of the chunks from `cursor` on (those
    /// that may lack postings), in answer order.
    pub(crate) fn unindexed(&self, cursor: u64) -> Result<Vec<Position>, StoreError> {
        let mut out = Vec::new();
        for entry in self.index.range(chunk_key(cursor)..) {
            let (key, value) = entry.map_err(|e| self.sled(e))?;
            if key.first() != Some(&TIME) {
                break;
            }
            let pairs = self.parse_chunk(&key, &value)?;
            out.extend(
                pairs
                    .into_iter()
                    .map(|(created, id)| Position { created, id }),
            );
        }
        out.sort_unstable();
        Ok(out)
    }

    /// The items of the chunks from `cursor` on (which may lack postings)
    /// that `filter` and `also` accept, after `after` and, when `found` is a
    /// full page, not after its end: those are the only ones that can join
    /// the page. Read in answer order and only until `limit + 1` match, so a
    /// large unindexed tail (a store whose postings are being written
    /// again) costs a newest-first page about `limit` item reads.
    pub(crate) fn unindexed_matching(
        &self,
        cursor: u64,
        filter: &Filter,
        after: Option<Position>,
        found: &Found,
        limit: usize,
        also: impl Fn(&ItemBody) -> bool,
    ) -> Result<Vec<Position>, StoreError> {
        let end = if found.more {
            found.positions.last().copied()
        } else {
            None
        };
        let in_range = |at: &Position| {
            after.is_none_or(|a| *at > a)
                && end.is_none_or(|e| *at <= e)
                && filter.since.is_none_or(|s| at.created >= s)
                && filter.until.is_none_or(|u| at.created < u)
        };
        let mut out = Vec::new();
        for at in self.unindexed(cursor)?.into_iter().filter(in_range) {
            let Some(item) = self.load(&at.id)? else {
                continue;
            };
            if also(&item.body) && filter.matches(&Facts::of(&item.body, None)) {
                out.push(at);
                // One more than the page: says whether the answer goes on.
                if out.len() > limit {
                    break;
                }
            }
        }
        Ok(out)
    }
}
