//! Listing the collection: its order, the `next` tokens that page through
//! it, and the objects a user may see of each entry.
//!
//! The collection's order: first the TLP 2.0 marking definitions the user
//! may see (their `date_added` is the date OASIS created them), then every
//! item in the order this node stored it (`date_added`: when it stored the
//! item), each item's STIX objects in the order the exporter gives them.
//! Items are only appended, so a position never moves: a `next` token is
//! that position (entry, object), and paging from it gives every object
//! exactly once even while items arrive.

use super::{refuse, Refusal, Taxii};
use crate::config::TaxiiUser;
use axum::http::StatusCode;
use cairn_protocol::interop::check_export;
use cairn_protocol::interop::stix::{self, marking_definition};
use cairn_protocol::interop::taxii::{version_of, Cursor, Filter};
use cairn_protocol::{Timestamp, Tlp};
use cairn_store::items::StoredAt;
use serde_json::Value;

/// Objects per page unless the client asks for fewer.
const DEFAULT_LIMIT: usize = 100;
/// Most objects per page.
const MAX_LIMIT: usize = 1000;
/// Items looked at per listing request at most; a page may come back short
/// (with `more`) when filters skip many.
pub(super) const SCAN_BUDGET: usize = 5000;
/// Items read from the store at a time.
const BATCH: usize = 256;
/// Entries below this are the marking definitions; items are above.
const ITEMS_FROM: u64 = 1 << 24;
/// When OASIS created the TLP 2.0 marking definitions.
const MARKINGS_ADDED: Timestamp = Timestamp(1_664_582_400_000);

fn entry_of(at: StoredAt) -> u64 {
    ((at.chunk + 1) << 24) | u64::from(at.index)
}

fn stored_at(entry: u64) -> StoredAt {
    if entry < ITEMS_FROM {
        return StoredAt::default();
    }
    StoredAt {
        chunk: (entry >> 24) - 1,
        index: (entry & (ITEMS_FROM - 1)) as u32,
    }
}

/// Where a listing starts.
#[derive(Clone, Copy, Debug)]
pub(super) enum Start {
    At(Cursor),
    AddedAfter(Timestamp),
}

/// One object found, with its date_added.
pub(super) struct Found {
    pub(super) object: Value,
    pub(super) added: Timestamp,
}

/// A listing's result.
pub(super) struct Listing {
    pub(super) found: Vec<Found>,
    /// Where the next page starts, if there is more.
    pub(super) next: Option<Cursor>,
}

impl Taxii {
    /// The objects of one entry as `user` may see them (none for an item it
    /// may not).
    async fn entry_objects(
        &self,
        entry: u64,
        id: Option<cairn_protocol::ItemId>,
        user: &TaxiiUser,
        names: &crate::audience::Names,
    ) -> Result<Vec<Value>, String> {
        if entry < ITEMS_FROM {
            let tlp = Tlp::ALL.get(entry as usize).copied();
            return Ok(tlp
                .filter(|t| *t <= Taxii::policy(user).max_tlp)
                .map(marking_definition)
                .into_iter()
                .collect());
        }
        let Some(id) = id else { return Ok(vec![]) };
        let item = match self.ctx.items.get(&id) {
            Ok(Some((item, _))) => item,
            Ok(None) => return Ok(vec![]),
            Err(e) => return Err(format!("cannot read item {id}: {e}")),
        };
        let view = self.api.item_view(id, &item, names, true);
        if check_export(&view, &Taxii::policy(user)).is_err() {
            return Ok(vec![]);
        }
        Ok(stix::item_objects(&view).objects)
    }

    /// Objects from `start` on that pass `filter`, at most `limit`, looking
    /// at no more than `budget` items.
    pub(super) async fn list(
        &self,
        user: &TaxiiUser,
        start: Start,
        filter: &Filter,
        limit: usize,
        budget: usize,
    ) -> Result<Listing, String> {
        let names = self.api.names().await;
        let (mut entry, mut skip) = match start {
            Start::At(c) => (c.entry, c.object),
            Start::AddedAfter(t) if t < MARKINGS_ADDED => (0, 0),
            Start::AddedAfter(t) => {
                let at = self
                    .ctx
                    .items
                    .first_stored_after(t)
                    .map_err(|e| e.to_string())?;
                (entry_of(at), 0)
            }
        };
        let mut found = Vec::new();
        let mut scanned = 0;
        // One object past the page tells whether there is more.
        let take = |objects: Vec<Value>,
                    added: Timestamp,
                    entry: u64,
                    skip: u32,
                    found: &mut Vec<Found>|
         -> Option<Cursor> {
            for (i, o) in objects.into_iter().enumerate().skip(skip as usize) {
                let v = version_of(&o, &added.to_rfc3339_millis());
                if !filter.matches_object(&o) || !filter.matches_version(&v, &v, &v) {
                    continue;
                }
                let at = Cursor {
                    entry,
                    object: i as u32,
                };
                if found.len() == limit {
                    return Some(at);
                }
                found.push(Found { object: o, added });
            }
            None
        };
        while entry < Tlp::ALL.len() as u64 {
            let objects = self.entry_objects(entry, None, user, &names).await?;
            if let Some(next) = take(objects, MARKINGS_ADDED, entry, skip, &mut found) {
                return Ok(Listing {
                    found,
                    next: Some(next),
                });
            }
            entry += 1;
            skip = 0;
        }
        let mut from = stored_at(entry.max(ITEMS_FROM));
        loop {
            let batch = self
                .ctx
                .items
                .stored_from(from, BATCH)
                .map_err(|e| e.to_string())?;
            let Some(last) = batch.last() else {
                return Ok(Listing { found, next: None });
            };
            from = StoredAt {
                chunk: last.at.chunk,
                index: last.at.index + 1,
            };
            for a in batch {
                let e = entry_of(a.at);
                let first_skip = if e == entry { skip } else { 0 };
                if scanned >= budget {
                    return Ok(Listing {
                        found,
                        next: Some(Cursor {
                            entry: e,
                            object: first_skip,
                        }),
                    });
                }
                scanned += 1;
                let objects = self.entry_objects(e, Some(a.id), user, &names).await?;
                if let Some(next) = take(objects, a.added, e, first_skip, &mut found) {
                    return Ok(Listing {
                        found,
                        next: Some(next),
                    });
                }
            }
        }
    }
}

/// `limit`, `next` and `added_after` of a listing.
pub(super) fn paging(params: &[(String, String)]) -> Result<(usize, Start), Refusal> {
    let bad = |m: String| refuse(StatusCode::BAD_REQUEST, "Bad request", m);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let limit = match get("limit") {
        Some(l) => match l.parse::<usize>() {
            Ok(n) if n > 0 => n.min(MAX_LIMIT),
            _ => return Err(bad(format!("limit {l:?} is not a positive number"))),
        },
        None => DEFAULT_LIMIT,
    };
    let start = match (get("next"), get("added_after")) {
        (Some(n), _) if !n.is_empty() => match Cursor::parse(n) {
            Some(c) => Start::At(c),
            None => return Err(bad(format!("next {n:?} is not a token this server gave"))),
        },
        (_, Some(t)) => match Timestamp::parse_rfc3339(t) {
            Ok(t) => Start::AddedAfter(t),
            Err(e) => return Err(bad(format!("added_after: {e}"))),
        },
        _ => Start::At(Cursor {
            entry: 0,
            object: 0,
        }),
    };
    Ok((limit, start))
}
