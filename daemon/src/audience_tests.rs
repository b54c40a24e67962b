//! Tests of audience resolution.

use super::*;
use crate::testutil::Fixture;
use cairn_protocol::Sector;

struct Setup {
    me: Certificate,
    known: Vec<Certificate>,
}

const BOTH: &[Role] = &[Role::Publish, Role::Receive];

fn setup(f: &Fixture) -> Setup {
    let (_, me) = f.certified("Publisher", Sector::Health, "DE", BOTH);
    let known = vec![
        f.certified("Hospital A", Sector::Health, "DE", BOTH).1,
        f.certified("Hospital B", Sector::Health, "FR", BOTH).1,
        f.certified("Grid Operator", Sector::Energy, "FR", BOTH).1,
        f.certified("Reader Only", Sector::Energy, "DE", &[Role::Receive])
            .1,
        f.certified("Publish Only", Sector::Energy, "DE", &[Role::Publish])
            .1,
        me.clone(),
    ];
    Setup { me, known }
}

fn keys(r: &Resolved) -> Vec<PublicKey> {
    r.recipients.iter().map(|(k, _)| *k).collect()
}

fn key_of(s: &Setup, name: &str) -> PublicKey {
    s.known
        .iter()
        .find(|c| c.body.subject.entity_name() == Some(name))
        .unwrap()
        .body
        .member_key
}

fn never(_: &Certificate) -> bool {
    false
}

#[test]
fn named_members_and_the_publisher_are_the_recipients() {
    let f = Fixture::new();
    let s = setup(&f);
    let request = AudienceRequest {
        entities: vec!["Hospital A".into(), "Grid Operator".into()],
        ..Default::default()
    };
    let r = resolve(&request, &s.me, &s.known, Timestamp::now(), &never).unwrap();
    let mut want = vec![
        key_of(&s, "Publisher"),
        key_of(&s, "Hospital A"),
        key_of(&s, "Grid Operator"),
    ];
    want.sort_by_key(|a| a.0);
    assert_eq!(keys(&r), want);
    assert_eq!(
        r.selectors,
        vec![
            Selector::Entity("Hospital A".into()),
            Selector::Entity("Grid Operator".into())
        ]
    );
}

#[test]
fn groups_resolve_to_current_receivers_only() {
    let f = Fixture::new();
    let s = setup(&f);
    let request = AudienceRequest {
        sectors: vec![Sector::Energy],
        ..Default::default()
    };
    let r = resolve(&request, &s.me, &s.known, Timestamp::now(), &never).unwrap();
    // "Publish Only" lacks the receive role.
    assert_eq!(r.recipients.len(), 3, "{:?}", keys(&r));
    assert!(!keys(&r).contains(&key_of(&s, "Publish Only")));
    let request = AudienceRequest {
        member_states: vec!["FR".parse().unwrap()],
        ..Default::default()
    };
    let revoked = |c: &Certificate| c.body.subject.entity_name() == Some("Hospital B");
    let r = resolve(&request, &s.me, &s.known, Timestamp::now(), &revoked).unwrap();
    assert_eq!(
        keys(&r).len(),
        2,
        "the publisher and Grid Operator; Hospital B is revoked"
    );
}

#[test]
fn unknown_or_unusable_names_are_errors_that_say_why() {
    let f = Fixture::new();
    let s = setup(&f);
    let ask = |name: &str| AudienceRequest {
        entities: vec![name.into()],
        ..Default::default()
    };
    let err = resolve(&ask("Nobody"), &s.me, &s.known, Timestamp::now(), &never).unwrap_err();
    assert!(
        err.contains("no member named 'Nobody'") && err.contains("cairn members"),
        "{err}"
    );
    let err = resolve(
        &ask("Publish Only"),
        &s.me,
        &s.known,
        Timestamp::now(),
        &never,
    )
    .unwrap_err();
    assert!(err.contains("cannot receive"), "{err}");
    let later = Timestamp::now().plus_days(60);
    let err = resolve(&ask("Hospital A"), &s.me, &s.known, later, &never).unwrap_err();
    assert!(err.contains("expired, revoked"), "{err}");
    let nobody_there = AudienceRequest {
        sectors: vec![Sector::Banking],
        ..Default::default()
    };
    let err = resolve(&nobody_there, &s.me, &s.known, Timestamp::now(), &never).unwrap_err();
    assert!(err.contains("no other member of sector"), "{err}");
}
