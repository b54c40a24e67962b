//! The query index against the definition it must keep: for random items
//! and filters, the index answers exactly what a full scan with
//! `Filter::matches` answers, in the same order, and paging with the cursor
//! yields every match once.

use super::*;
use crate::testutil::{certificate_for, member, COMMUNITY, T0};
use cairn_protocol::envelope::seal;
use cairn_protocol::query::{Facts, Filter};
use cairn_protocol::{
    Content, Contents, EncryptionSecretKey, ItemBody, ItemKind, SecretKey, Selector, Tlp,
};
use proptest::prelude::*;

const WORDS: &[&str] = &[
    "lockbit",
    "vpn",
    "198.51.100.7",
    "cve-2026-1",
    "beacon",
    "phish",
];
const TAGS: &[&str] = &[
    "ioc:ipv4=1",
    "ioc:domain=x",
    "rsit:malicious-code",
    "rsit:fraud",
    "c",
];

/// A random item: kind, marking, one of two publishers, a time in a small
/// range (so times collide), some tags and words, sealed or open.
#[derive(Clone, Debug)]
pub(super) struct Spec {
    kind: usize,
    tlp: usize,
    publisher: usize,
    minute: u64,
    tags: Vec<usize>,
    words: Vec<usize>,
    sealed: bool,
    n: u32,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..3usize,
        0..3usize,
        0..2usize,
        0..20u64,
        proptest::collection::vec(0..TAGS.len(), 0..3),
        proptest::collection::vec(0..WORDS.len(), 0..4),
        proptest::bool::weighted(0.2),
        any::<u32>(),
    )
        .prop_map(
            |(kind, tlp, publisher, minute, tags, words, sealed, n)| Spec {
                kind,
                tlp,
                publisher,
                minute,
                tags,
                words,
                sealed,
                n,
            },
        )
}

#[derive(Clone, Debug)]
struct FilterSpec {
    kinds: Vec<usize>,
    tlps: Vec<usize>,
    tags: Vec<usize>,
    prefixes: Vec<&'static str>,
    publisher: Option<Option<usize>>,
    since: Option<u64>,
    until: Option<u64>,
    words: Vec<usize>,
}

fn filter_spec() -> impl Strategy<Value = FilterSpec> {
    (
        proptest::collection::vec(0..3usize, 0..2),
        proptest::collection::vec(0..3usize, 0..2),
        proptest::collection::vec(0..TAGS.len(), 0..2),
        proptest::collection::vec(
            // Namespaces (one posting list each) and other prefixes.
            prop_oneof![
                Just("ioc:"),
                Just("rsit:"),
                Just("ioc:ipv4="),
                Just("ioc:d"),
                Just("r"),
                Just("z")
            ],
            0..2,
        ),
        proptest::option::of(proptest::option::of(0..2usize)),
        proptest::option::of(0..20u64),
        proptest::option::of(0..21u64),
        proptest::collection::vec(0..WORDS.len(), 0..2),
    )
        .prop_map(
            |(kinds, tlps, tags, prefixes, publisher, since, until, words)| FilterSpec {
                kinds,
                tlps,
                tags,
                prefixes,
                publisher,
                since,
                until,
                words,
            },
        )
}

fn minute(m: u64) -> u64 {
    T0.millis() + m * 60_000
}

fn build(spec: &Spec, certs: &[Certificate]) -> SignedItem {
    let cert = &certs[spec.publisher];
    let contents = Contents {
        title: format!("item {}", spec.n),
        body: spec
            .words
            .iter()
            .map(|w| WORDS[*w])
            .collect::<Vec<_>>()
            .join(" "),
        payload: None,
        tags: {
            let mut t: Vec<String> = spec.tags.iter().map(|t| TAGS[*t].to_string()).collect();
            t.dedup();
            t
        },
    };
    let mut body = ItemBody {
        community: COMMUNITY,
        kind: ItemKind::ALL[spec.kind],
        // An audience item is AMBER or stricter (the marking rule).
        tlp: if spec.sealed {
            Tlp::ALL[2 + spec.tlp % 2]
        } else {
            Tlp::ALL[spec.tlp]
        },
        content: Content::Open(contents.clone()),
        created: Timestamp(minute(spec.minute)),
        publisher: cert.id(),
    };
    if spec.sealed {
        let other = SecretKey::from_seed(&[7; 32]);
        let recipients = [(
            other.public(),
            EncryptionSecretKey::derive_from(&other).public(),
        )];
        let selectors = vec![Selector::Entity("Other".into())];
        let envelope = seal(&contents, &recipients, selectors, body.seal_context()).unwrap();
        body.content = Content::Sealed(envelope);
    }
    SignedItem::sign(body, &member(), cert).unwrap()
}

fn filter(f: &FilterSpec, certs: &[Certificate]) -> Filter {
    Filter {
        kinds: f.kinds.iter().map(|k| ItemKind::ALL[*k]).collect(),
        tlps: f.tlps.iter().map(|t| Tlp::ALL[*t]).collect(),
        tags: f.tags.iter().map(|t| TAGS[*t].to_string()).collect(),
        tag_prefixes: f.prefixes.iter().map(|p| p.to_string()).collect(),
        publishers: f
            .publisher
            .map(|p| p.map(|p| vec![certs[p].id()]).unwrap_or_default()),
        since: f.since.map(minute),
        until: f.until.map(minute),
        words: f.words.iter().map(|w| WORDS[*w].to_string()).collect(),
    }
}

/// The answer by definition: every stored item, in answer order, that the
/// filter matches as a node outside every audience sees it.
pub(super) fn scan(store: &ItemStore, filter: &Filter) -> Vec<Position> {
    let mut all: Vec<Position> = store
        .index()
        .unwrap()
        .into_iter()
        .map(|(created, id)| Position { created, id })
        .collect();
    all.sort();
    all.into_iter()
        .filter(|p| {
            let (item, _) = store.get(&p.id).unwrap().unwrap();
            filter.matches(&Facts::of(&item.body, None))
        })
        .collect()
}

pub(super) fn page_through(store: &ItemStore, filter: &Filter, limit: usize) -> Vec<Position> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let found = store.find(filter, after, limit).unwrap();
        assert!(found.positions.len() <= limit);
        out.extend(found.positions.iter().copied());
        if !found.more {
            return out;
        }
        assert_eq!(
            found.positions.len(),
            limit,
            "a page before the last is full"
        );
        after = found.positions.last().copied();
    }
}

pub(super) fn store_with(specs: &[Spec]) -> (tempfile::TempDir, ItemStore, Vec<Certificate>) {
    let dir = tempfile::tempdir().unwrap();
    let store = ItemStore::open(&dir.path().join("items.sled")).unwrap();
    let certs = vec![certificate_for(&member(), 1), certificate_for(&member(), 2)];
    let items: Vec<(EncodedItem, Certificate)> = specs
        .iter()
        .map(|s| {
            let item = build(s, &certs);
            let cert = certs[s.publisher].clone();
            (EncodedItem::new(item).unwrap(), cert)
        })
        .collect();
    // In a few batches, as the ingest worker stores them.
    for part in items.chunks(7) {
        let batch: Vec<(&EncodedItem, &Certificate)> = part.iter().map(|(i, c)| (i, c)).collect();
        store.insert_batch(&batch).unwrap();
    }
    (dir, store, certs)
}

/// `n` open items a minute apart, kinds, publishers, tags and words
/// taken in turn.
pub(super) fn varied(n: usize) -> Vec<Spec> {
    (0..n)
        .map(|i| Spec {
            kind: i % 3,
            tlp: 1,
            publisher: i % 2,
            minute: i as u64,
            tags: vec![i % TAGS.len()],
            words: vec![i % WORDS.len()],
            sealed: false,
            n: i as u32,
        })
        .collect()
}

/// `n` open items a minute apart, alike but for their time: the same kind,
/// publisher, tag (`ioc:ipv4=1`) and word (`vpn`).
pub(super) fn alike(n: u64) -> Vec<Spec> {
    (0..n)
        .map(|i| Spec {
            kind: 0,
            tlp: 1,
            publisher: 0,
            minute: i,
            tags: vec![0],
            words: vec![1],
            sealed: false,
            n: i as u32,
        })
        .collect()
}

/// Writes every pending posting, as the indexer thread does.
pub(super) fn index_all(store: &ItemStore) {
    while store.index_pending(5).unwrap() > 0 {}
    assert_eq!(store.unindexed_chunks(), 0);
}

/// Postings only: not the index's version and cursor keys.
pub(super) fn postings_count(store: &ItemStore) -> usize {
    let keys = store.postings.scan_prefix([query_index::QUERY]).keys();
    keys.filter(|k| k.as_ref().unwrap().len() > 2).count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_index_answers_what_a_full_scan_answers(
        specs in proptest::collection::vec(spec(), 0..40),
        filters in proptest::collection::vec(filter_spec(), 1..6),
        limit in 1..6usize,
        // `None`: every posting written; `Some(n)`: n steps of one chunk
        // each, so queries join postings with unindexed items.
        indexed in proptest::option::of(0..6usize),
    ) {
        let (_dir, store, certs) = store_with(&specs);
        match indexed {
            None => index_all(&store),
            Some(steps) => {
                for _ in 0..steps {
                    store.index_pending(1).unwrap();
                }
            }
        }
        for f in &filters {
            let filter = filter(f, &certs);
            let expected = scan(&store, &filter);
            let first = store.find(&filter, None, expected.len().max(1)).unwrap();
            prop_assert_eq!(&first.positions, &expected);
            prop_assert!(!first.more);
            // Paging yields every match once, in order.
            prop_assert_eq!(page_through(&store, &filter, limit), expected);
        }
    }
}

#[test]
fn sealed_contents_are_never_posted_but_recipients_find_their_items() {
    let spec = Spec {
        kind: 0,
        tlp: 2,
        publisher: 0,
        minute: 1,
        tags: vec![2],
        words: vec![0],
        sealed: true,
        n: 1,
    };
    let (_dir, store, _) = store_with(&[spec]);
    index_all(&store);
    assert!(
        postings_count(&store) > 0,
        "the item has its visible postings"
    );
    for key in store.postings.scan_prefix([query_index::QUERY]).keys() {
        let key = key.unwrap();
        let shown = String::from_utf8_lossy(&key);
        assert!(
            !shown.contains("lockbit") && !shown.contains("rsit"),
            "{shown}"
        );
    }
    let words = Filter {
        words: vec!["lockbit".into()],
        ..Filter::default()
    };
    assert!(store.find(&words, None, 10).unwrap().positions.is_empty());
    let visible = Filter {
        kinds: vec![ItemKind::ALL[0]],
        ..Filter::default()
    };
    assert_eq!(store.find(&visible, None, 10).unwrap().positions.len(), 1);
    let recipient = SecretKey::from_seed(&[7; 32]).public();
    let mine = store.sealed_to(&[recipient], &words, None, 10).unwrap();
    assert_eq!(
        mine.positions.len(),
        1,
        "the caller opens it and checks the words"
    );
    let stranger = SecretKey::from_seed(&[8; 32]).public();
    assert!(store
        .sealed_to(&[stranger], &words, None, 10)
        .unwrap()
        .positions
        .is_empty());
}

#[test]
fn a_taken_out_item_is_found_no_more() {
    let specs = alike(5);
    let (_dir, store, _) = store_with(&specs);
    index_all(&store);
    let by_word = Filter {
        words: vec!["vpn".into()],
        ..Filter::default()
    };
    let all = store.find(&by_word, None, 10).unwrap().positions;
    assert_eq!(all.len(), 5);
    store.quarantine(&all[2].id, "test").unwrap();
    let left = store.find(&by_word, None, 10).unwrap().positions;
    assert_eq!(left.len(), 4);
    assert!(!left.contains(&all[2]));
    assert_eq!(
        store.find(&Filter::default(), None, 10).unwrap().positions,
        left
    );
}
