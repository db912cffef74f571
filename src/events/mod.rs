//! The event log as the rest of the system sees it, and the in-process hub that wakes
//! subscribers after a commit.
//!
//! The database is the truth: an event exists once its transaction commits, with a
//! per-stream sequence number. The hub only carries copies of committed events to the
//! websocket tasks so that the common case needs no database read; a subscriber that sees a
//! gap or falls behind reads the table instead (`subscription.rs`).

mod hub;
pub mod subscription;
pub mod typing;

pub use hub::{Channels, Hub, HubCounters, HubSubscription, Subscription};

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// What instances on one PostgreSQL tell each other besides committed events: moments and
/// who is on shift, held in memory and never stored.
#[derive(Clone)]
pub struct Signals {
    pub typing: typing::Typing,
    pub presence: crate::presence::Presence,
}

/// One committed event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Event {
    pub stream: String,
    /// Starts at 1 per stream, grows by exactly 1, never repeats.
    pub seq: i64,
    /// What happened, e.g. `entry.created`.
    pub kind: String,
    /// Commit time (UTC, RFC 3339).
    pub at: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// An event to append; the store assigns `seq` and `at` inside the writing transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub stream: String,
    pub kind: String,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn new(stream: impl ToString, kind: impl Into<String>, data: serde_json::Value) -> Self {
        NewEvent {
            stream: stream.to_string(),
            kind: kind.into(),
            data,
        }
    }
}
