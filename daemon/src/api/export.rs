//! Pages of items for exports (STIX, TAXII, MISP feeds): only what the export
//! policy lets out of this node's view of each item.

use super::Api;
use cairn_protocol::control::{ExportPage, ExportQuery};
use cairn_protocol::interop::{check_export, WithheldCounts};
use cairn_protocol::{ItemId, Timestamp};

/// Most items in one export page.
const EXPORT_PAGE_ITEMS: usize = 500;
/// Items looked at for one export page at most (filters may drop many).
const EXPORT_PAGE_SCAN: usize = 2_000;
/// A page ends once its payloads and bodies pass this many bytes.
const EXPORT_PAGE_BYTES: usize = 8 << 20;

impl Api {
    /// One page of an export: the items after `q.after` in creation order
    /// that match the query, as views with payloads, each let out by the
    /// export policy ([`check_export`]) or counted as withheld. Scans a
    /// bounded number of items per page, so a page may come back short (or
    /// empty) with a `next` cursor.
    pub(crate) async fn export_page(&self, q: &ExportQuery) -> Result<ExportPage, String> {
        if let Some(id) = q.item {
            return self.export_one(&id, q).await;
        }
        let limit = q.limit.clamp(1, EXPORT_PAGE_ITEMS);
        let names = self.names().await;
        let since = q.since.map(|t| t.millis()).unwrap_or(0);
        let after = q.after.map(|(t, id)| (t.millis(), id));
        let scan = self.ctx.index.after(after, since, EXPORT_PAGE_SCAN);
        let mut items = Vec::new();
        let mut withheld = WithheldCounts::default();
        let mut bytes = 0;
        let mut last = None;
        for (created, id) in &scan {
            if items.len() >= limit || bytes >= EXPORT_PAGE_BYTES {
                break;
            }
            last = Some((Timestamp(*created), *id));
            let item = match self.ctx.items.get(id) {
                Ok(Some((item, _))) => item,
                // Taken out just now because its bytes were damaged.
                Ok(None) => continue,
                Err(e) => return Err(format!("cannot read item {id}: {e}")),
            };
            if !q.kinds.is_empty() && !q.kinds.contains(&item.body.kind) {
                continue;
            }
            let view = self.item_view(*id, &item, &names, true);
            if let Err(why) = check_export(&view, &q.policy) {
                withheld.add(why);
                continue;
            }
            bytes += view.payload_size + view.body.len();
            items.push(view);
        }
        let more = match last {
            Some((t, id)) => {
                scan.last() != Some(&(t.millis(), id)) || scan.len() == EXPORT_PAGE_SCAN
            }
            None => false,
        };
        Ok(ExportPage {
            items,
            withheld,
            next: last.filter(|_| more),
        })
    }

    /// The one item `id` as an export page: its view if the policy lets it
    /// out, else the reason counted as withheld (the caller says why).
    async fn export_one(&self, id: &ItemId, q: &ExportQuery) -> Result<ExportPage, String> {
        let item = match self.ctx.items.get(id) {
            Ok(Some((item, _))) => item,
            Ok(None) => {
                return Err(format!(
                    "no item {id} on this node: `cairn items list` shows what is here"
                ))
            }
            Err(e) => return Err(format!("cannot read item {id}: {e}")),
        };
        let names = self.names().await;
        let view = self.item_view(*id, &item, &names, true);
        let mut withheld = WithheldCounts::default();
        let mut items = Vec::new();
        match check_export(&view, &q.policy) {
            Ok(()) => items.push(view),
            Err(why) => withheld.add(why),
        }
        Ok(ExportPage {
            items,
            withheld,
            next: None,
        })
    }
}
