//! Aligned text columns for human output, and scrubbing of text that other
//! members wrote before it reaches the operator's terminal.

/// Rows of cells printed with every column but the last padded to its
/// widest cell.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose first row is `headers`.
    pub fn new(headers: &[&str]) -> Self {
        Table {
            rows: vec![headers.iter().map(|h| h.to_string()).collect()],
        }
    }

    /// Adds a row; cells are scrubbed of control characters.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows
            .push(cells.iter().map(|c| clean_line(c)).collect());
    }

    /// Each column's width: its widest cell, at least `min[i]`.
    pub fn widths(&self, min: &[usize]) -> Vec<usize> {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        (0..columns)
            .map(|i| {
                let widest = self
                    .rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| width(c))
                    .max()
                    .unwrap_or(0);
                widest.max(min.get(i).copied().unwrap_or(0))
            })
            .collect()
    }

    /// The table as lines, each ending in a newline.
    pub fn render(&self) -> String {
        let widths = self.widths(&[]);
        self.rows.iter().map(|r| line(r, &widths)).collect()
    }
}

/// One row padded to `widths`, two spaces between columns, no trailing
/// spaces, ending in a newline.
pub fn line(cells: &[String], widths: &[usize]) -> String {
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        out.push_str(cell);
        if i + 1 < cells.len() {
            let pad = widths
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(width(cell));
            out.push_str(&" ".repeat(pad + 2));
        }
    }
    out.truncate(out.trim_end_matches(' ').len());
    out.push('\n');
    out
}

/// Display width in characters (good enough for names and titles; wide CJK
/// glyphs may shift a column).
fn width(s: &str) -> usize {
    s.chars().count()
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
    fn control_characters_never_reach_the_terminal() {
        let mut t = Table::new(&["TITLE"]);
        t.row(vec!["evil\x1b[2Jtitle\nsecond".into()]);
        let out = t.render();
        assert!(!out.contains('\x1b'), "{out:?}");
        assert_eq!(out.lines().count(), 2);
        assert_eq!(clean_text("a\nb\tc\x07"), "a\nb\tc\u{fffd}");
    }
}
