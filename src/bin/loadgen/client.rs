//! Talking to a server: logging in, opening chats, writing, and opening websockets from a
//! chosen loopback source address.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::args::Target;

pub type Socket = WebSocketStream<TcpStream>;

/// How long one HTTP request or websocket handshake may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A server as the load generator reaches it.
#[derive(Debug, Clone)]
pub struct Server {
    pub target: Target,
    /// The resolved address, checked to be loopback too (`localhost` could be anything in
    /// a hostile /etc/hosts).
    pub addr: SocketAddr,
}

impl Server {
    pub async fn resolve(target: Target) -> anyhow::Result<Server> {
        let addrs: Vec<SocketAddr> =
            tokio::net::lookup_host((target.host.trim_matches(['[', ']']), target.port))
                .await
                .with_context(|| format!("resolving {}", target.authority))?
                .collect();
        if let Some(remote) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            bail!(
                "{} resolves to {remote}, which is not a loopback address; refused",
                target.authority
            );
        }
        let addr = addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied()
            .ok_or_else(|| anyhow!("{} resolves to no address", target.authority))?;
        Ok(Server { target, addr })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.target.base)
    }
}

/// A logged-in worker: the cookie opens websockets, the CSRF token goes with writes.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(1024)
        .build()
        .expect("an HTTP client with default TLS settings")
}

pub async fn login(
    http: &reqwest::Client,
    server: &Server,
    username: &str,
    password: &str,
) -> anyhow::Result<Session> {
    let response = http
        .post(server.url("/api/v1/session"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .with_context(|| format!("logging in at {}", server.target.base))?;
    let status = response.status();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("paivystys_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!(
            "logging in as {username} at {}: HTTP {status} {body}",
            server.target.base
        );
    }
    let csrf = body["csrf_token"]
        .as_str()
        .ok_or_else(|| anyhow!("the login answer has no csrf_token: {body}"))?;
    Ok(Session {
        cookie: cookie.ok_or_else(|| anyhow!("the login answer set no session cookie"))?,
        csrf: csrf.to_owned(),
    })
}

/// The last sequence number of a stream, from the HTTP mirror's `X-Stream-Head`.
pub async fn stream_head(
    http: &reqwest::Client,
    server: &Server,
    session: &Session,
    stream: &str,
) -> anyhow::Result<i64> {
    let response = http
        .get(server.url(&format!("/api/v1/streams/{stream}/events?since=0&limit=1")))
        .header("cookie", &session.cookie)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("reading the head of {stream}: HTTP {}", response.status());
    }
    response
        .headers()
        .get("x-stream-head")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| anyhow!("no X-Stream-Head on {stream}"))
}

/// What a write's answer told: the time to the acknowledgement, or why it failed.
pub type WriteResult = Result<Duration, String>;

/// Creates one anonymous desk entry (`entry.created` on `desk`).
pub async fn write_entry(
    http: &reqwest::Client,
    server: &Server,
    session: &Session,
    n: u64,
) -> WriteResult {
    let body = json!({
        "id": uuid::Uuid::new_v4(),
        "channel": "phone_in",
        "category": "crisis",
        "urgency": "normal",
        "summary": format!("loadgen {n}: soittaja ei saa unta"),
        "subject": { "anonymous": true, "alias": format!("LG-{n}") },
    });
    let request = http
        .post(server.url("/api/v1/entries"))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .json(&body);
    timed(request, 201).await
}

/// An anonymous chat: its id and the token that reads it.
#[derive(Debug, Clone)]
pub struct Chat {
    pub id: String,
    pub token: String,
}

pub async fn open_chat(http: &reqwest::Client, server: &Server) -> anyhow::Result<Chat> {
    let response = http
        .post(server.url("/api/v1/public/chats"))
        .json(&json!({}))
        .send()
        .await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if status.as_u16() != 201 {
        bail!("opening a chat: HTTP {status} {body}");
    }
    match (body["chat_id"].as_str(), body["token"].as_str()) {
        (Some(id), Some(token)) => Ok(Chat {
            id: id.to_owned(),
            token: token.to_owned(),
        }),
        _ => bail!("opening a chat: no chat_id or token in {body}"),
    }
}

pub async fn write_chat_message(
    http: &reqwest::Client,
    server: &Server,
    chat: &Chat,
    n: u64,
) -> WriteResult {
    let request = http
        .post(server.url(&format!("/api/v1/public/chats/{}/messages", chat.id)))
        .bearer_auth(&chat.token)
        .json(&json!({
            "client_id": uuid::Uuid::new_v4(),
            "body": format!("Viesti {n}: en saa unta, voinko jutella jonkun kanssa?"),
        }));
    timed(request, 201).await
}

async fn timed(request: reqwest::RequestBuilder, expect: u16) -> WriteResult {
    let sent = Instant::now();
    match request.send().await {
        Ok(r) if r.status().as_u16() == expect => {
            // Read the body so the connection goes back to the pool.
            let _ = r.bytes().await;
            Ok(sent.elapsed())
        }
        Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
        Err(e) if e.is_timeout() => Err("timeout".into()),
        Err(e) if e.is_connect() => Err("connect refused or failed".into()),
        Err(_) => Err("request failed".into()),
    }
}

/// Who a websocket speaks as.
#[derive(Debug, Clone)]
pub enum Credentials {
    Worker(Session),
    ChatClient(Chat),
}

impl Credentials {
    pub fn stream(&self) -> String {
        match self {
            Credentials::Worker(_) => "desk".into(),
            Credentials::ChatClient(chat) => format!("chat:{}", chat.id),
        }
    }
}

/// Opens a websocket from `source` (a loopback address of its own, so one address does
/// not run out of ephemeral ports), authenticates, and subscribes to the credentials'
/// stream after `since`. Returns the socket and the head the server reported; events
/// replayed before it are handed to `replayed`.
pub async fn open_socket(
    server: &Server,
    source: Option<IpAddr>,
    credentials: &Credentials,
    since: i64,
    mut replayed: impl FnMut(&EventFrame),
) -> anyhow::Result<(Socket, i64)> {
    tokio::time::timeout(REQUEST_TIMEOUT, async {
        let socket = if server.addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if let Some(source) = source.filter(|_| server.addr.is_ipv4()) {
            socket
                .bind(SocketAddr::new(source, 0))
                .with_context(|| format!("binding to {source}"))?;
        }
        let stream = socket.connect(server.addr).await.context("connect")?;
        stream.set_nodelay(true)?;
        let authority = &server.target.authority;
        let mut request = format!("ws://{authority}/api/v1/ws").into_client_request()?;
        // A browser's Origin must match Host; send one as a browser would.
        request
            .headers_mut()
            .insert("origin", format!("http://{authority}").parse()?);
        if let Credentials::Worker(session) = credentials {
            request
                .headers_mut()
                .insert("cookie", session.cookie.parse()?);
        }
        // Small buffers: the client holds as many sockets as the server, on the same
        // machine, and the frames here are small.
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0);
        let (mut socket, _) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                .await
                .context("websocket handshake")?;
        if let Credentials::ChatClient(chat) = credentials {
            send(&mut socket, json!({"type": "auth", "token": chat.token})).await?;
            expect_frame(&mut socket, "authenticated", &mut replayed).await?;
        }
        let stream = credentials.stream();
        send(
            &mut socket,
            json!({"type": "subscribe", "stream": stream, "since": since}),
        )
        .await?;
        let head = expect_frame(&mut socket, "subscribed", &mut replayed).await?;
        Ok((socket, head.unwrap_or(since)))
    })
    .await
    .map_err(|_| anyhow!("timed out opening the websocket"))?
}

async fn send(socket: &mut Socket, frame: serde_json::Value) -> anyhow::Result<()> {
    socket.send(Message::Text(frame.to_string().into())).await?;
    Ok(())
}

/// Reads until a frame of type `kind` (returning its `head`, if any), passing replayed
/// events on and skipping presence frames; an error frame or a close fails.
async fn expect_frame(
    socket: &mut Socket,
    kind: &str,
    replayed: &mut impl FnMut(&EventFrame),
) -> anyhow::Result<Option<i64>> {
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let frame: Frame =
            serde_json::from_str(&text).with_context(|| format!("unreadable frame {text}"))?;
        match frame.kind.as_str() {
            k if k == kind => return Ok(frame.head),
            "event" => replayed(&frame.event()?),
            "error" => bail!("server refused: {text}"),
            _ => {}
        }
    }
    bail!("the socket closed before {kind}")
}

/// The fields of a server frame the load generator looks at; `data` is skipped unread.
#[derive(Debug, Deserialize)]
pub struct Frame {
    #[serde(rename = "type")]
    pub kind: String,
    pub seq: Option<i64>,
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    pub head: Option<i64>,
}

#[derive(Debug)]
pub struct EventFrame {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Frame {
    pub fn event(&self) -> anyhow::Result<EventFrame> {
        match (self.seq, self.at) {
            (Some(seq), Some(at)) => Ok(EventFrame { seq, at }),
            _ => bail!("an event frame without seq or at"),
        }
    }
}
