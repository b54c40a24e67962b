//! `--mode flood`: properly signed items published as fast as the rogue
//! can, optionally signed ahead of time so the flood measures the nodes
//! under attack rather than the rogue's signing.

use crate::items::item;
use crate::node::Rogue;
use crate::{say, Mode};
use cairn_protocol::{Community, SecretKey, Timestamp};
use std::time::{Duration, Instant};

impl Rogue {
    /// Item `i` of a flood, signed and encoded.
    fn flood_item(&self, i: usize, community: &Community, key: &SecretKey) -> Vec<u8> {
        let (_, item) = item(
            i,
            Mode::Flood,
            Timestamp::now(),
            community,
            key,
            &self.certificate,
        )
        .expect("a flood item signs");
        self.encode(item)
    }

    /// Signs items for `prepare`, then publishes as fast as it can until
    /// `seconds` have passed, letting the swarm run between small batches
    /// so they leave.
    pub(crate) async fn flood(
        &mut self,
        prepare: Duration,
        seconds: Duration,
        c: &Community,
        key: &SecretKey,
    ) {
        const MOST_PREPARED: usize = 100_000;
        let ready = Instant::now() + prepare;
        let mut prepared = std::collections::VecDeque::new();
        while Instant::now() < ready && prepared.len() < MOST_PREPARED {
            prepared.push_back(self.flood_item(prepared.len(), c, key));
        }
        let mut i = prepared.len();
        say(format!("flooding prepared={i}"));
        let start = Instant::now();
        let end = start + seconds;
        let (mut published, mut failed) = (0u64, 0u64);
        while Instant::now() < end {
            for _ in 0..16 {
                let data = prepared.pop_front().unwrap_or_else(|| {
                    i += 1;
                    self.flood_item(i, c, key)
                });
                match self.send_encoded(data) {
                    Ok(()) => published += 1,
                    Err(_) => failed += 1,
                }
            }
            self.drive(Instant::now() + Duration::from_millis(1), |_| false)
                .await;
        }
        let secs = start.elapsed().as_secs_f64();
        say(format!(
            "flooded published={published} failed={failed} per-second={:.0}",
            published as f64 / secs
        ));
    }
}
