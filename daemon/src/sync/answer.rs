//! The answering side of catch-up: a member's reconciliation messages and
//! fetch requests, answered as plain functions over the index and store.

use super::index::SyncIndex;
use super::reconcile;
use cairn_protocol::codec;
use cairn_protocol::wire::{Response, FETCH_RESPONSE_BUDGET, MAX_FETCH_IDS};
use cairn_protocol::{Certificate, CertificateId, ItemId};
use cairn_store::ItemStore;
use std::collections::HashSet;

/// Answers a reconciliation message from a peer.
pub fn answer_reconcile(index: &SyncIndex, message: &[u8]) -> Response {
    match reconcile::respond(&index.snapshot(), message) {
        Ok(message) => Response::Reconcile { message },
        Err(e) => Response::Refused {
            reason: e.to_string(),
        },
    }
}

/// Answers a fetch request from the store, within the response budget.
pub fn answer_fetch(store: &ItemStore, ids: &[ItemId]) -> Response {
    if ids.len() > MAX_FETCH_IDS {
        return Response::Refused {
            reason: format!("at most {MAX_FETCH_IDS} ids per fetch"),
        };
    }
    let mut certificates: Vec<Certificate> = Vec::new();
    let mut cert_ids: HashSet<CertificateId> = HashSet::new();
    let mut items = Vec::new();
    let mut size = 0;
    for id in ids {
        // Sent as stored, without decoding: the requester decodes and
        // verifies each item anyway.
        let Ok(Some((bytes, publisher))) = store.item_bytes(id) else {
            continue;
        };
        // Each publisher certificate is read and sent once per response.
        let new_cert = if cert_ids.contains(&publisher) {
            None
        } else {
            match store.certificate(&publisher) {
                Ok(Some(c)) => Some(c),
                _ => continue,
            }
        };
        let cost = bytes.0.len()
            + new_cert
                .as_ref()
                .map_or(0, |c| codec::encode(c).map_or(0, |b| b.len()));
        if !items.is_empty() && size + cost > FETCH_RESPONSE_BUDGET {
            break;
        }
        size += cost;
        if let Some(c) = new_cert {
            cert_ids.insert(publisher);
            certificates.push(c);
        }
        items.push(bytes);
    }
    Response::Items {
        certificates,
        items,
    }
}
