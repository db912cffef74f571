//! Garbage in: clear errors out, nothing lost, the server stays up.

use futures_util::SinkExt;
use paivystys::domain::roles::Role;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{Frame, FrameHeader};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    malformed_frames_get_error_frames_and_the_socket_lives_on,
    oversized_and_invalid_frames_close_only_that_socket,
    bad_http_bodies_get_the_error_envelope,
    websocket_refuses_a_bad_session_and_a_foreign_page,
);

async fn malformed_frames_get_error_frames_and_the_socket_lives_on(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let mut ws = worker.ws().await;
    let garbage = [
        "not json at all".to_owned(),
        "{\"type\":\"subscribe\"".to_owned(),
        json!({"type": "subscribe", "stream": "desk", "since": 0, "extra": 1}).to_string(),
        json!({"type": "subscribe", "stream": "desk", "since": "zero"}).to_string(),
        json!({"type": "explode"}).to_string(),
        json!([1, 2, 3]).to_string(),
        json!({"type": "subscribe", "stream": "../../etc/passwd"}).to_string(),
        json!({"type": "subscribe", "stream": "desk", "since": -5}).to_string(),
    ];
    for text in &garbage {
        ws.socket
            .send(Message::Text(text.clone().into()))
            .await
            .unwrap();
        let frame = ws.next().await;
        assert_eq!(frame["type"], "error", "{text}");
        let code = frame["code"].as_str().unwrap();
        assert!(
            code == "bad_request" || code == "validation_failed",
            "{text}: {frame}"
        );
        assert!(!frame["message"].as_str().unwrap().is_empty());
    }
    ws.socket
        .send(Message::Binary(vec![0xff, 0x00].into()))
        .await
        .unwrap();
    assert_eq!(ws.next().await["code"], "bad_request");

    // Still a working socket.
    app.append("desk", 1).await;
    ws.subscribe("desk", 0).await;
    assert_eq!(ws.next_event_seq().await, 1);
}

async fn oversized_and_invalid_frames_close_only_that_socket(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let mut bystander = worker.ws().await;
    bystander.subscribe("desk", 0).await;
    assert_eq!(bystander.next().await["type"], "subscribed");

    let mut big = worker.ws().await;
    let huge = json!({"type": "subscribe", "stream": "x".repeat(200 * 1024)}).to_string();
    let _ = big.socket.send(Message::Text(huge.into())).await;
    // A clean 1009 when the close frame wins the race, a reset when the rest of the huge
    // frame was still unread; either way only this socket ends.
    let code = big.closed_with().await;
    assert!(matches!(code, Some(1009) | None), "{code:?}");

    let mut broken = worker.ws().await;
    let header = FrameHeader {
        opcode: OpCode::Data(Data::Text),
        ..FrameHeader::default()
    };
    let frame = Frame::from_payload(header, vec![0xc3, 0x28, 0xa0, 0xa1].into());
    let _ = broken.socket.send(Message::Frame(frame)).await;
    assert_eq!(broken.closed_with().await, Some(1007), "invalid UTF-8");

    // The server and the other socket carry on.
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        200
    );
    app.append("desk", 1).await;
    assert_eq!(bystander.next_event_seq().await, 1);
}

async fn bad_http_bodies_get_the_error_envelope(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.db.add_user("olli", Role::Oncall, None).await;
    let http = reqwest::Client::new();
    let login = app.url("/api/v1/session");
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            http.post(&login)
                .header("content-type", "application/json")
                .body("{\"username\":"),
            400,
            "bad_request",
        ),
        (
            http.post(&login)
                .header("content-type", "application/json")
                .body(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}']),
            400,
            "bad_request",
        ),
        (
            http.post(&login)
                .json(&json!({"username": "olli", "password": "x", "admin": true})),
            422,
            "validation_failed",
        ),
        (
            http.post(&login).json(&json!({"username": "olli"})),
            422,
            "validation_failed",
        ),
        (
            http.post(&login)
                .json(&json!({"username": 5, "password": []})),
            422,
            "validation_failed",
        ),
        (
            http.post(&login)
                .header("content-type", "text/plain")
                .body("username=olli"),
            415,
            "unsupported_media_type",
        ),
        (
            http.post(&login)
                .json(&json!({"username": "olli", "password": "p".repeat(5000)})),
            401,
            "invalid_credentials",
        ),
        (http.get(app.url("/api/v1/no-such-thing")), 404, "not_found"),
        (
            http.put(app.url("/api/v1/session")),
            405,
            "method_not_allowed",
        ),
    ];
    for (i, (request, status, code)) in cases.into_iter().enumerate() {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "case {i}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "case {i}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "case {i}: {body}");
        assert!(body["error"]["message"].is_string(), "case {i}");
    }
    // An oversized body is refused from its declared length, before it is read. (Sent by
    // hand: the server answers and closes while a client is still writing the body.)
    let refusal = send_headers_only(
        &app.base,
        "POST /api/v1/session HTTP/1.1\r\nContent-Type: application/json\r\n\
         Content-Length: 2097152\r\n\r\n{\"username\":\"aaaa",
    )
    .await;
    assert!(refusal.starts_with("HTTP/1.1 413"), "{refusal}");
    assert!(refusal.contains("\"payload_too_large\""), "{refusal}");

    let unknown_field: Value = http
        .post(&login)
        .json(&json!({"username": "olli", "password": "x", "admin": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        unknown_field["error"]["message"]
            .as_str()
            .unwrap()
            .contains("admin"),
        "the unknown field is named: {unknown_field}"
    );
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        200
    );
}

async fn websocket_refuses_a_bad_session_and_a_foreign_page(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let http = reqwest::Client::new();
    let upgrade = |origin: Option<&str>, cookie: Option<String>| {
        let mut request = http
            .get(app.url("/api/v1/ws"))
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    // Without a cookie the socket opens, but only a chat token in its first frame makes
    // it useful (see chats.rs); an unknown session cookie is refused at once.
    let bogus = upgrade(None, Some("paivystys_session=not-a-session".into()))
        .await
        .unwrap();
    assert_eq!(bogus.status(), 401);
    let anonymous = upgrade(None, None).await.unwrap();
    assert_eq!(anonymous.status(), 101);
    let foreign = upgrade(Some("https://evil.example"), Some(worker.cookie_header()))
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let body: Value = foreign.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    let same = upgrade(Some(&app.base), Some(worker.cookie_header()))
        .await
        .unwrap();
    assert_eq!(same.status(), 101);
    let plain_get = worker.get("/api/v1/ws").send().await.unwrap();
    assert!(plain_get.status().is_client_error());
    let body: Value = plain_get.json().await.unwrap();
    assert!(body["error"]["code"].is_string());
}

/// Writes a request's head (and the start of a body) and reads what the server answers.
async fn send_headers_only(base: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = request.replacen("HTTP/1.1\r\n", &format!("HTTP/1.1\r\nHost: {addr}\r\n"), 1);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(crate::helpers::WAIT, stream.read(&mut buf))
            .await
            .expect("the server answers in time");
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&answer);
        if text.contains("\r\n\r\n") && text.trim_end().ends_with('}') {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}
