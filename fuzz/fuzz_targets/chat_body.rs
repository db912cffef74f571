//! `POST /api/v1/public/chats/{id}/messages` (the anonymous client) and
//! `POST /api/v1/chats/{id}/messages` (the worker): `serde_json::from_slice` into
//! `MessageRequest`, `MessageRequest::validated(max_chars)` with the default limit
//! (`chat.max_message_chars` = `MAX_MESSAGE_CHARS`) and with a small one, then what
//! `chats::post_message` does with a client's text: the built-in risk phrase lists
//! (`Lexicon::detect`), `Chat::after_message` and `chat::message_events`.
//!
//! Holds: no panic; an accepted body is trimmed, non-empty and within the limit, and keeps
//! the sender's `client_id`; a detection has a level exactly when it has signals, with the
//! signals sorted and unique; a client message can only raise the chat's risk level, and
//! counts one more client message.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use paivystys::domain::chat::{
    self, Author, Chat, Language, MAX_MESSAGE_CHARS, MessageRequest, NewMessage,
};
use paivystys::domain::risk::Lexicon;
use uuid::Uuid;

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| Lexicon::new(&[]).expect("the built-in lists compile"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<MessageRequest>(data) else {
        return;
    };
    let given_id = request.client_id;
    let _ = request.clone().validated(12);
    let Ok((client_id, body)) = request.validated(MAX_MESSAGE_CHARS) else {
        return;
    };
    common::trace("message accepted");
    assert_eq!(client_id, given_id);
    common::assert_required("body", &body, MAX_MESSAGE_CHARS);

    let detection = lexicon().detect(&body);
    assert_eq!(detection.level.is_some(), !detection.signals.is_empty());
    let mut sorted = detection.signals.clone();
    sorted.sort_by_key(|s| s.as_str());
    sorted.dedup();
    assert_eq!(sorted, detection.signals, "signals are sorted and unique");

    let now = common::now();
    let before = Chat::open(
        Uuid::from_u128(0x5f1c2a9e_8d3b_4c7a_9e21_0b6d4f8a1c33),
        Language::Fi,
        now,
    );
    let after = before
        .after_message(Author::Client, &detection, now)
        .expect("an open chat takes a message");
    assert!(after.risk.level >= before.risk.level, "risk only rises");
    if let Some(level) = detection.level {
        assert!(after.risk.level >= level);
    }
    assert_eq!(after.client_messages, before.client_messages + 1);
    assert_eq!(after.version, before.version + 1);
    let message = NewMessage {
        client_id,
        from: Author::Client,
        user_id: None,
        body: body.clone(),
        at: now,
    };
    let events = chat::message_events(&before, &after, &message);
    assert_eq!(events[0].data["body"].as_str(), Some(body.as_str()));
    for event in &events[1..] {
        assert!(
            event.data.get("body").is_none(),
            "the desk never sees a message body"
        );
    }
});
