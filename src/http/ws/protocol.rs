//! The realtime protocol's JSON text frames (DESIGN §5).

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::events::Event;
use crate::presence::OnlineUser;

/// What a client may send. Unknown types and unknown fields are refused.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Follow a stream: everything after `since` (default 0), then live events.
    Subscribe {
        stream: String,
        #[serde(default)]
        since: i64,
    },
    Unsubscribe {
        stream: String,
    },
    /// Application-level keepalive for clients that cannot see websocket pings.
    Ping,
    /// A chat client's first frame: the token from opening the chat (no cookie needed).
    Auth {
        token: String,
    },
    /// "I am typing" in a chat stream the sender follows; passed on, never stored.
    Typing {
        stream: String,
    },
}

/// What the server sends.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Event(&'a Event),
    Subscribed {
        stream: &'a str,
        head: i64,
    },
    Unsubscribed {
        stream: &'a str,
    },
    Pong,
    /// The chat token was accepted: the socket may now follow `chat:<chat_id>`.
    Authenticated {
        chat_id: uuid::Uuid,
    },
    /// Someone in a followed chat is typing (`from`: `client` or `worker`).
    Typing(&'a crate::events::typing::TypingNotice),
    /// Who is on shift (desk roles only); sent on connect and on every change.
    Presence {
        online: &'a [OnlineUser],
    },
    Error {
        code: &'a str,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        stream: Option<&'a str>,
    },
}

impl ServerFrame<'_> {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("frames always serialize")
    }
}

impl<'a> ServerFrame<'a> {
    pub fn error(err: &AppError, stream: Option<&'a str>) -> Self {
        let body = err.body();
        ServerFrame::Error {
            code: err.code(),
            message: body.error.message,
            stream,
        }
    }
}

pub fn parse(text: &str) -> Result<ClientFrame, AppError> {
    serde_json::from_str(text).map_err(|e| AppError::BadRequest(format!("invalid frame: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn client_frames_parse_strictly() {
        assert_eq!(
            parse(r#"{"type":"subscribe","stream":"desk","since":4}"#).unwrap(),
            ClientFrame::Subscribe {
                stream: "desk".into(),
                since: 4
            }
        );
        assert_eq!(
            parse(r#"{"type":"subscribe","stream":"desk"}"#).unwrap(),
            ClientFrame::Subscribe {
                stream: "desk".into(),
                since: 0
            }
        );
        for bad in [
            r#"{"type":"subscribe","stream":"desk","sincе":1}"#,
            r#"{"type":"subscribe","stream":"desk","extra":true}"#,
            r#"{"type":"subscribe"}"#,
            r#"{"type":"launch"}"#,
            r#"{"type":"auth"}"#,
            r#"{"type":"auth","token":7}"#,
            r#"{"type":"typing","stream":"desk","body":"x"}"#,
            r#"{"stream":"desk"}"#,
            r#"{"type":"subscribe","stream":"desk","since":"1"}"#,
            "[1,2]",
            "not json",
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.code(), "bad_request", "{bad}");
        }
    }

    #[test]
    fn chat_frames_parse() {
        assert_eq!(
            parse(r#"{"type":"auth","token":"abc"}"#).unwrap(),
            ClientFrame::Auth {
                token: "abc".into()
            }
        );
        let notice = crate::events::typing::TypingNotice {
            stream: "chat:x".into(),
            from: crate::domain::chat::Author::Worker,
        };
        assert_eq!(
            ServerFrame::Typing(&notice).to_text(),
            r#"{"type":"typing","stream":"chat:x","from":"worker"}"#
        );
    }

    #[test]
    fn event_frames_carry_the_contract_fields() {
        let event = Event {
            stream: "desk".into(),
            seq: 7,
            kind: "entry.created".into(),
            at: chrono::Utc.with_ymd_and_hms(2026, 11, 22, 1, 2, 3).unwrap(),
            data: serde_json::json!({"id": "x"}),
        };
        let v: serde_json::Value =
            serde_json::from_str(&ServerFrame::Event(&event).to_text()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type":"event","stream":"desk","seq":7,"kind":"entry.created",
                "at":"2026-11-22T01:02:03Z","data":{"id":"x"}})
        );
    }
}
