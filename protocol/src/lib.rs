//! Cairn's protocol: the data every node agrees on and the rules that decide
//! whether a piece of data is acceptable.
//!
//! This crate does no I/O and no async work. Every rule is a plain function
//! over values so it can be tested without a network or a disk; clocks are
//! passed in as [`Timestamp`] arguments rather than read here.

pub mod audience;
pub mod bytes;
pub mod certificate;
pub mod codec;
pub mod community;
pub mod control;
pub mod directory;
pub mod encryption;
pub mod entity;
pub mod envelope;
pub mod event;
pub mod handshake;
pub mod hash;
pub mod identity;
pub mod interop;
pub mod item;
pub mod item_encoding;
pub mod names;
pub mod notice;
pub mod pseudonym;
pub mod query;
pub mod receipt;
pub mod register;
pub mod revocation;
pub mod signing;
pub mod subject;
pub mod taxonomy;
pub mod time;
pub mod tlp;
pub mod wire;

pub use audience::{MarkingError, Reach, Selector};
pub use certificate::{Authentic, Certificate, CertificateBody, CertificateError, CertificateId};
pub use community::{Community, CommunityId};
pub use encryption::{EncryptionPublicKey, EncryptionSecretKey};
pub use entity::{EntityType, MemberState, Role, Sector};
pub use envelope::{Envelope, EnvelopeError};
pub use event::{EventBody, EventError, EventId, ParticipationKind, SignedEvent};
pub use identity::{PreparedKey, PublicKey, SecretKey};
pub use item::{Content, Contents, ItemBody, ItemError, ItemId, ItemKind, Payload, SignedItem};
pub use item_encoding::{EncodedItem, ItemBytes};
pub use notice::{Notice, NoticeError};
pub use pseudonym::{Reveal, RevealBody, RevealId};
pub use receipt::{Receipt, ReceiptBody, ReceiptError};
pub use register::{RegisterEntry, RegisterRecord};
pub use revocation::{Revocation, RevocationId, RevocationReason, RevocationSet};
pub use signing::Signature;
pub use subject::{Entity, Pseudonym, PseudonymId, Subject};
pub use time::Timestamp;
pub use tlp::Tlp;
