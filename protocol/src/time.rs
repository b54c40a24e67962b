//! Wall-clock instants as carried on the wire, and their RFC 3339 form
//! (rendered and parsed with `jiff`: STIX and TAXII make these strings part
//! of the data, so a well-kept implementation does the calendar work).

use serde::{Deserialize, Serialize};

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;

/// Milliseconds since the Unix epoch, UTC.
///
/// Rules never read the clock themselves: callers pass `now` in, so every
/// rule is deterministic under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The current time from the system clock.
    pub fn now() -> Self {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(d.as_millis() as u64)
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> u64 {
        self.0
    }

    /// This instant shifted forward, saturating.
    pub fn plus_millis(self, ms: u64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }

    /// This instant shifted forward by whole days.
    pub fn plus_days(self, days: u64) -> Self {
        self.plus_millis(days.saturating_mul(DAY_MS))
    }

    /// This instant shifted back, saturating at the epoch.
    pub fn minus_millis(self, ms: u64) -> Self {
        Timestamp(self.0.saturating_sub(ms))
    }

    /// RFC 3339 rendering in UTC with second precision, for people.
    pub fn to_rfc3339(self) -> String {
        format!("{:.0}", self.as_jiff())
    }

    /// RFC 3339 in UTC with exactly three fraction digits, as STIX 2.1
    /// writes `created` and `modified` and TAXII 2.1 writes `date_added`.
    pub fn to_rfc3339_millis(self) -> String {
        format!("{:.3}", self.as_jiff())
    }

    /// Parses `2026-03-01T09:30:00Z`, `2026-03-01T09:30:00.250+01:00`
    /// (any fraction; digits past the millisecond are dropped), or a bare
    /// date `2026-03-01` (midnight UTC). Seconds and a zone are required, as
    /// RFC 3339 says; instants before 1970 are refused.
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp, TimeError> {
        let t = s.trim();
        let bad = |why: &str| TimeError(format!("'{t}' is not an RFC 3339 time ({why})"));
        let b = t.as_bytes();
        let instant = if b.len() == 10 {
            let date: jiff::civil::Date = t
                .parse()
                .map_err(|_| bad("the date must be an existing YYYY-MM-DD"))?;
            jiff::tz::Offset::UTC
                .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
                .map_err(|_| bad("out of range"))?
        } else {
            // jiff also reads ISO 8601 forms RFC 3339 does not allow (no
            // seconds, no zone): the shape is checked here first.
            if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
                return Err(bad("write YYYY-MM-DDTHH:MM:SS with a zone"));
            }
            if !matches!(b[10], b'T' | b't' | b' ') {
                return Err(bad("the date and time must be separated by 'T'"));
            }
            let zone = &t[19..];
            let zone = zone.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
            let zone_ok = zone.eq_ignore_ascii_case("z")
                || (zone.len() == 6
                    && (zone.starts_with('+') || zone.starts_with('-'))
                    && zone.as_bytes()[3] == b':');
            if !zone_ok {
                return Err(bad("the time needs a zone, Z or +HH:MM"));
            }
            let normalised = format!("{}T{}", &t[..10], &t[11..]).replace(['z'], "Z");
            normalised
                .parse::<jiff::Timestamp>()
                .map_err(|_| bad("no such date or time of day"))?
        };
        u64::try_from(instant.as_millisecond())
            .map(Timestamp)
            .map_err(|_| bad("it lies before 1970"))
    }

    fn as_jiff(self) -> jiff::Timestamp {
        let ms = i64::try_from(self.0).unwrap_or(i64::MAX);
        jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::MAX)
    }
}

/// A string that is not an RFC 3339 time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(pub String);

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_known_instants() {
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp(1_764_080_856_000).to_rfc3339(),
            "2025-11-25T14:27:36Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_rfc3339(),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn millisecond_rendering_and_parsing_round_trip() {
        let t = Timestamp(1_764_080_856_042);
        assert_eq!(t.to_rfc3339_millis(), "2025-11-25T14:27:36.042Z");
        assert_eq!(Timestamp(0).to_rfc3339_millis(), "1970-01-01T00:00:00.000Z");
        for ms in [0, 951_782_400_000, 1_764_080_856_042, 4_102_444_799_999] {
            let t = Timestamp(ms);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339_millis()), Ok(t));
        }
        assert_eq!(
            Timestamp::parse_rfc3339("1970-01-01T00:00:01.5Z"),
            Ok(Timestamp(1_500))
        );
        assert_eq!(
            Timestamp::parse_rfc3339("1970-01-01T00:00:00.123456Z"),
            Ok(Timestamp(123))
        );
        assert_eq!(
            Timestamp::parse_rfc3339("1970-01-01t01:00:00+01:00"),
            Ok(Timestamp(0))
        );
        assert_eq!(
            Timestamp::parse_rfc3339("1970-01-02"),
            Ok(Timestamp(86_400_000))
        );
        for bad in [
            "2025-02-29",
            "2026-01-01T24:00:00Z",
            "2026-01-01T10:00:00",
            "2026-01-01T10:00Z",
            "1969-12-31T23:59:59Z",
            "2026-01-01T10:00:00+0100",
            "yesterday",
        ] {
            assert!(Timestamp::parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Timestamp(5).minus_millis(10), Timestamp(0));
        assert_eq!(Timestamp(u64::MAX).plus_days(1), Timestamp(u64::MAX));
    }
}
