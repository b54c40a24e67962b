//! Fixed-size byte strings (keys, signatures, digests) with one textual form.
//!
//! Every such value is shown and parsed as lowercase hex, and is serialised as
//! hex in human-readable formats (the JSON control API) and as raw bytes in the
//! binary wire codec, so the same type serves both without wrappers.

/// Defines a newtype over `[u8; N]` with hex `Display`/`FromStr`, a short
/// `Debug`, and serde support that is hex for JSON and raw bytes for the codec.
#[macro_export]
macro_rules! fixed_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Builds the value from a slice of exactly the right length.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, $crate::bytes::BytesError> {
                let arr: [u8; $len] = bytes.try_into().map_err(|_| $crate::bytes::BytesError::Length {
                    what: stringify!($name),
                    expected: $len,
                    found: bytes.len(),
                })?;
                Ok(Self(arr))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // Eight hex digits identify a value in logs without flooding them.
                write!(f, "{}({}…)", stringify!($name), &hex::encode(&self.0[..4]))
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::bytes::BytesError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let raw = hex::decode(s.trim()).map_err(|_| $crate::bytes::BytesError::NotHex {
                    what: stringify!($name),
                })?;
                Self::from_slice(&raw)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(&hex::encode(self.0))
                } else {
                    s.serialize_bytes(&self.0)
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "{} bytes or {} hex digits", $len, 2 * $len)
                    }
                    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<$name, E> {
                        $name::from_slice(v).map_err(E::custom)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                if d.is_human_readable() {
                    d.deserialize_str(V)
                } else {
                    d.deserialize_bytes(V)
                }
            }
        }
    };
}

/// A byte string of the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BytesError {
    #[error("{what} must be {expected} bytes, got {found}")]
    Length {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{what} must be written as hexadecimal digits")]
    NotHex { what: &'static str },
}
