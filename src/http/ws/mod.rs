//! `GET /api/v1/ws`: one websocket per console, following any number of streams.
//!
//! Per connection: a reader loop (frames, heartbeats, shutdown), a writer task draining a
//! small bounded queue into the socket, and one follower task per subscribed stream. A
//! follower that finds the queue full waits; meanwhile its hub receiver may lag, and it then
//! catches up from the table. So a slow client slows only itself and never loses an event.

mod protocol;

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
use crate::domain::roles::Role;
use crate::error::{AppError, ErrorBody, Result};
use crate::events::subscription::{Deliver, Delivery, follow};
use crate::http::extract::CurrentSession;
use crate::metrics::RoleLabels;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(websocket))
}

/// Opens the realtime socket. Client frames: `subscribe`, `unsubscribe`, `ping`; server
/// frames: `event`, `subscribed`, `unsubscribed`, `pong`, `error` (DESIGN §5).
#[utoipa::path(get, path = "/api/v1/ws", tag = "events",
    responses(
        (status = 101, description = "Switching to the websocket protocol"),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "Cross-origin request refused", body = ErrorBody),
    ))]
async fn websocket(
    State(state): State<AppState>,
    session: CurrentSession,
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
        .on_upgrade(move |socket| serve_socket(state, session.user, socket)))
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

struct Connection {
    state: AppState,
    user: User,
    tx: mpsc::Sender<Message>,
    followers: HashMap<String, JoinHandle<()>>,
}

async fn serve_socket(state: AppState, user: User, socket: WebSocket) {
    let gauge = state
        .metrics
        .ws_connections
        .get_or_create(&RoleLabels {
            role: user.role.to_string(),
        })
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
    let is_desk = matches!(user.role, Role::Oncall | Role::Supervisor);
    let _on_shift = is_desk.then(|| state.presence.join(&user, state.clock.now()));
    let mut presence = is_desk.then(|| state.presence.watch());
    if let Some(watch) = presence.as_mut() {
        watch.mark_changed();
    }

    let mut conn = Connection {
        state: state.clone(),
        user,
        tx,
        followers: HashMap::new(),
    };
    let mut heartbeat = tokio::time::interval(Duration::from_secs(limits.heartbeat_secs));
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let idle_timeout = Duration::from_secs(limits.idle_timeout_secs);
    let mut last_heard = Instant::now();

    let close = loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => {
                break Some((close_code::RESTART, "server restarting; reconnect with since"));
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
                    Some(Ok(Message::Text(text))) => conn.on_text(&text).await,
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
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        let _ = conn.tx.try_send(Message::Close(Some(frame)));
    }
    drop(conn);
    // Give the writer a moment to flush the close frame, but never hang on a dead peer.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    gauge.dec();
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
    async fn on_text(&mut self, text: &str) {
        match protocol::parse(text) {
            Ok(ClientFrame::Subscribe { stream, since }) => self.subscribe(stream, since).await,
            Ok(ClientFrame::Unsubscribe { stream }) => {
                if let Some(follower) = self.followers.remove(&stream) {
                    follower.abort();
                }
                self.send(ServerFrame::Unsubscribed { stream: &stream })
                    .await;
            }
            Ok(ClientFrame::Ping) => self.send(ServerFrame::Pong).await,
            Err(err) => self.send_error(&err, None).await,
        }
    }

    async fn subscribe(&mut self, stream: String, since: i64) {
        let name = match stream.parse::<crate::domain::stream::StreamName>() {
            Ok(name) => name,
            Err(err) => return self.send_error(&err, Some(&stream)).await,
        };
        if !name.readable_by(&self.user) {
            let err = AppError::Forbidden(format!(
                "role {} may not read stream {stream}",
                self.user.role
            ));
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
        let handle = tokio::spawn(async move {
            let result = follow(
                state.store.as_ref(),
                &state.hub,
                &state.metrics,
                &follower_stream,
                since,
                &mut out,
            )
            .await;
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
