//! Multi-process test harness for Cairn: real `cairnd` and `cairn` binaries,
//! real processes on 127.0.0.1, killed with SIGKILL and fed garbage, the way
//! an operator (or an attacker) would meet them.
//!
//! The tests live in `tests/tests/`; this crate holds what they share:
//! finding the binaries ([`bins`]), building a community with the `cairn`
//! CLI ([`community`]), running and watching nodes ([`node`]), waiting with
//! deadlines ([`wait`]) for conditions over many nodes ([`expect`]),
//! loopback helpers ([`net`]), driving the rogue node ([`rogue`]) against an
//! honest community ([`honest`]) and the certificate-less stranger ([`stranger`]),
//! the reference validators of other formats ([`interop`]), and the
//! README's real-node commands as a script ([`readme`]).

pub mod bench;
pub mod bins;
pub mod community;
pub mod control;
pub mod expect;
pub mod honest;
pub mod http_user;
pub mod interop;
pub mod net;
pub mod netns;
pub mod node;
pub mod raw;
pub mod readme;
pub mod rogue;
pub mod stranger;
pub mod wait;

pub use community::{Community, NodeSpec};
pub use node::NodeProc;
pub use wait::until;
