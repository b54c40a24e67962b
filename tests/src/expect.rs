//! Conditions tests wait for across several nodes at once: everyone has
//! admitted everyone, every node holds (and verified) a set of items, no
//! node holds anything marked by a rogue. Each is a [`wait::until`] with the
//! involved nodes' logs in its failure message.

use crate::node::NodeProc;
use crate::wait;
use std::collections::BTreeSet;
use std::time::Duration;

/// Waits until every node lists every other node as an admitted member.
pub fn all_admitted(nodes: &[&NodeProc], timeout: Duration) {
    let keys: Vec<String> = nodes
        .iter()
        .map(|n| n.status().member_key.to_string())
        .collect();
    wait::until(
        "every node has admitted every other node",
        timeout,
        nodes,
        || {
            let mut missing = Vec::new();
            for (i, n) in nodes.iter().enumerate() {
                let members: BTreeSet<String> = n
                    .try_members()?
                    .iter()
                    .map(|m| m.member_key.to_string())
                    .collect();
                let lacking = keys
                    .iter()
                    .enumerate()
                    .filter(|(j, k)| *j != i && !members.contains(*k))
                    .count();
                if lacking > 0 {
                    missing.push(format!("{} lacks {lacking}", n.name));
                }
            }
            if missing.is_empty() {
                Ok(())
            } else {
                Err(missing.join(", "))
            }
        },
    )
}

/// Waits until every node holds every item in `ids`, each `verified: true`.
pub fn items_everywhere(nodes: &[&NodeProc], ids: &BTreeSet<String>, timeout: Duration) {
    wait::until(
        &format!("every node holds all {} items, verified", ids.len()),
        timeout,
        nodes,
        || {
            let mut short = Vec::new();
            for n in nodes {
                let items = n.try_items()?;
                let held: BTreeSet<String> = items
                    .iter()
                    .filter(|i| i.verified)
                    .map(|i| i.id.to_string())
                    .collect();
                let unverified = items.iter().filter(|i| !i.verified).count();
                let lacking = ids.difference(&held).count();
                if lacking > 0 || unverified > 0 {
                    short.push(format!(
                        "{} lacks {lacking} ({unverified} unverified)",
                        n.name
                    ));
                }
            }
            if short.is_empty() {
                Ok(())
            } else {
                Err(short.join(", "))
            }
        },
    )
}

/// Titles containing `marker` on each node, as `(node, title)` pairs.
pub fn titles_with(nodes: &[&NodeProc], marker: &str) -> Vec<(String, String)> {
    nodes
        .iter()
        .flat_map(|n| {
            n.items()
                .into_iter()
                .filter(|i| i.title.contains(marker))
                .map(|i| (n.name.clone(), i.title))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Ok when every node holds every item of `ids`; otherwise which nodes lack
/// how many (a condition for [`wait::until`], or to poll by hand).
pub fn holding_all(nodes: &[&NodeProc], ids: &BTreeSet<String>) -> Result<(), String> {
    let mut short = Vec::new();
    for n in nodes {
        let held: BTreeSet<String> = n
            .try_items()?
            .into_iter()
            .map(|i| i.id.to_string())
            .collect();
        let missing = ids.difference(&held).count();
        if missing > 0 {
            short.push(format!("{} lacks {missing}", n.name));
        }
    }
    if short.is_empty() {
        Ok(())
    } else {
        Err(short.join(", "))
    }
}
