//! The wire codec: the only module that names bincode.
//!
//! Frame: one version byte, then the bincode 2 "standard" encoding (little
//! endian, variable-length integers) of the value. Decoding
//! - refuses frames larger than [`MAX_FRAME`] before looking at them,
//! - refuses an unknown version byte,
//! - caps every allocation at [`MAX_FRAME`] (bincode's limit counts the bytes a
//!   length prefix claims, so a forged prefix cannot make it allocate more),
//! - refuses trailing bytes and any non-canonical encoding (bincode accepts
//!   over-long integers, and lenient parsers may accept variants), by
//!   re-encoding the value and comparing: each value has exactly one frame,
//!   so anything keyed on received bytes (message ids) sees one value once.
//!
//! bincode 2.0.1 is unmaintained upstream; keeping it behind these two
//! functions means a replacement (postcard, say) touches one file, and the
//! golden vectors in the tests show whether the bytes changed.

use serde::{de::DeserializeOwned, Serialize};

/// Version of the frame layout. Bump when the encoding of any type changes.
pub const VERSION: u8 = 3;

/// Largest frame any Cairn node produces or accepts: 1 MiB.
pub const MAX_FRAME: usize = 1 << 20;

/// A value that cannot be encoded or a frame that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("frame is {size} bytes, over the {max}-byte limit")]
    TooLarge { size: usize, max: usize },
    #[error("frame is empty")]
    Empty,
    #[error("frame is in Cairn format version {found}, this node speaks version {VERSION}: the peer or data file comes from another Cairn release; run the same release on both sides")]
    UnknownVersion { found: u8 },
    #[error("frame is malformed: {0}")]
    Malformed(String),
    #[error("frame has {0} trailing bytes after the value")]
    TrailingBytes(usize),
    #[error("value cannot be encoded: {0}")]
    Encode(String),
    #[error("frame is not the canonical encoding of its value")]
    NonCanonical,
}

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<MAX_FRAME>()
}

/// Encodes `value` into a versioned frame.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    // One buffer, the version byte then the body: decoding re-encodes every
    // frame to check its canonical form, so this is on the hot path.
    let mut out = Vec::with_capacity(256);
    out.push(VERSION);
    bincode::serde::encode_into_std_write(value, &mut out, config())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    if out.len() > MAX_FRAME {
        return Err(CodecError::TooLarge {
            size: out.len(),
            max: MAX_FRAME,
        });
    }
    Ok(out)
}

/// Decodes a frame produced by [`encode`].
pub fn decode<T: DeserializeOwned + Serialize>(frame: &[u8]) -> Result<T, CodecError> {
    if frame.len() > MAX_FRAME {
        return Err(CodecError::TooLarge {
            size: frame.len(),
            max: MAX_FRAME,
        });
    }
    let (&version, body) = frame.split_first().ok_or(CodecError::Empty)?;
    if version != VERSION {
        return Err(CodecError::UnknownVersion { found: version });
    }
    let (value, used) = bincode::serde::decode_from_slice::<T, _>(body, config())
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if used != body.len() {
        return Err(CodecError::TrailingBytes(body.len() - used));
    }
    if encode(&value)? != frame {
        return Err(CodecError::NonCanonical);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        n: u64,
        s: String,
        v: Vec<u8>,
        o: Option<u16>,
    }

    fn sample() -> Sample {
        Sample {
            n: 300,
            s: "ab".into(),
            v: vec![1, 2, 3],
            o: Some(7),
        }
    }

    #[test]
    fn golden_sample_layout() {
        // version | varint 300 = fb 2c 01 | "ab" | [1,2,3] | Some(7)
        let bytes = encode(&sample()).unwrap();
        assert_eq!(
            hex::encode(&bytes),
            "03fb2c010261620301020301".to_string() + "07"
        );
        assert_eq!(decode::<Sample>(&bytes).unwrap(), sample());
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut bytes = encode(&sample()).unwrap();
        bytes.push(0);
        assert_eq!(decode::<Sample>(&bytes), Err(CodecError::TrailingBytes(1)));
    }

    #[test]
    fn rejects_unknown_version_and_empty() {
        let mut bytes = encode(&sample()).unwrap();
        bytes[0] = 1;
        assert_eq!(
            decode::<Sample>(&bytes),
            Err(CodecError::UnknownVersion { found: 1 })
        );
        assert_eq!(decode::<Sample>(&[]), Err(CodecError::Empty));
    }

    #[test]
    fn rejects_oversized_frames_before_decoding() {
        let big = vec![0u8; MAX_FRAME + 1];
        assert!(matches!(
            decode::<Vec<u8>>(&big),
            Err(CodecError::TooLarge { .. })
        ));
        assert!(matches!(
            encode(&vec![0u8; MAX_FRAME]),
            Err(CodecError::TooLarge { .. })
        ));
    }

    #[test]
    fn forged_length_prefix_does_not_allocate() {
        // Claims a 2^60-byte vector in a 10-byte frame: must fail fast.
        let mut frame = vec![VERSION, 0xfd];
        frame.extend_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(matches!(
            decode::<Vec<u8>>(&frame),
            Err(CodecError::Malformed(_))
        ));
    }

    #[test]
    fn over_long_integers_are_not_canonical() {
        // 5 written as a three-byte varint instead of one byte.
        assert_eq!(
            decode::<u64>(&[VERSION, 0xfb, 5, 0]),
            Err(CodecError::NonCanonical)
        );
        assert_eq!(decode::<u64>(&[VERSION, 5]), Ok(5));
    }

    #[test]
    fn truncated_frames_are_malformed() {
        let bytes = encode(&sample()).unwrap();
        for cut in 1..bytes.len() {
            assert!(decode::<Sample>(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
