//! The local control API between `cairn` and its node's `cairnd`.
//!
//! One JSON object per line over the node's Unix socket: the client writes a
//! [`ControlRequest`], the node answers with one [`ControlResponse`] (or, for
//! `RegisterWatch`, a stream of them until the client hangs up). JSON rather
//! than the wire codec so an operator can speak it with `socat` when needed.
//!
//! The requests, the responses and the views they carry each live in a file
//! named for them; everything is re-exported here so callers keep writing
//! `cairn_protocol::control::X`.

mod item_view;
mod member_view;
mod register_view;
mod request;
mod response;
mod status;

pub use item_view::{AudienceView, ItemView, PayloadView};
pub use member_view::{MemberView, RevokedView};
pub use register_view::{
    ParticipationView, RegisterKind, RegisterView, RevealView, UndeliveredView,
};
pub use request::{AudienceRequest, ControlRequest, ExportQuery, PublishRequest, MAX_REQUEST_LINE};
pub use response::{ControlResponse, ExportPage};
pub use status::{AbuseStatus, BootstrapView, DirectoryView, NodeStatus, SyncStatus};
