//! Tests of item queries: what a filter matches, words, cursors.

use super::*;

fn contents(title: &str, body: &str, tags: &[&str]) -> Contents {
    Contents {
        title: title.into(),
        body: body.into(),
        payload: None,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

fn facts(c: Option<&Contents>) -> Facts<'_> {
    Facts {
        kind: ItemKind::Vulnerability,
        tlp: Tlp::Amber,
        created: 1_000,
        publisher: CertificateId([3; 32]),
        contents: c,
    }
}

#[test]
fn words_keep_indicators_whole_and_drop_punctuation() {
    let w = words("Beacon to 198.51.100.7, see CVE-2026-1234 (evil.example.com.) beacon!");
    assert_eq!(
        w,
        [
            "beacon",
            "to",
            "198.51.100.7",
            "see",
            "cve-2026-1234",
            "evil.example.com"
        ]
    );
    assert!(words(&"x".repeat(MAX_WORD + 1)).is_empty());
    assert_eq!(words("--- ... @"), Vec::<String>::new());
}

#[test]
fn item_words_are_capped_title_first() {
    let body: String = (0..MAX_ITEM_WORDS + 10).map(|i| format!("w{i} ")).collect();
    let w = item_words(&contents("Title", &body, &[]));
    assert_eq!(w.len(), MAX_ITEM_WORDS);
    assert_eq!(w[0], "title");
}

#[test]
fn positions_sort_newest_first_then_by_id_and_cursors_round_trip() {
    let old = Position::new(Timestamp(5), ItemId([9; 32]));
    let new_a = Position::new(Timestamp(7), ItemId([1; 32]));
    let new_b = Position::new(Timestamp(7), ItemId([2; 32]));
    let mut v = vec![old, new_b, new_a];
    v.sort();
    assert_eq!(v, [new_a, new_b, old]);
    let c = Cursor(new_b);
    let back: Cursor = c.to_string().parse().unwrap();
    assert_eq!(back, c);
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<Cursor>(&json).unwrap(), c);
    let err = "zz".parse::<Cursor>().unwrap_err().to_string();
    assert!(err.contains("not a cursor"), "{err}");
    assert!(c.to_string()[2..].parse::<Cursor>().is_err());
}

#[test]
fn content_filters_never_match_what_this_node_cannot_read() {
    let open = contents(
        "Ransomware at a hospital",
        "LockBit variant",
        &["rsit:malicious-code"],
    );
    let by_word = Filter {
        words: words("lockbit"),
        ..Filter::default()
    };
    assert!(by_word.matches(&facts(Some(&open))));
    assert!(!by_word.matches(&facts(None)));
    let by_prefix = Filter {
        tag_prefixes: vec!["rsit:".into()],
        ..Filter::default()
    };
    assert!(by_prefix.matches(&facts(Some(&open))));
    assert!(!by_prefix.matches(&facts(None)));
    // Visible fields still match a sealed item.
    let visible = Filter {
        kinds: vec![ItemKind::Vulnerability],
        tlps: vec![Tlp::Amber, Tlp::Red],
        ..Filter::default()
    };
    assert!(visible.matches(&facts(None)));
}

#[test]
fn every_field_must_hold_and_times_are_half_open() {
    let c = contents("t", "b", &["a:b", "c"]);
    let f = facts(Some(&c));
    let base = Filter::default();
    assert!(base.matches(&f));
    let check = |filter: Filter| filter.matches(&f);
    assert!(!check(Filter {
        kinds: vec![ItemKind::NearMiss],
        ..base.clone()
    }));
    assert!(!check(Filter {
        publishers: Some(vec![]),
        ..base.clone()
    }));
    assert!(check(Filter {
        publishers: Some(vec![CertificateId([3; 32])]),
        ..base.clone()
    }));
    assert!(check(Filter {
        since: Some(1_000),
        until: Some(1_001),
        ..base.clone()
    }));
    assert!(!check(Filter {
        until: Some(1_000),
        ..base.clone()
    }));
    assert!(!check(Filter {
        tags: vec!["a:b".into(), "missing".into()],
        ..base.clone()
    }));
    assert!(!check(Filter {
        tags: vec!["a:".into()],
        ..base.clone()
    }));
    assert!(check(Filter {
        tag_prefixes: vec!["a:".into(), "c".into()],
        ..base.clone()
    }));
}

#[test]
fn a_query_resolves_its_text_into_words() {
    let q = ItemQuery {
        text: Some("Evil.example.com LOCKBIT".into()),
        since: Some(Timestamp(10)),
        limit: 5,
        ..ItemQuery::default()
    };
    let f = Filter::new(&q, None);
    assert_eq!(f.words, ["evil.example.com", "lockbit"]);
    assert_eq!(f.since, Some(10));
    let json = serde_json::to_string(&q).unwrap();
    assert_eq!(serde_json::from_str::<ItemQuery>(&json).unwrap(), q);
}
