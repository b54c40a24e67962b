//! HTTP Basic credentials for the daemon's HTTP servers.
//!
//! Passwords are generated (`cairn taxii user`, 24 random characters, about
//! 143 bits), never chosen, so the configuration holds their SHA-256: with
//! that much entropy a fast hash is no weaker than a slow one, and every
//! request of a paging client can be checked without a key-derivation
//! function's cost. Digests are compared in constant time.

use base64::Engine;
use cairn_protocol::hash::sha256;

/// The user name and password of an `Authorization: Basic …` header.
pub fn basic(header: Option<&str>) -> Option<(String, String)> {
    let value = header?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The hex SHA-256 of a password, as the configuration stores it.
pub fn digest(password: &str) -> String {
    hex::encode(sha256(&[password.as_bytes()]))
}

/// Whether `password` hashes to `expected_hex`, in constant time.
pub fn verify(password: &str, expected_hex: &str) -> bool {
    let Ok(expected) = hex::decode(expected_hex) else {
        return false;
    };
    let got = sha256(&[password.as_bytes()]);
    expected.len() == got.len()
        && expected
            .iter()
            .zip(got.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Checks a configured user of an HTTP server section (`[[taxii.users]]`,
/// `[[misp_feed.users]]`): `users` are the names and digests before it, so
/// a name listed twice is caught; `tool` is the command that prints entries.
pub fn check_user(users: &[(&str, &str)], index: usize, tool: &str) -> Result<(), String> {
    let (name, digest) = users[index];
    if name.is_empty() || name.contains(':') {
        return Err(format!(
            "user {name:?}: a name is 1 or more characters without ':'"
        ));
    }
    if users[..index].iter().any(|(other, _)| *other == name) {
        return Err(format!("user {name:?} is listed twice"));
    }
    if digest.len() != 64 || hex::decode(digest).is_err() {
        return Err(format!(
            "user {name:?}: password_sha256 must be 64 hex digits, as `{tool}` prints"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_read_and_checked() {
        // "reader:s3cret:with:colons"
        let header = "Basic cmVhZGVyOnMzY3JldDp3aXRoOmNvbG9ucw==";
        assert_eq!(
            basic(Some(header)),
            Some(("reader".into(), "s3cret:with:colons".into()))
        );
        assert_eq!(basic(Some("Bearer abc")), None);
        assert_eq!(basic(Some("Basic !!!")), None);
        assert_eq!(basic(None), None);
        let d = digest("s3cret:with:colons");
        assert!(verify("s3cret:with:colons", &d));
        assert!(!verify("s3cret", &d));
        assert!(!verify("s3cret:with:colons", "zz"));
    }
}
