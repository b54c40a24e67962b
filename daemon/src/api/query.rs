//! `QueryItems`: a reader's query resolved against what this node knows
//! (publisher names to certificates), answered newest first a page at a
//! time, each item shown through the one view every reader gets.

use super::{error, Api};
use crate::audience;
use cairn_protocol::control::ControlResponse;
use cairn_protocol::query::{Cursor, Facts, Filter, ItemPage, ItemQuery, Position, MAX_PAGE};
use cairn_protocol::{Certificate, CertificateId, ItemId, SignedItem};

impl Api {
    pub(super) async fn query_items(&self, query: ItemQuery) -> ControlResponse {
        if query.limit == 0 || query.limit > MAX_PAGE {
            return error(format!(
                "a page of {} items was asked for: give a limit from 1 to {MAX_PAGE} and page on with the cursor",
                query.limit
            ));
        }
        if let (Some(s), Some(u)) = (query.since, query.until) {
            if s >= u {
                return error(format!(
                    "--since {} is not before --until {}: nothing can match",
                    s.to_rfc3339(),
                    u.to_rfc3339()
                ));
            }
        }
        let names = self.names().await;
        let publishers = query.publisher.as_ref().map(|p| self.publishers_named(p));
        let filter = Filter::new(&query, publishers);
        let api = self.clone();
        let cursor = query.cursor;
        let limit = query.limit;
        let found = tokio::task::spawn_blocking(move || api.matching(&filter, cursor, limit)).await;
        let (found, next) = match found {
            Ok(Ok(page)) => page,
            Ok(Err(e)) => return error(e),
            Err(e) => return error(format!("internal error: {e}")),
        };
        let items = found
            .iter()
            .map(|(id, item)| self.item_view(*id, item, &names, false))
            .collect();
        ControlResponse::ItemPage(ItemPage { items, next })
    }

    /// Certificate ids the reader may mean by `given`: every certificate
    /// this node knows whose entity's legal name is `given` (any case), or
    /// whose member key or own id is `given` in hex. A pseudonym is found
    /// by its key or certificate, never by the entity's name.
    fn publishers_named(&self, given: &str) -> Vec<CertificateId> {
        let given = given.trim();
        let known = audience::known_certificates(&self.ctx, &[]);
        let by_name = |c: &Certificate| {
            c.body
                .subject
                .entity_name()
                .is_some_and(|n| n.eq_ignore_ascii_case(given))
        };
        let by_hex = |c: &Certificate| {
            c.body.member_key.to_string().eq_ignore_ascii_case(given)
                || c.id().to_string().eq_ignore_ascii_case(given)
        };
        let mut ids: Vec<CertificateId> = known
            .iter()
            .filter(|c| by_name(c) || by_hex(c))
            .map(Certificate::id)
            .collect();
        // An item's certificate id is worth matching even when this node
        // no longer keeps that certificate.
        if let Ok(id) = given.parse::<CertificateId>() {
            ids.push(id);
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Up to `limit` items after `cursor` that `filter` matches on this
    /// node, newest first, and the cursor of the next page (`None` when
    /// nothing more matches). From the store's postings; sealed items this
    /// node is a recipient of are opened and checked here when the filter
    /// asks about contents, since their contents are never indexed.
    #[allow(clippy::type_complexity)]
    fn matching(
        &self,
        filter: &Filter,
        cursor: Option<Cursor>,
        limit: usize,
    ) -> Result<(Vec<(ItemId, SignedItem)>, Option<Cursor>), String> {
        let store = &self.ctx.items;
        let after = cursor.map(|c| c.0);
        let found = store
            .find(filter, after, limit)
            .map_err(|e| format!("cannot search the item index: {e}"))?;
        let mut page: Vec<(Position, SignedItem)> = Vec::with_capacity(found.positions.len());
        for at in found.positions {
            // `None`: taken out just now because its bytes were damaged.
            if let Some(item) = self.load(&at.id)? {
                page.push((at, item));
            }
        }
        let mut more = found.more;
        if filter.asks_contents() {
            // Only sealed items before the end of this page can join it.
            let end = if more { page.last().map(|p| p.0) } else { None };
            let opened = self.sealed_matching(filter, after, end, limit)?;
            page.extend(opened);
            page.sort_by_key(|p| p.0);
            if page.len() > limit {
                page.truncate(limit);
                more = true;
            }
        }
        let next = if more {
            page.last().map(|(at, _)| Cursor(*at))
        } else {
            None
        };
        Ok((page.into_iter().map(|(at, i)| (at.id, i)).collect(), next))
    }

    /// Sealed items this node can open, after `after` and up to `end`, whose
    /// opened contents `filter` matches: at most `limit + 1`. Costs one
    /// opening per sealed item addressed to this node in that range.
    fn sealed_matching(
        &self,
        filter: &Filter,
        after: Option<Position>,
        end: Option<Position>,
        limit: usize,
    ) -> Result<Vec<(Position, SignedItem)>, String> {
        let mut keys = vec![self.ctx.key.public()];
        keys.extend(self.ctx.pseudonym.as_ref().map(|p| p.key.public()));
        let mut out = Vec::new();
        let mut from = after;
        loop {
            let batch = self
                .ctx
                .items
                .sealed_to(&keys, filter, from, SEALED_BATCH)
                .map_err(|e| format!("cannot search the item index: {e}"))?;
            for at in &batch.positions {
                if end.is_some_and(|e| *at > e) {
                    return Ok(out);
                }
                let Some(item) = self.load(&at.id)? else {
                    continue;
                };
                let opened = audience::open(&self.ctx, &item).ok().flatten();
                if opened.is_some() && filter.matches(&Facts::of(&item.body, opened.as_ref())) {
                    out.push((*at, item));
                    if out.len() > limit {
                        return Ok(out);
                    }
                }
            }
            if !batch.more {
                return Ok(out);
            }
            from = batch.positions.last().copied();
        }
    }

    fn load(&self, id: &ItemId) -> Result<Option<SignedItem>, String> {
        match self.ctx.items.get(id) {
            Ok(found) => Ok(found.map(|(item, _)| item)),
            Err(e) => Err(format!("cannot read item {id}: {e}")),
        }
    }
}

/// Sealed candidates read from the index at a time.
const SEALED_BATCH: usize = 256;
