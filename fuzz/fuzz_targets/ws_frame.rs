//! The websocket's client frames (`http::ws::protocol::parse`), fed as the server feeds
//! them: only UTF-8 text reaches the parser (a binary or non-UTF-8 frame is refused before).
//!
//! Holds: no panic; a refused frame is a `bad_request` whose error frame serializes; an
//! accepted frame is a JSON object whose `type` names the variant and whose fields are the
//! ones parsed; a stream name that parses is canonical (it prints back as given); the
//! server's answers about a stream carry the exact stream text back through JSON.
//! `ClientFrame` is not `Serialize`, so there is no re-parse of its own serialization.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use paivystys::domain::roles::Role;
use paivystys::domain::stream::StreamName;
use paivystys::http::ws::protocol::{self, ClientFrame, ServerFrame};
use serde_json::Value;

fn frame_json(frame: &ServerFrame<'_>) -> Value {
    let text = frame.to_text();
    serde_json::from_str(&text).expect("a server frame is JSON")
}

/// What the server does with a stream name a client sent: parse it, check who may read it,
/// and echo it back in its answers.
fn check_stream(stream: &str) {
    if let Ok(name) = stream.parse::<StreamName>() {
        assert_eq!(
            name.to_string(),
            stream,
            "a parsed stream name is canonical"
        );
        assert_eq!(stream.parse::<StreamName>().unwrap(), name);
        for user in [common::oncall(), common::supervisor()] {
            let _ = name.readable_by(&user);
        }
        let team = paivystys::domain::account::User {
            role: Role::Team,
            team: Some("families".into()),
            ..common::oncall()
        };
        let _ = name.readable_by(&team);
    }
    let echoed = frame_json(&ServerFrame::Unsubscribed { stream });
    assert_eq!(echoed["type"], "unsubscribed");
    assert_eq!(
        echoed["stream"].as_str(),
        Some(stream),
        "stream text survives JSON"
    );
    let err = paivystys::error::AppError::validation("stream", "fuzz");
    let refused = frame_json(&ServerFrame::error(&err, Some(stream)));
    assert_eq!(refused["stream"].as_str(), Some(stream));
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let frame = match protocol::parse(text) {
        Ok(frame) => frame,
        Err(err) => {
            assert_eq!(err.code(), "bad_request", "a bad frame is a bad request");
            let answer = frame_json(&ServerFrame::error(&err, None));
            assert_eq!(answer["type"], "error");
            assert_eq!(answer["code"], "bad_request");
            return;
        }
    };
    common::trace("frame accepted");
    // Accepted: the text is a JSON object whose fields are exactly what was parsed.
    let value: Value = serde_json::from_str(text).expect("an accepted frame is JSON");
    let object = value.as_object().expect("an accepted frame is an object");
    let tag = object
        .get("type")
        .and_then(Value::as_str)
        .expect("an accepted frame has a string type");
    match &frame {
        ClientFrame::Subscribe { stream, since } => {
            assert_eq!(tag, "subscribe");
            assert_eq!(object["stream"].as_str(), Some(stream.as_str()));
            assert_eq!(
                object.get("since").map_or(Some(0), Value::as_i64),
                Some(*since)
            );
            check_stream(stream);
            let ack = frame_json(&ServerFrame::Subscribed {
                stream,
                head: *since,
            });
            assert_eq!(ack["head"].as_i64(), Some(*since));
        }
        ClientFrame::Unsubscribe { stream } => {
            assert_eq!(tag, "unsubscribe");
            assert_eq!(object["stream"].as_str(), Some(stream.as_str()));
            check_stream(stream);
        }
        ClientFrame::Typing { stream } => {
            assert_eq!(tag, "typing");
            assert_eq!(object["stream"].as_str(), Some(stream.as_str()));
            check_stream(stream);
        }
        ClientFrame::Auth { token } => {
            assert_eq!(tag, "auth");
            assert_eq!(object["token"].as_str(), Some(token.as_str()));
        }
        ClientFrame::Ping => {
            assert_eq!(tag, "ping");
            assert_eq!(frame_json(&ServerFrame::Pong)["type"], "pong");
        }
    }
    // Parsing is a function of the text.
    assert_eq!(protocol::parse(text).ok().as_ref(), Some(&frame));
});
