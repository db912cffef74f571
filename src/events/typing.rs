//! "Is typing…" notices in a chat. They are moments, not state: never stored, never given
//! a sequence number, lost without harm when nobody listens (or across instances).

use serde::Serialize;
use utoipa::ToSchema;

use super::{Channels, Subscription};
use crate::domain::chat::Author;

/// Who is typing in which chat stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TypingNotice {
    pub stream: String,
    pub from: Author,
}

#[derive(Clone)]
pub struct Typing {
    channels: Channels<TypingNotice>,
}

impl Default for Typing {
    fn default() -> Self {
        // A notice older than a few others is worthless; a lagging receiver just skips.
        Typing {
            channels: Channels::new(8),
        }
    }
}

impl Typing {
    pub fn subscribe(&self, stream: &str) -> Subscription<TypingNotice> {
        self.channels.subscribe(stream)
    }

    pub fn notify(&self, notice: TypingNotice) {
        let stream = notice.stream.clone();
        self.channels.send_all([(stream.as_str(), notice)]);
    }
}
