//! `cairn members`: the members this node knows of, revoked ones marked,
//! and a warning when one key is in use by several nodes at once.

use super::{or_dash, short};
use crate::table::Table;
use cairn_protocol::control::MemberView;

pub fn members(members: &[MemberView]) -> String {
    if members.is_empty() {
        return "no other members known yet\n".to_string();
    }
    let mut t = Table::new(&[
        "ENTITY",
        "TYPE",
        "SECTOR",
        "MS",
        "CONNECTED",
        "REACHED AT",
        "VALID UNTIL",
        "STATUS",
        "KEY",
    ]);
    for m in members {
        let status = match &m.revoked {
            None => "valid".to_string(),
            Some(r) => format!("REVOKED ({}, {})", r.reason, r.effective.to_rfc3339()),
        };
        t.row(vec![
            m.entity_name.clone(),
            or_dash(m.entity_type),
            or_dash(m.sector),
            or_dash(m.member_state),
            match (m.connected, m.key_in_use_from.len()) {
                (true, n) if n > 1 => format!("yes, {n} NODES"),
                (true, _) => "yes".to_string(),
                (false, _) => "no".to_string(),
            },
            m.reached_at.clone().unwrap_or_else(|| "-".into()),
            m.not_after.to_rfc3339(),
            status,
            short(m.member_key),
        ]);
    }
    let warnings: String = members
        .iter()
        .filter(|m| m.key_in_use_from.len() > 1)
        .map(|m| {
            format!(
                "WARNING: the key of {} is in use by {} nodes at once (from {}): stop the extra node; if the key may have leaked, ask the issuer to revoke it (key-compromise)\n",
                m.entity_name,
                m.key_in_use_from.len(),
                m.key_in_use_from.join(" and ")
            )
        })
        .collect();
    t.render() + &warnings
}
