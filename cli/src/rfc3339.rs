//! Reading RFC 3339 times from the command line: the protocol's parser
//! ([`Timestamp::parse_rfc3339`]), with an example of the form in every
//! error, since the operator typed it.

use cairn_protocol::Timestamp;

/// Parses `2026-03-01T09:30:00Z`, `2026-03-01T09:30:00.250+01:00`, or a bare
/// date `2026-03-01` (midnight UTC) into a [`Timestamp`].
pub fn parse(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(s)
        .map_err(|e| format!("{e}: write e.g. 2026-03-01T09:30:00Z or 2026-03-01"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_the_protocol_rendering() {
        for ms in [0, 951_782_400_000, 1_764_080_856_000, 4_102_444_799_000] {
            let t = Timestamp(ms);
            assert_eq!(parse(&t.to_rfc3339()), Ok(t));
        }
    }

    #[test]
    fn accepts_dates_fractions_and_offsets() {
        assert_eq!(parse("1970-01-02"), Ok(Timestamp(86_400_000)));
        assert_eq!(parse("1970-01-01T00:00:01.5Z"), Ok(Timestamp(1_500)));
        assert_eq!(parse("1970-01-01t01:00:00+01:00"), Ok(Timestamp(0)));
        assert_eq!(parse("1970-01-01 00:00:00-00:30"), Ok(Timestamp(1_800_000)));
    }

    #[test]
    fn refuses_impossible_or_ambiguous_times_with_an_example() {
        for s in [
            "2025-02-29",
            "2026-13-01",
            "2026-01-01T24:00:00Z",
            "2026-01-01T10:00:00",
            "2026-01-01T10:00Z",
            "1969-12-31T23:59:59Z",
            "yesterday",
        ] {
            let err = parse(s).unwrap_err();
            assert!(err.contains("2026-03-01T09:30:00Z"), "{s}: {err}");
        }
    }
}
