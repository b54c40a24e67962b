//! Taxonomy rule tests: the shipped lists, unknown values refused with the
//! valid ones, tlp: tags against the marking, exclusivity, sector mapping.

use super::*;

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_shipped_lists_load_with_their_versions() {
    let names: Vec<&str> = known().iter().map(|t| t.namespace.as_str()).collect();
    assert_eq!(names, ["nis2", "rsit", "tlp"]);
    assert_eq!(versions(), "nis2 v5, rsit v1003, tlp v10");
    let nis2 = taxonomy("NIS2").unwrap();
    assert_eq!(nis2.entries("impact-sectors-impacted").len(), 18);
    assert!(nis2
        .machine_tags()
        .contains(&"nis2:nature-severity=\"high\"".to_string()));
    assert!(taxonomy("tlp")
        .unwrap()
        .machine_tags()
        .contains(&"tlp:amber+strict".to_string()));
}

#[test]
fn known_values_and_free_tags_pass() {
    for ok in [
        "nis2:impact-sectors-impacted=\"health\"",
        "nis2:nature-severity=\"high\"",
        "rsit:malicious-code=\"c2-server\"",
        "rsit:malicious-code",
        "tlp:green",
        "cve:CVE-2026-1234",
        "ioc:ipv4=198.51.100.7",
        "misp-galaxy:threat-actor=\"Sofacy\"",
        "plain-word",
    ] {
        assert_eq!(check_tag(ok), Ok(()), "{ok}");
    }
}

#[test]
fn unknown_values_in_known_namespaces_are_refused_with_the_valid_ones() {
    let err = check_tag("nis2:impact-sectors-impacted=\"bakery\"").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, TagError::UnknownValue { .. }), "{err:?}");
    assert!(
        text.contains("nis2:impact-sectors-impacted=\"health\"") && text.contains("v5"),
        "{text}"
    );
    let err = check_tag("rsit:malicious-cod").unwrap_err();
    assert!(matches!(err, TagError::UnknownPredicate { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("rsit:malicious-code=\"c2-server\""),
        "{err}"
    );
    // The namespace is not a way around the list.
    assert!(check_tag("NIS2:nature-severity=\"extreme\"").is_err());
    // Values are written as MISP writes them: quoted, exact case.
    let err = check_tag("nis2:nature-severity=high").unwrap_err();
    assert!(matches!(err, TagError::Malformed { .. }), "{err:?}");
    assert!(check_tag("tlp:GREEN").is_err());
    assert!(check_tag("tlp:purple").is_err());
}

#[test]
fn tlp_tags_may_only_repeat_the_marking() {
    assert_eq!(check_tags(&tags(&["tlp:amber"]), Tlp::Amber), Ok(()));
    assert_eq!(check_tags(&tags(&["tlp:white"]), Tlp::Clear), Ok(()));
    assert_eq!(
        check_tags(&tags(&["tlp:amber+strict"]), Tlp::AmberStrict),
        Ok(())
    );
    let err = check_tags(&tags(&["tlp:clear"]), Tlp::Red).unwrap_err();
    assert_eq!(
        err,
        TagError::TlpContradicts {
            tag: "tlp:clear".into(),
            tlp: Tlp::Red
        }
    );
    assert!(err.to_string().contains("TLP:RED"), "{err}");
    // Not markings: they would make a second tlp: tag on a MISP event.
    assert!(check_tags(&tags(&["tlp:ex:chr"]), Tlp::Green).is_err());
    assert!(check_tags(&tags(&["tlp:unclear"]), Tlp::Green).is_err());
    assert_eq!(tlp_of_tag("tlp:white"), Some(Tlp::Clear));
    assert_eq!(tlp_of_tag("tlp:ex:chr"), None);
    assert_eq!(tlp_of_tag("cve:CVE-2026-1"), None);
    for t in Tlp::ALL {
        assert_eq!(tlp_of_tag(&tlp_tag(*t)), Some(*t));
        assert_eq!(check_tag(&tlp_tag(*t)), Ok(()), "{t}");
    }
    assert_eq!(tlp_tag(Tlp::AmberStrict), "tlp:amber+strict");
}

#[test]
fn exclusive_predicates_take_one_value() {
    let ok = tags(&[
        "nis2:impact-sectors-impacted=\"health\"",
        "nis2:impact-sectors-impacted=\"energy\"",
        "nis2:nature-severity=\"high\"",
    ]);
    assert_eq!(check_tags(&ok, Tlp::Green), Ok(()));
    let two = tags(&[
        "nis2:nature-severity=\"high\"",
        "nis2:nature-severity=\"low\"",
    ]);
    let err = check_tags(&two, Tlp::Green).unwrap_err();
    assert!(matches!(err, TagError::Exclusive { .. }), "{err:?}");
    assert!(err.to_string().contains("nis2:nature-severity"), "{err}");
    let both = tags(&["tlp:white", "tlp:clear"]);
    assert!(check_tags(&both, Tlp::Clear).is_err());
}

#[test]
fn every_sector_maps_onto_a_valid_nis2_value_and_back() {
    let nis2 = taxonomy("nis2").unwrap();
    let values: Vec<&str> = nis2
        .entries("impact-sectors-impacted")
        .iter()
        .map(|e| e.value.as_str())
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for s in Sector::ALL {
        assert!(values.contains(&nis2_sector(*s)), "{s}");
        assert!(seen.insert(nis2_sector(*s)), "{s} shares a value");
        assert_eq!(check_tag(&sector_tag(*s)), Ok(()));
        assert_eq!(sector_of_nis2(nis2_sector(*s)), Some(*s));
    }
    assert_eq!(
        sector_tag(Sector::Health),
        "nis2:impact-sectors-impacted=\"health\""
    );
}

#[test]
fn taxonomy_colours_are_read() {
    assert_eq!(colour("tlp:red"), Some("#FF2B2B"));
    assert_eq!(colour("cve:CVE-2026-1"), None);
}
