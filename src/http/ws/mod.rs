//! `GET /api/v1/ws`: one websocket per console, following any number of streams.
//!
//! Staff connect with their session cookie. A chat client connects without one and sends
//! `{"type":"auth","token"}` first; until then the socket may do nothing else, and it is
//! closed if the frame does not come within `AUTH_WITHIN`.
//!
//! Per connection: a reader loop (frames, heartbeats, shutdown), a writer task draining a
//! small bounded queue into the socket, and one follower task per subscribed stream. A
//! follower that finds the queue full waits; meanwhile its hub receiver may lag, and it then
//! catches up from the table. So a slow client slows only itself and never loses an event.

pub mod protocol;

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::protocol::{ClientFrame, ServerFrame};
use crate::AppState;
use crate::domain::account::User;
use crate::domain::chat::Author;
use crate::domain::stream::StreamName;
use crate::error::{AppError, ErrorBody, Result};
use crate::events::subscription::{Deliver, Delivery, follow};
use crate::events::typing::TypingNotice;
use crate::http::extract::{ChatClient, CurrentSession, Reader};
use crate::http::streams::authorize_stream;
use crate::metrics::RoleLabels;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(websocket))
}

/// Opens the realtime socket. Client frames: `subscribe`, `unsubscribe`, `ping`, `auth`
/// (chat clients, first), `typing`; server frames: `event`, `subscribed`, `unsubscribed`,
/// `pong`, `authenticated`, `typing`, `presence`, `error` (DESIGN §5).
#[utoipa::path(get, path = "/api/v1/ws", tag = "events",
    responses(
        (status = 101, description = "Switching to the websocket protocol"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Cross-origin request refused", body = ErrorBody),
    ))]
async fn websocket(
    State(state): State<AppState>,
    session: Option<CurrentSession>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    refuse_cross_origin(&headers)?;
    let limits = &state.settings.ws;
    Ok(upgrade
        .read_buffer_size(limits.read_buffer_bytes)
        .write_buffer_size(0)
        .max_write_buffer_size(limits.max_message_bytes.max(64 * 1024) * 4)
        .max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_message_bytes)
        .on_upgrade(move |socket| {
            // Counted until it ends, so shutdown waits for its goodbye.
            let open = state.sockets.token();
            async move {
                serve_socket(state, session.map(|s| s.user), socket).await;
                drop(open);
            }
        }))
}

/// A browser always sends `Origin`; the cookie would ride along on a cross-site page's
/// socket, so a foreign origin is refused. Non-browser clients send none.
fn refuse_cross_origin(headers: &HeaderMap) -> Result<()> {
    let Some(origin) = headers.get("origin") else {
        return Ok(());
    };
    let host = headers.get("host").and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .map(|u| match u.port() {
            Some(port) => format!("{}:{port}", u.host_str().unwrap_or_default()),
            None => u.host_str().unwrap_or_default().to_owned(),
        });
    match (origin_host, host) {
        (Some(o), Some(h)) if o.eq_ignore_ascii_case(h) => Ok(()),
        _ => Err(AppError::Forbidden(
            "websocket from another origin refused".into(),
        )),
    }
}

/// The outbound half of a connection as the followers see it.
struct Outbound {
    tx: mpsc::Sender<Message>,
    state: AppState,
}

impl Deliver for Outbound {
    async fn deliver(&mut self, delivery: Delivery) -> bool {
        let text = match &delivery {
            Delivery::Event(event) => ServerFrame::Event(event).to_text(),
            Delivery::CaughtUp { stream, head } => ServerFrame::Subscribed {
                stream,
                head: *head,
            }
            .to_text(),
        };
        let sent = self.tx.send(Message::Text(text.into())).await.is_ok();
        if sent && matches!(delivery, Delivery::Event(_)) {
            self.state.metrics.events_delivered.inc();
        }
        sent
    }
}

/// How long a socket without a session may wait before sending its `auth` frame.
const AUTH_WITHIN: Duration = Duration::from_secs(10);

/// At most one typing notice per socket and chat in this interval; the rest are dropped.
const TYPING_EVERY: Duration = Duration::from_millis(1000);

/// What a frame did to the socket's identity.
enum Became {
    Same,
    /// An `auth` frame made it a chat client's socket.
    ChatClient,
}

/// Who is on the other end of the socket.
enum Peer {
    /// No session cookie, and no `auth` frame yet.
    Pending,
    Staff(User),
    ChatClient(Uuid),
}

impl Peer {
    fn reader(&self) -> Option<Reader> {
        match self {
            Peer::Pending => None,
            Peer::Staff(user) => Some(Reader::User(user.clone())),
            Peer::ChatClient(id) => Some(Reader::ChatClient(*id)),
        }
    }
}

struct Connection {
    state: AppState,
    peer: Peer,
    tx: mpsc::Sender<Message>,
    followers: HashMap<String, JoinHandle<()>>,
    /// When this socket last passed on a typing notice, per chat stream.
    last_typing: HashMap<String, Instant>,
}

async fn serve_socket(state: AppState, user: Option<User>, socket: WebSocket) {
    let role = user
        .as_ref()
        .map(|u| u.role.to_string())
        .unwrap_or_else(|| "chat_client".to_owned());
    let gauge = state
        .metrics
        .ws_connections
        .get_or_create(&RoleLabels { role })
        .clone();
    gauge.inc();

    let limits = state.settings.ws.clone();
    let (mut sink, mut incoming) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Message>(limits.outbound_queue.max(1));
    let writer = tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });

    // Desk users are "on shift" while a console is open, and see who else is.
    let is_desk = user.as_ref().is_some_and(|u| u.role.is_desk());
    let mut on_shift = user
        .as_ref()
        .filter(|_| is_desk)
        .map(|u| state.presence.join(u, state.clock.now()));
    let mut presence = is_desk.then(|| state.presence.watch());
    if let Some(watch) = presence.as_mut() {
        watch.mark_changed();
    }

    let mut conn = Connection {
        state: state.clone(),
        peer: user.map_or(Peer::Pending, Peer::Staff),
        tx,
        followers: HashMap::new(),
        last_typing: HashMap::new(),
    };
    let auth_deadline = tokio::time::sleep(AUTH_WITHIN);
    tokio::pin!(auth_deadline);
    let mut heartbeat = tokio::time::interval(Duration::from_secs(limits.heartbeat_secs));
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let idle_timeout = Duration::from_secs(limits.idle_timeout_secs);
    let mut last_heard = Instant::now();

    let close = loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => {
                break Some((close_code::RESTART, "server restarting; reconnect with since"));
            }
            _ = &mut auth_deadline, if matches!(conn.peer, Peer::Pending) => {
                break Some((close_code::POLICY, "authenticate first"));
            }
            Ok(()) = presence_changed(&mut presence) => {
                let online = state.presence.online();
                conn.send(ServerFrame::Presence { online: &online }).await;
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > idle_timeout {
                    break Some((close_code::AWAY, "no heartbeat"));
                }
                // A full queue already means the peer is behind; skip this ping.
                let _ = conn.tx.try_send(Message::Ping(Default::default()));
            }
            received = incoming.next() => {
                last_heard = Instant::now();
                match received {
                    Some(Ok(Message::Text(text))) => {
                        match conn.on_text(&text).await {
                            Err(close) => break Some(close),
                            Ok(Became::ChatClient) => {
                                // A staff browser opened the public chat page: this
                                // socket is the client's now, not a console on shift.
                                drop(on_shift.take());
                                presence = None;
                            }
                            Ok(Became::Same) => {}
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        conn.send_error(&AppError::BadRequest(
                            "binary frames are not supported; send JSON text".into(),
                        ), None).await;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(err)) => {
                        tracing::debug!(error = %err, "websocket read failed");
                        break Some(close_for(&err));
                    }
                }
            }
        }
    };

    for (_, follower) in conn.followers.drain() {
        follower.abort();
    }
    let server_closed = close.is_some();
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = conn.tx.try_send(Message::Close(Some(frame)));
    }
    drop(conn);
    // Give the writer a moment to flush the close frame, and the peer a moment to answer
    // it: closing the connection with its frames (a pong, say) still unread would reset it
    // instead, and the client would never see why it was closed. Never hang on a dead peer.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = writer.await;
        if server_closed {
            loop {
                match incoming.next().await {
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                }
            }
        }
    })
    .await;
    gauge.dec();
}

/// Passes typing notices to the socket until it closes; never resolves without any. A full
/// queue drops the notice: it would be stale by the time it arrived.
async fn forward_typing(
    typing: Option<crate::events::Subscription<TypingNotice>>,
    tx: mpsc::Sender<Message>,
) {
    let Some(mut typing) = typing else {
        return std::future::pending().await;
    };
    loop {
        match typing.recv().await {
            Ok(notice) => {
                let text = ServerFrame::Typing(&notice).to_text();
                if let Err(mpsc::error::TrySendError::Closed(_)) =
                    tx.try_send(Message::Text(text.into()))
                {
                    return std::future::pending().await;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                return std::future::pending().await;
            }
        }
    }
}

/// Resolves when the presence list changed; never for a socket without presence.
async fn presence_changed(
    watch: &mut Option<
        tokio::sync::watch::Receiver<std::sync::Arc<Vec<crate::presence::OnlineUser>>>,
    >,
) -> std::result::Result<(), tokio::sync::watch::error::RecvError> {
    match watch {
        Some(watch) => watch.changed().await,
        None => std::future::pending().await,
    }
}

/// The close code that tells a client why its connection failed.
fn close_for(err: &axum::Error) -> (u16, &'static str) {
    let text = err.to_string();
    if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
        (close_code::SIZE, "frame too large")
    } else if text.contains("UTF-8") || text.contains("utf-8") {
        (close_code::INVALID, "text frame is not valid UTF-8")
    } else {
        (close_code::PROTOCOL, "protocol error")
    }
}

impl Connection {
    /// Handles one frame; `Err` closes the socket with that code and reason.
    async fn on_text(&mut self, text: &str) -> std::result::Result<Became, (u16, &'static str)> {
        let frame = protocol::parse(text);
        let fresh_staff = matches!(self.peer, Peer::Staff(_)) && self.followers.is_empty();
        match (&self.peer, &frame) {
            (Peer::Pending, _) => return self.authenticate(frame).await,
            // The chat page in a browser where someone is also logged in to the console:
            // the cookie came along, but the page speaks as the client. Only before the
            // socket followed anything, so a console never turns into something else.
            (Peer::Staff(_), Ok(ClientFrame::Auth { .. })) if fresh_staff => {
                return self.authenticate(frame).await;
            }
            _ => {}
        }
        match frame {
            Ok(ClientFrame::Subscribe { stream, since }) => self.subscribe(stream, since).await,
            Ok(ClientFrame::Unsubscribe { stream }) => {
                if let Some(follower) = self.followers.remove(&stream) {
                    follower.abort();
                }
                self.send(ServerFrame::Unsubscribed { stream: &stream })
                    .await;
            }
            Ok(ClientFrame::Ping) => self.send(ServerFrame::Pong).await,
            Ok(ClientFrame::Auth { .. }) => {
                let err = AppError::BadRequest("this socket is already authenticated".into());
                self.send_error(&err, None).await;
            }
            Ok(ClientFrame::Typing { stream }) => self.typing(stream).await,
            Err(err) => self.send_error(&err, None).await,
        }
        Ok(Became::Same)
    }

    /// The first frame of a socket without a session must be a valid `auth`.
    async fn authenticate(
        &mut self,
        frame: Result<ClientFrame>,
    ) -> std::result::Result<Became, (u16, &'static str)> {
        let token = match frame {
            Ok(ClientFrame::Auth { token }) => token,
            Ok(_) => {
                self.send_error(&AppError::Unauthorized, None).await;
                return Err((close_code::POLICY, "authenticate first"));
            }
            Err(err) => {
                self.send_error(&err, None).await;
                return Err((close_code::POLICY, "authenticate first"));
            }
        };
        match ChatClient::from_token(&self.state, &token).await {
            Ok(client) => {
                self.peer = Peer::ChatClient(client.chat.id);
                self.send(ServerFrame::Authenticated {
                    chat_id: client.chat.id,
                })
                .await;
                Ok(Became::ChatClient)
            }
            Err(err) => {
                self.send_error(&err, None).await;
                Err((close_code::POLICY, "invalid chat token"))
            }
        }
    }

    /// Passes a typing notice to the others in a chat the sender may read.
    async fn typing(&mut self, stream: String) {
        let (Ok(name @ StreamName::Chat(_)), Some(reader)) =
            (stream.parse::<StreamName>(), self.peer.reader())
        else {
            let err = AppError::validation("stream", "typing notices go to a chat stream");
            return self.send_error(&err, Some(&stream)).await;
        };
        if !reader.may_read(&name) {
            let err = AppError::Forbidden(format!("{} may not write to {name}", reader.describe()));
            return self.send_error(&err, Some(&stream)).await;
        }
        let stream = name.to_string();
        if self
            .last_typing
            .get(&stream)
            .is_some_and(|t| t.elapsed() < TYPING_EVERY)
        {
            return;
        }
        self.last_typing.retain(|_, t| t.elapsed() < TYPING_EVERY);
        self.last_typing.insert(stream.clone(), Instant::now());
        let from = match self.peer {
            Peer::ChatClient(_) => Author::Client,
            _ => Author::Worker,
        };
        self.state.typing.notify(TypingNotice { stream, from });
    }

    async fn subscribe(&mut self, stream: String, since: i64) {
        let Some(reader) = self.peer.reader() else {
            return self
                .send_error(&AppError::Unauthorized, Some(&stream))
                .await;
        };
        if let Err(err) = authorize_stream(&reader, &stream) {
            return self.send_error(&err, Some(&stream)).await;
        }
        if since < 0 {
            let err = AppError::validation("since", "must be 0 or more");
            return self.send_error(&err, Some(&stream)).await;
        }
        self.followers.retain(|_, f| !f.is_finished());
        // Subscribing again restarts the stream from the new `since`.
        if let Some(previous) = self.followers.remove(&stream) {
            previous.abort();
        }
        if self.followers.len() >= self.state.settings.ws.max_subscriptions {
            let err = AppError::BadRequest(format!(
                "at most {} streams per connection",
                self.state.settings.ws.max_subscriptions
            ));
            return self.send_error(&err, Some(&stream)).await;
        }

        let state = self.state.clone();
        let mut out = Outbound {
            tx: self.tx.clone(),
            state: state.clone(),
        };
        let follower_stream = stream.clone();
        // A chat's typing notices ride along with its events.
        let typing = stream
            .starts_with("chat:")
            .then(|| state.typing.subscribe(&stream));
        let typing_tx = self.tx.clone();
        let handle = tokio::spawn(async move {
            let followed = follow(
                state.store.as_ref(),
                &state.hub,
                &state.metrics,
                &follower_stream,
                since,
                &mut out,
            );
            let result = tokio::select! {
                result = followed => result,
                _ = forward_typing(typing, typing_tx) => Ok(()),
            };
            if let Err(err) = result {
                let frame = ServerFrame::error(&err, Some(&follower_stream));
                let _ = out.tx.send(Message::Text(frame.to_text().into())).await;
            }
        });
        self.followers.insert(stream, handle);
    }

    async fn send(&self, frame: ServerFrame<'_>) {
        let _ = self.tx.send(Message::Text(frame.to_text().into())).await;
    }

    async fn send_error(&self, err: &AppError, stream: Option<&str>) {
        self.send(ServerFrame::error(err, stream)).await;
    }
}
