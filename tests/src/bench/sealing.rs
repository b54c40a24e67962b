//! What sealing alone costs on this machine, apart from the nodes: the
//! `seal` part of the audience scenario's breakdown measured in a cluster
//! sharing the cores, this without it. One thread wrap after wrap, and
//! spread over the cores as the node seals (`cairn_daemon::audience::seal`).

use super::fixture::{Fixture, Member};
use super::report::{ms, percentile};
use anyhow::bail;
use cairn_daemon::audience::{self, Resolved};
use cairn_protocol::{envelope, Content, EncryptionSecretKey, SecretKey, Tlp};
use std::time::Instant;

/// Seals timed of each way.
const ROUNDS: usize = 50;

/// p50 / p99 ms of sealing 1 KiB to `recipients` members: on one thread,
/// and spread over the cores.
pub struct SealTimes {
    pub one_thread: (f64, f64),
    pub spread: (f64, f64),
}

pub fn measure(fixture: &Fixture, member: &Member, recipients: usize) -> anyhow::Result<SealTimes> {
    let mut body = fixture.item_body(member, 11);
    body.tlp = Tlp::AmberStrict;
    let Content::Open(contents) = &body.content else {
        bail!("the fixture's items are open");
    };
    let to: Vec<_> = (0..recipients)
        .map(|_| {
            let k = SecretKey::generate();
            (k.public(), EncryptionSecretKey::derive_from(&k).public())
        })
        .collect();
    let mut one = Vec::with_capacity(ROUNDS);
    let mut spread = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        envelope::seal(contents, &to, vec![], body.seal_context())?;
        one.push(ms(t.elapsed()));
        let resolved = Resolved {
            recipients: to.clone(),
            selectors: vec![],
        };
        let t = Instant::now();
        audience::seal(contents, resolved, &body)?;
        spread.push(ms(t.elapsed()));
    }
    let p = |v: &mut Vec<f64>| -> (f64, f64) {
        v.sort_by(f64::total_cmp);
        (
            percentile(v, 50.0).unwrap_or(f64::NAN),
            percentile(v, 99.0).unwrap_or(f64::NAN),
        )
    };
    Ok(SealTimes {
        one_thread: p(&mut one),
        spread: p(&mut spread),
    })
}
