//! Reading RFC 3339 times from the command line.
//!
//! The protocol only renders times ([`Timestamp::to_rfc3339`]); an issuer
//! choosing a certificate's start date needs the inverse, without pulling a
//! date-time library into the workspace for one flag.

use cairn_protocol::Timestamp;

/// Parses `2026-03-01T09:30:00Z`, `2026-03-01T09:30:00.250+01:00`, or a bare
/// date `2026-03-01` (midnight UTC) into a [`Timestamp`].
pub fn parse(s: &str) -> Result<Timestamp, String> {
    let bad = |why: &str| {
        format!(
            "'{s}' is not an RFC 3339 time ({why}): write e.g. 2026-03-01T09:30:00Z or 2026-03-01"
        )
    };
    let t = s.trim();
    let date_err = || bad("the date must be YYYY-MM-DD");
    let date = t.get(..10).ok_or_else(date_err)?;
    let rest = &t[10..];
    let (y, mo, d) = parse_date(date).ok_or_else(date_err)?;
    if mo == 0 || mo > 12 || d == 0 || d > days_in_month(y, mo) {
        return Err(bad("no such date"));
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    let mut millis = 0i64;
    if !rest.is_empty() {
        let rest = rest
            .strip_prefix(['T', 't', ' '])
            .ok_or_else(|| bad("the date and time must be separated by 'T'"))?;
        let (clock, zone) =
            split_zone(rest).ok_or_else(|| bad("the time needs a zone, Z or +HH:MM"))?;
        let (h, mi, sec, ms) =
            parse_clock(clock).ok_or_else(|| bad("the time must be HH:MM:SS"))?;
        if h > 23 || mi > 59 || sec > 60 {
            return Err(bad("no such time of day"));
        }
        let offset = parse_zone(zone).ok_or_else(|| bad("the zone must be Z or +HH:MM"))?;
        secs += h * 3600 + mi * 60 + sec - offset;
        millis = ms;
    }
    let total = secs * 1000 + millis;
    u64::try_from(total)
        .map(Timestamp)
        .map_err(|_| bad("it lies before 1970"))
}

fn parse_date(s: &str) -> Option<(i64, i64, i64)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    Some((num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?))
}

fn parse_clock(s: &str) -> Option<(i64, i64, i64, i64)> {
    let (hms, frac) = match s.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (s, None),
    };
    let b = hms.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let ms = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()) => {
            let padded = format!("{:0<3}", &f[..f.len().min(3)]);
            num(&padded)?
        }
        Some(_) => return None,
    };
    Some((num(&hms[0..2])?, num(&hms[3..5])?, num(&hms[6..8])?, ms))
}

/// Splits `09:30:00+01:00` into the clock and the zone.
fn split_zone(s: &str) -> Option<(&str, &str)> {
    let at = s.find(['Z', 'z', '+', '-'])?;
    Some(s.split_at(at))
}

/// The zone's offset east of UTC, in seconds.
fn parse_zone(z: &str) -> Option<i64> {
    if z.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = match z.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let b = z.as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let (h, m) = (num(&z[1..3])?, num(&z[4..6])?);
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm, the inverse of the one the protocol renders with).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
