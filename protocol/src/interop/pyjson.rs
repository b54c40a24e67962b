//! JSON written byte for byte as Python's `json.dumps` writes it, with its
//! defaults (`ensure_ascii`, `", "` and `": "` separators, or `indent`):
//! MISP feeds are files that PyMISP's generator writes that way, and a feed
//! that is "exactly as PyMISP writes it" must match to the byte, key order
//! included (which serde_json's map would sort).

/// A JSON value whose objects keep their keys in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Py {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Py>),
    Obj(Vec<(String, Py)>),
}

impl Py {
    /// An object from `(key, value)` pairs, in that order.
    pub fn obj<const N: usize>(pairs: [(&str, Py); N]) -> Py {
        Py::Obj(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    pub fn str(s: impl Into<String>) -> Py {
        Py::Str(s.into())
    }
}

/// `json.dumps(value)` (`indent: None`) or `json.dumps(value, indent=n)`.
pub fn dumps(value: &Py, indent: Option<usize>) -> String {
    let mut out = String::new();
    write(&mut out, value, indent, 0);
    out
}

fn write(out: &mut String, value: &Py, indent: Option<usize>, depth: usize) {
    match value {
        Py::Str(s) => string(out, s),
        Py::Int(n) => out.push_str(&n.to_string()),
        Py::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Py::List(items) if items.is_empty() => out.push_str("[]"),
        Py::Obj(pairs) if pairs.is_empty() => out.push_str("{}"),
        Py::List(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                separate(out, i, indent, depth + 1);
                write(out, v, indent, depth + 1);
            }
            close(out, indent, depth);
            out.push(']');
        }
        Py::Obj(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                separate(out, i, indent, depth + 1);
                string(out, k);
                out.push_str(": ");
                write(out, v, indent, depth + 1);
            }
            close(out, indent, depth);
            out.push('}');
        }
    }
}

/// What goes before the `i`th element of a container at `depth`.
fn separate(out: &mut String, i: usize, indent: Option<usize>, depth: usize) {
    match indent {
        Some(n) => {
            if i > 0 {
                out.push(',');
            }
            out.push('\n');
            out.push_str(&" ".repeat(n * depth));
        }
        None if i > 0 => out.push_str(", "),
        None => {}
    }
}

fn close(out: &mut String, indent: Option<usize>, depth: usize) {
    if let Some(n) = indent {
        out.push('\n');
        out.push_str(&" ".repeat(n * depth));
    }
}

/// A string as `ensure_ascii` writes it: printable ASCII as is, the usual
/// short escapes, everything else as `\uXXXX` (UTF-16, lower-case hex).
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_indented_forms_match_python() {
        let v = Py::obj([
            ("b", Py::Int(2)),
            ("a", Py::List(vec![Py::Bool(true), Py::str("x")])),
            ("e", Py::List(vec![])),
            ("o", Py::Obj(vec![])),
        ]);
        // json.dumps({"b": 2, "a": [True, "x"], "e": [], "o": {}})
        assert_eq!(
            dumps(&v, None),
            r#"{"b": 2, "a": [true, "x"], "e": [], "o": {}}"#
        );
        // json.dumps(..., indent=2)
        assert_eq!(
            dumps(&v, Some(2)),
            "{\n  \"b\": 2,\n  \"a\": [\n    true,\n    \"x\"\n  ],\n  \"e\": [],\n  \"o\": {}\n}"
        );
    }

    #[test]
    fn strings_are_escaped_as_ensure_ascii_does() {
        // json.dumps("Ü\"\\\n\t\x01\x7f😀é")
        assert_eq!(
            dumps(&Py::str("Ü\"\\\n\t\u{1}\u{7f}😀é"), None),
            r#""\u00dc\"\\\n\t\u0001\u007f\ud83d\ude00\u00e9""#
        );
    }
}
