//! Which catch-up sessions run now: a bounded number at once, each with a
//! different member, so one stuck session (a paused or cut-off peer) never
//! holds back sessions with the others. Plain data, no I/O: the manager
//! feeds it wanted peers and finished sessions and starts what it returns.

use libp2p::PeerId;
use std::collections::{HashSet, VecDeque};

/// Sessions running at once. Each keeps a few fetches in flight, so three
/// keep the cores verifying while one waits on a slow member, and the
/// members answering are not all asked by the same node at once.
pub const MAX_SESSIONS: usize = 3;

/// Wanted sessions, running sessions, and who waits for which to finish.
#[derive(Debug)]
pub struct Schedule<W> {
    max: usize,
    queue: VecDeque<PeerId>,
    active: HashSet<PeerId>,
    /// A caller of "sync with everyone" and the peers it still waits for.
    waiters: Vec<(W, HashSet<PeerId>)>,
}

impl<W> Schedule<W> {
    pub fn new(max: usize) -> Self {
        Schedule {
            max,
            queue: VecDeque::new(),
            active: HashSet::new(),
            waiters: Vec::new(),
        }
    }

    /// Asks for a session with `peer` (once: a peer already queued is not
    /// queued twice; one running now gets another session after it).
    pub fn want(&mut self, peer: PeerId) {
        if !self.queue.contains(&peer) {
            self.queue.push_back(peer);
        }
    }

    /// Asks for a session with `peer` unless one is queued or running (a
    /// running one already reconciled with it recently: asking again would
    /// only repeat it).
    pub fn want_idle(&mut self, peer: PeerId) {
        if !self.active.contains(&peer) {
            self.want(peer);
        }
    }

    /// Asks for a session with each of `peers`; `waiter` is handed back
    /// (by [`Schedule::finished`]) once all of them have had one. With no
    /// peers it comes back at once.
    pub fn want_all(&mut self, peers: &[PeerId], waiter: W) -> Option<W> {
        if peers.is_empty() {
            return Some(waiter);
        }
        for p in peers {
            self.want(*p);
        }
        self.waiters.push((waiter, peers.iter().copied().collect()));
        None
    }

    /// Sessions to start now: queued peers with no session running, up to
    /// the bound, in the order they were asked for.
    pub fn start(&mut self) -> Vec<PeerId> {
        let mut started = Vec::new();
        let mut kept = VecDeque::new();
        while let Some(p) = self.queue.pop_front() {
            if self.active.len() < self.max && !self.active.contains(&p) {
                self.active.insert(p);
                started.push(p);
            } else {
                kept.push_back(p);
            }
        }
        self.queue = kept;
        started
    }

    /// Whether another session may start now.
    pub fn has_room(&self) -> bool {
        self.active.len() < self.max
    }

    pub fn running(&self) -> usize {
        self.active.len()
    }

    /// `peer`'s session ended; returns the waiters it was the last one for.
    /// A session that ended while another was queued for the same peer
    /// leaves that one queued.
    pub fn finished(&mut self, peer: PeerId) -> Vec<W> {
        self.active.remove(&peer);
        let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .map(|(w, mut peers)| {
                // Only a session that started after the request counts;
                // the queue holds the peer until then.
                if !self.queue.contains(&peer) {
                    peers.remove(&peer);
                }
                (w, peers)
            })
            .partition(|(_, peers)| peers.is_empty());
        self.waiters = waiting;
        done.into_iter().map(|(w, _)| w).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers(n: usize) -> Vec<PeerId> {
        (0..n).map(|_| PeerId::random()).collect()
    }

    #[test]
    fn a_stuck_session_does_not_hold_back_the_others() {
        let p = peers(5);
        let mut s: Schedule<()> = Schedule::new(3);
        for q in &p {
            s.want(*q);
        }
        assert_eq!(s.start(), p[..3].to_vec());
        assert!(!s.has_room());
        // p[0] is stuck; p[1] finishes: p[3] starts without waiting for p[0].
        s.finished(p[1]);
        assert_eq!(s.start(), vec![p[3]]);
        s.finished(p[2]);
        assert_eq!(s.start(), vec![p[4]]);
        assert_eq!(s.running(), 3);
        assert!(s.start().is_empty());
    }

    #[test]
    fn one_session_per_peer_at_a_time_and_queued_once() {
        let p = peers(2);
        let mut s: Schedule<()> = Schedule::new(3);
        s.want(p[0]);
        assert_eq!(s.start(), vec![p[0]]);
        s.want(p[0]);
        s.want(p[0]);
        s.want(p[1]);
        assert_eq!(s.start(), vec![p[1]], "p[0] waits for its running session");
        s.finished(p[0]);
        assert_eq!(s.start(), vec![p[0]], "then runs once more");
        s.finished(p[0]);
        assert!(s.start().is_empty());
    }

    #[test]
    fn other_holders_are_asked_for_only_when_not_already_in_session() {
        let p = peers(3);
        let mut s: Schedule<()> = Schedule::new(3);
        s.want(p[0]);
        s.want(p[1]);
        assert_eq!(s.start(), vec![p[0], p[1]]);
        // p[0]'s session found a large missing set: the others are asked for.
        for q in &p {
            s.want_idle(*q);
        }
        assert_eq!(
            s.start(),
            vec![p[2]],
            "p[0] and p[1] are in session already"
        );
        s.finished(p[0]);
        s.finished(p[1]);
        assert!(s.start().is_empty(), "no second session queued for them");
    }

    #[test]
    fn a_sync_with_everyone_answers_when_each_has_had_a_session() {
        let p = peers(3);
        let mut s: Schedule<&str> = Schedule::new(2);
        assert_eq!(s.want_all(&[], "nobody"), Some("nobody"));
        // p[0] already running when the request comes: only a session
        // that starts after it counts.
        s.want(p[0]);
        s.start();
        assert_eq!(s.want_all(&p, "all"), None);
        assert!(
            s.finished(p[0]).is_empty(),
            "the earlier session does not count"
        );
        let started = s.start();
        assert_eq!(started.len(), 2);
        for q in started {
            assert!(s.finished(q).is_empty());
        }
        let last = s.start();
        assert_eq!(last.len(), 1);
        assert_eq!(s.finished(last[0]), vec!["all"]);
    }
}
