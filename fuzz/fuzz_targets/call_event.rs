//! `POST /api/v1/telephony/events`: the phone system's signed webhook, as
//! `telephony::receive` takes it. The input is `<X-Paivystys-Signature header>\n<body>`:
//! everything up to the first newline is the header (a header must be UTF-8 to reach the
//! handler), the rest is the body; input without a newline is a body sent with no header.
//! Then `verify`, `serde_json::from_slice::<CallEvent>`, `CallEvent::validate`, the replay
//! window, and the pure steps that follow (number hash, `Call::new`, `call::apply`, the
//! call's entry, its desk event, the statistics).
//!
//! Holds: no panic; a body signed with `telephony::sign` verifies and a missing header never
//! does; a header that verifies is the body's own HMAC; an accepted event has a non-empty
//! call id and every field within 64 printable characters; a caller hash is 64 hex digits.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use chrono::Duration;
use libfuzzer_sys::fuzz_target;
use paivystys::domain::call::{self, Call, CallEvent, CallEventKind, MAX_FIELD};
use paivystys::domain::entry::Person;
use paivystys::telephony;
use secrecy::SecretString;

/// `telephony.max_skew_secs`' default.
const MAX_SKEW_SECS: i64 = 300;

fn secret() -> SecretString {
    SecretString::from("fuzz-telephony-secret".to_owned())
}

fn assert_field(field: &str, text: &str) {
    assert!(
        common::chars(text) <= MAX_FIELD,
        "{field} longer than {MAX_FIELD}"
    );
    assert!(
        !text.chars().any(char::is_control),
        "{field} has a control character"
    );
}

fuzz_target!(|data: &[u8]| {
    let secret = secret();
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (std::str::from_utf8(&data[..i]).ok(), &data[i + 1..]),
        None => (None, data),
    };

    // The signature check, on the header as given and on the right one.
    let signed = telephony::sign(&secret, body);
    assert!(telephony::verify(&secret, body, Some(&signed)).is_ok());
    assert!(telephony::verify(&secret, body, None).is_err());
    if data.contains(&b'\n') && header.is_none() {
        return; // a header that is not text never reaches the handler
    }
    let verified = telephony::verify(&secret, body, header).is_ok();
    if verified {
        let given = header.unwrap().trim().to_ascii_lowercase();
        assert_eq!(
            given, signed,
            "a header verified that is not the body's HMAC"
        );
    }

    // The handler parses and validates only a verified body; the parser is fuzzed on every
    // body here all the same (the fuzzer cannot forge an HMAC).
    let Ok(event) = serde_json::from_slice::<CallEvent>(body) else {
        return;
    };
    if event.validate().is_err() {
        return;
    }
    common::trace(if verified {
        "signed event accepted"
    } else {
        "unsigned event accepted"
    });
    assert!(!event.call_id.trim().is_empty(), "an empty call id");
    assert_field("call_id", &event.call_id);
    assert_field("from", &event.from);
    assert_field("to", &event.to);
    if let Some(ext) = &event.extension {
        assert_field("extension", ext);
    }

    // The replay window, as `telephony::receive` applies it.
    let now = common::now();
    if (now - event.at).abs() > Duration::seconds(MAX_SKEW_SECS) {
        return;
    }
    common::trace("event within the replay window");
    let client = event.client_number();
    let hash = telephony::number_hash(&secret, client);
    if let Some(h) = &hash {
        assert_eq!(h.len(), 64);
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let normalised = call::normalise_number(client);
    assert_eq!(
        call::normalise_number(&normalised),
        normalised,
        "normalising is idempotent"
    );
    let _ = call::normalise_number(event.desk_number());

    let worker = Person {
        id: 7,
        name: "Päivystäjä".into(),
    };
    let first = Call::new(&event, hash, Some("child_welfare".into()));
    let applied = call::apply(&first, &event, Some(worker.clone()))
        .expect("the first event of a call changes it");
    assert_eq!(applied.version, first.version + 1);
    assert!(
        call::apply(&applied, &event, None).is_none(),
        "a replay changes nothing"
    );
    let state = applied.state();
    match event.event {
        CallEventKind::Ended => assert_eq!(state, call::CallState::Ended),
        CallEventKind::Answered => assert_eq!(state, call::CallState::Answered),
        CallEventKind::Ringing => assert_eq!(state, call::CallState::Ringing),
    }
    let _ = applied.stream_data(now);
    let _ = call::desk_event(&applied, now);
    let made = call::entry(&applied, Some("Lastensuojelu"), &worker, now);
    assert!(!made.summary.trim().is_empty());
    let stats = call::statistics(&[first, applied], now);
    assert_eq!(stats.by_hour.len(), 24);
});
