//! `cairn participation`: this node's own participation events and the
//! authority's receipts for them.

use super::short;
use crate::table::Table;
use cairn_protocol::control::ParticipationView;
use cairn_protocol::ParticipationKind;

pub fn participation(events: &[ParticipationView]) -> String {
    if events.is_empty() {
        return "no participation events yet: `cairn join` notifies the authority\n".to_string();
    }
    let mut t = Table::new(&["SEQ", "EVENT", "EFFECTIVE", "RECEIPT", "ID"]);
    for e in events {
        let receipt = match (e.register_index, e.registered_at) {
            (Some(i), Some(at)) => format!("registered #{i} at {}", at.to_rfc3339()),
            (Some(i), None) => format!("registered #{i}"),
            _ => "awaiting the authority's receipt".to_string(),
        };
        t.row(vec![
            e.sequence.to_string(),
            kind_label(e.kind).to_string(),
            e.effective.to_rfc3339(),
            receipt,
            short(e.event_id),
        ]);
    }
    let notes: String = events
        .iter()
        .filter_map(|e| Some(format!("#{}: {}\n", e.sequence, e.delivery.as_ref()?)))
        .collect();
    t.render() + &notes
}

/// How a participation event reads in a list.
pub fn kind_label(kind: ParticipationKind) -> &'static str {
    match kind {
        // The vocabulary's own words, as the demo, --json and the log use
        // them: one fact, one spelling.
        ParticipationKind::Joined => "joined",
        ParticipationKind::WithdrawalEffective => "withdrawal-effective",
    }
}
