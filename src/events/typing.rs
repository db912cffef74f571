//! "Is typing…" notices in a chat. They are moments, not state: never stored, never given
//! a sequence number, lost without harm when nobody listens. With several instances on
//! PostgreSQL they also go to the other instances (`store::pg_fanout`), best effort.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use utoipa::ToSchema;

use super::{Channels, Subscription};
use crate::domain::chat::Author;

/// Who is typing in which chat stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TypingNotice {
    pub stream: String,
    pub from: Author,
}

#[derive(Clone)]
pub struct Typing {
    channels: Channels<TypingNotice>,
    /// This instance's notices, for the other instances (set when they are told).
    outbound: Arc<OnceLock<mpsc::Sender<TypingNotice>>>,
}

impl Default for Typing {
    fn default() -> Self {
        // A notice older than a few others is worthless; a lagging receiver just skips.
        Typing {
            channels: Channels::new(8),
            outbound: Arc::new(OnceLock::new()),
        }
    }
}

impl Typing {
    pub fn subscribe(&self, stream: &str) -> Subscription<TypingNotice> {
        self.channels.subscribe(stream)
    }

    /// A notice from a socket of this instance.
    pub fn notify(&self, notice: TypingNotice) {
        if let Some(out) = self.outbound.get() {
            // Full means the other instances are behind on moments that are already
            // stale; dropping one is harmless.
            let _ = out.try_send(notice.clone());
        }
        self.deliver(notice);
    }

    /// Hands a notice to this instance's sockets only (one from another instance).
    pub fn deliver(&self, notice: TypingNotice) {
        let stream = notice.stream.clone();
        self.channels.send_all([(stream.as_str(), notice)]);
    }

    /// From now on, this instance's notices also go to the returned receiver; `None` when
    /// someone already takes them.
    pub fn outbound(&self, capacity: usize) -> Option<mpsc::Receiver<TypingNotice>> {
        let (tx, rx) = mpsc::channel(capacity);
        self.outbound.set(tx).ok().map(|()| rx)
    }
}
