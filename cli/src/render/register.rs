//! The participation register (`register list`, `register watch`) and a
//! reveal: fixed columns, so lines printed as entries arrive stay aligned.

use super::{fields, or_dash, short};
use crate::table::{self, clean_line, Table};
use cairn_protocol::control::RegisterView;
use cairn_protocol::{EntityType, Sector};

/// The register's columns, shared by `register list` and `register watch`.
pub const REGISTER_HEADERS: [&str; 7] = [
    "INDEX",
    "EFFECTIVE",
    "EVENT",
    "ENTITY",
    "TYPE",
    "SECTOR",
    "MS",
];

/// Room left for entries that arrive after the widths were fixed: every
/// type and sector fits; longer entity names are shortened with "…".
fn register_min_widths() -> [usize; 7] {
    let longest =
        |words: &mut dyn Iterator<Item = &'static str>| words.map(str::len).max().unwrap_or(0);
    [
        5,
        20,
        20,
        32,
        longest(&mut EntityType::ALL.iter().map(|t| t.as_str())),
        longest(&mut Sector::ALL.iter().map(|t| t.as_str())),
        2,
    ]
}

pub fn register_row(v: &RegisterView) -> Vec<String> {
    // A reveal says whom it found behind which pseudonym, for which item.
    let entity = match &v.reveal {
        Some(r) => format!(
            "{} (pseudonym {}, item {})",
            v.entity_name,
            r.pseudonym,
            short(r.item)
        ),
        None => v.entity_name.clone(),
    };
    vec![
        v.index.to_string(),
        v.effective.to_rfc3339(),
        v.kind.as_str().to_string(),
        entity,
        or_dash(v.entity_type),
        or_dash(v.sector),
        or_dash(v.member_state),
    ]
}

/// Column widths fitting `entries` and typical later ones.
pub fn register_widths(entries: &[RegisterView]) -> Vec<usize> {
    let mut t = Table::new(&REGISTER_HEADERS);
    entries.iter().for_each(|e| t.row(register_row(e)));
    t.widths(&register_min_widths())
}

/// One register line padded to `widths`; a cell wider than its column is
/// shortened, so lines printed after the widths were fixed stay aligned.
pub fn register_line(v: &RegisterView, widths: &[usize]) -> String {
    let cells: Vec<String> = register_row(v)
        .iter()
        .zip(widths)
        .map(|(c, w)| fit(&clean_line(c), *w))
        .collect();
    table::line(&cells, widths)
}

/// `s` cut to `width` characters, ending in "…" when cut.
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width || width == 0 {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// The header line for `widths`.
pub fn register_header(widths: &[usize]) -> String {
    let cells: Vec<String> = REGISTER_HEADERS.iter().map(|h| h.to_string()).collect();
    table::line(&cells, widths)
}

/// The whole register.
pub fn register(entries: &[RegisterView]) -> String {
    if entries.is_empty() {
        return "the register is empty\n".to_string();
    }
    let widths = register_widths(entries);
    let mut out = register_header(&widths);
    entries
        .iter()
        .for_each(|e| out.push_str(&register_line(e, &widths)));
    out
}

/// A reveal as `cairn reveal` prints it: the entity, then what and why.
pub fn reveal(v: &RegisterView) -> String {
    let Some(r) = &v.reveal else {
        return register(std::slice::from_ref(v));
    };
    fields(&[
        ("entity", v.entity_name.clone()),
        ("entity type", or_dash(v.entity_type)),
        ("sector", or_dash(v.sector)),
        ("member state", or_dash(v.member_state)),
        ("named certificate", r.named_certificate.to_string()),
        ("member key", v.member_key.to_string()),
        ("item", r.item.to_string()),
        ("pseudonym", r.pseudonym.to_string()),
        ("pseudonymous cert", r.pseudonymous_certificate.to_string()),
        ("reason", r.reason.clone()),
        (
            "registered",
            format!("#{} at {}", v.index, v.registered_at.to_rfc3339()),
        ),
    ])
}
