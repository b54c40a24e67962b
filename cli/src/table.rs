//! Aligned text columns for human output, and scrubbing of text that other
//! members wrote before it reaches the operator's terminal.

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Width};

/// Rows of cells printed with every column but the last padded to its
/// widest cell (in display width), two spaces between columns, no borders
/// and no trailing spaces: a plain listing scripts can split on runs of
/// spaces.
pub struct Table {
    inner: comfy_table::Table,
}

/// A borderless comfy-table that never wraps (a listing is read whole,
/// whatever the terminal width).
fn plain() -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    t
}

/// Two spaces after every column but the last, none before.
fn set_padding(t: &mut comfy_table::Table) {
    let n = t.column_count();
    for (i, column) in t.column_iter_mut().enumerate() {
        column.set_padding((0, if i + 1 < n { 2 } else { 0 }));
    }
}

/// `rendered` with each line's trailing spaces cut and a final newline.
fn lines(rendered: &str) -> String {
    rendered
        .lines()
        .map(|l| format!("{}\n", l.trim_end_matches(' ')))
        .collect()
}

impl Table {
    /// A table whose first row is `headers`.
    pub fn new(headers: &[&str]) -> Self {
        let mut inner = plain();
        inner.set_header(headers.to_vec());
        Table { inner }
    }

    /// Adds a row; cells are scrubbed of control characters.
    pub fn row(&mut self, cells: Vec<String>) {
        self.inner
            .add_row(cells.iter().map(|c| clean_line(c)).collect::<Vec<_>>());
    }

    /// Each column's width: its widest cell, at least `min[i]`.
    pub fn widths(&self, min: &[usize]) -> Vec<usize> {
        self.inner
            .column_max_content_widths()
            .iter()
            .enumerate()
            .map(|(i, w)| (*w as usize).max(min.get(i).copied().unwrap_or(0)))
            .collect()
    }

    /// The table as lines, each ending in a newline.
    pub fn render(&mut self) -> String {
        set_padding(&mut self.inner);
        lines(&self.inner.to_string())
    }
}

/// One row padded to `widths` (display width), two spaces between
/// columns, no trailing spaces, ending in a newline: a line of a table
/// printed row by row, as `register watch` streams it.
pub fn line(cells: &[String], widths: &[usize]) -> String {
    let mut t = plain();
    t.add_row(cells.to_vec());
    set_padding(&mut t);
    for (column, w) in t.column_iter_mut().zip(widths) {
        // A column's width bound counts its padding too.
        let w = u16::try_from(*w)
            .unwrap_or(u16::MAX)
            .saturating_add(column.padding_width());
        column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(w)));
    }
    lines(&t.to_string())
}

/// Text for a single line: every control character (newlines, escape
/// sequences a hostile publisher could use to rewrite the terminal) becomes
/// U+FFFD.
pub fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// Multi-line text such as an item body: keeps newlines and tabs, replaces
/// every other control character.
pub fn clean_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell_without_trailing_spaces() {
        let mut t = Table::new(&["ID", "NAME", "NOTE"]);
        t.row(vec!["1".into(), "Ärztekammer".into(), "x".into()]);
        t.row(vec!["1234".into(), "B".into(), "".into()]);
        assert_eq!(
            t.render(),
            "ID    NAME         NOTE\n1     Ärztekammer  x\n1234  B\n"
        );
    }

    #[test]
    fn wide_glyphs_count_double_and_streamed_lines_keep_the_columns() {
        let mut t = Table::new(&["NAME", "X"]);
        t.row(vec!["東京電力".into(), "1".into()]);
        t.row(vec!["abc".into(), "2".into()]);
        assert_eq!(t.render(), "NAME      X\n東京電力  1\nabc       2\n");
        let widths = t.widths(&[0, 0]);
        assert_eq!(widths, vec![8, 1]);
        assert_eq!(line(&["ab".into(), "3".into()], &widths), "ab        3\n");
        assert_eq!(t.widths(&[12, 0]), vec![12, 1]);
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let mut t = Table::new(&["TITLE"]);
        t.row(vec!["evil\x1b[2Jtitle\nsecond".into()]);
        let out = t.render();
        assert!(!out.contains('\x1b'), "{out:?}");
        assert_eq!(out.lines().count(), 2);
        assert_eq!(clean_text("a\nb\tc\x07"), "a\nb\tc\u{fffd}");
    }
}
