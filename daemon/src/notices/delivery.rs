//! How this node's own participation events are going: the last way each
//! undelivered event was sent and when, in words for the operator
//! (`cairn join`, `cairn participation`, `cairn status`).

use cairn_protocol::EventId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The last attempt to deliver an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Sent straight to the authority (no answer yet, or it failed: `why`).
    Direct { why: Option<String> },
    /// No connection to the authority: handed to `members` connected
    /// members, who pass it on until it reaches the authority; the receipt
    /// comes back the same way.
    ViaMembers { members: usize },
    /// Neither the authority nor any member is connected: queued.
    NoMember,
    /// Refused: by the authority (directly or through a member), or by
    /// every member it was handed to (busy, rate limited).
    Refused { reason: String },
}

#[derive(Debug, Default)]
pub struct Delivery {
    routes: Mutex<HashMap<EventId, (Route, Instant)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Delivery {
    pub fn note(&self, event: EventId, route: Route, now: Instant) {
        lock(&self.routes).insert(event, (route, now));
    }

    /// Forgets a delivered event.
    pub fn delivered(&self, event: &EventId) {
        lock(&self.routes).remove(event);
    }

    /// The state of an undelivered event in words, `None` before the first
    /// attempt.
    pub fn describe(&self, event: &EventId, now: Instant) -> Option<String> {
        let routes = lock(&self.routes);
        let (route, at) = routes.get(event)?;
        Some(describe(route, now.saturating_duration_since(*at)))
    }
}

/// `route`, last tried `ago`, in words.
pub fn describe(route: &Route, ago: Duration) -> String {
    let ago = format!("{}s ago", ago.as_secs());
    match route {
        Route::Direct { why: None } => {
            format!("sent to the authority {ago}, waiting for its receipt")
        }
        Route::Direct { why: Some(why) } => {
            format!("queued: sending to the authority failed {ago} ({why}); retrying")
        }
        Route::ViaMembers { members } => format!(
            "queued: the authority is not connected, so the notice was sent via {members} \
             member{} {ago}; they pass it on and the receipt comes back the same way",
            if *members == 1 { "" } else { "s" }
        ),
        Route::NoMember => format!(
            "queued: neither the authority nor any member is connected (last tried {ago}); \
             it is sent as soon as one is"
        ),
        Route::Refused { reason } => {
            format!("not taken {ago}: {reason}; retrying")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_described_with_their_age_and_forgotten_once_delivered() {
        let d = Delivery::default();
        let id = EventId([1; 32]);
        let t = Instant::now();
        assert_eq!(d.describe(&id, t), None);
        d.note(id, Route::ViaMembers { members: 2 }, t);
        let text = d.describe(&id, t + Duration::from_secs(7)).unwrap();
        assert!(text.contains("via 2 members 7s ago"), "{text}");
        assert!(text.contains("authority is not connected"), "{text}");
        d.note(id, Route::NoMember, t);
        assert!(d
            .describe(&id, t)
            .unwrap()
            .contains("neither the authority nor any member"));
        d.delivered(&id);
        assert_eq!(d.describe(&id, t), None);
    }
}
