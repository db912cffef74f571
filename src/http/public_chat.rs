//! The anonymous client's side of the chat (no login): open a chat, see one's place in
//! the queue, write, and end. The token returned on opening is the client's only key;
//! no address, user agent or cookie is stored.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::chats;
use crate::domain::chat::{ChatMessage, ChatState, EndReason, Language, MessageRequest};
use crate::error::{AppError, ErrorBody, Result};
use crate::http::extract::{
    ApiJson, ApiPath, ChatClient, ClientSource, bearer_token, optional_json,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public_info))
        .routes(routes!(open_chat))
        .routes(routes!(chat_status))
        .routes(routes!(client_message))
        .routes(routes!(client_end))
}

/// What every public page shows first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicInfo {
    /// The on-call phone number.
    pub oncall_phone: String,
    /// Always "112".
    pub emergency_number: &'static str,
    /// On-call workers with a console open right now.
    pub workers_on_shift: usize,
    /// Days after a chat ends before its words are deleted (the statistics stay).
    pub transcript_retention_days: u32,
}

fn workers_on_shift(state: &AppState) -> usize {
    state
        .presence
        .online()
        .iter()
        .filter(|u| u.role.is_desk())
        .count()
}

/// The on-call number, 112, and whether anyone is on shift.
#[utoipa::path(get, path = "/api/v1/public/info", tag = "chat",
    responses((status = 200, description = "What public pages show first", body = PublicInfo)))]
async fn public_info(State(state): State<AppState>) -> Json<PublicInfo> {
    Json(PublicInfo {
        oncall_phone: state.settings.public.oncall_phone.clone(),
        emergency_number: "112",
        workers_on_shift: workers_on_shift(&state),
        transcript_retention_days: state.settings.chat.retention_days,
    })
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenChatRequest {
    /// `fi` (default), `sv` or `en`: the language the client writes in.
    pub language: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenedChat {
    pub chat_id: Uuid,
    /// The client's key to this chat: send it as `Authorization: Bearer <token>` (and in
    /// the websocket's first frame). Shown only now.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// The stream to subscribe to, `chat:<chat_id>`.
    pub stream: String,
}

/// Opens an anonymous chat. Rate-limited per source (kept only as a keyed hash, and only
/// until the limit refills) and in total; a refusal is 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/public/chats", tag = "chat",
    request_body(content = Option<OpenChatRequest>, description = "Optional; empty means Finnish"),
    responses(
        (status = 201, description = "Opened and queued", body = OpenedChat),
        (status = 422, description = "Unknown language", body = ErrorBody),
        (status = 429, description = "Too many chats opened; see Retry-After", body = ErrorBody),
    ))]
async fn open_chat(
    State(state): State<AppState>,
    source: ClientSource,
    body: Bytes,
) -> Result<(StatusCode, Json<OpenedChat>)> {
    let request: OpenChatRequest = optional_json(&body)?;
    let language = match request.language.as_deref() {
        None | Some("") => Language::Fi,
        Some(lang) => Language::parse_field(lang, "language")?,
    };
    state.limits.check_open(source.0)?;
    let opened = chats::open(&state, language).await?;
    Ok((
        StatusCode::CREATED,
        Json(OpenedChat {
            chat_id: opened.chat.id,
            stream: opened.chat.stream().to_string(),
            token: opened.token,
            expires_at: opened.expires_at,
        }),
    ))
}

/// What the client sees of its chat.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientChatStatus {
    pub chat_id: Uuid,
    pub state: ChatState,
    pub language: Language,
    pub opened_at: DateTime<Utc>,
    /// 1 = next to be answered; only while queued.
    pub position: Option<i64>,
    /// An estimate from recent waits, in whole minutes (at least 1); `null` when there is
    /// nothing honest to base it on.
    pub estimated_wait_minutes: Option<i64>,
    pub workers_on_shift: usize,
    pub end_reason: Option<EndReason>,
}

/// How far back answered chats count towards the wait estimate.
const ESTIMATE_WINDOW_HOURS: i64 = 2;

/// The client's chat: state, place in the queue and an honest wait estimate.
#[utoipa::path(get, path = "/api/v1/public/chats/{chat_id}", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    security(("chat_token" = [])),
    responses(
        (status = 200, description = "The chat as the client sees it", body = ClientChatStatus),
        (status = 401, description = "No or unknown token, or expired", body = ErrorBody),
        (status = 403, description = "The token belongs to another chat", body = ErrorBody),
    ))]
async fn chat_status(
    State(state): State<AppState>,
    client: ChatClient,
    ApiPath(chat_id): ApiPath<Uuid>,
) -> Result<Json<ClientChatStatus>> {
    client.require_chat(chat_id)?;
    let chat = client.chat;
    let workers = workers_on_shift(&state);
    let (position, estimate) = if chat.state == ChatState::Queued {
        let position = state.store.queue_position(&chat).await?;
        let since = state.clock.now() - Duration::hours(ESTIMATE_WINDOW_HOURS);
        let waits = state.store.recent_waits(since).await?;
        let estimate = crate::domain::chat::wait_estimate(&waits, position, workers)
            .map(|d| (d.num_seconds() + 59).div_euclid(60).max(1));
        (Some(position), estimate)
    } else {
        (None, None)
    };
    Ok(Json(ClientChatStatus {
        chat_id: chat.id,
        state: chat.state,
        language: chat.language,
        opened_at: chat.opened_at,
        position,
        estimated_wait_minutes: estimate,
        workers_on_shift: workers,
        end_reason: chat.end_reason,
    }))
}

/// The answer to a message write: its place in the chat's stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageAck {
    pub seq: i64,
    pub client_id: Uuid,
    pub at: DateTime<Utc>,
}

impl From<&ChatMessage> for MessageAck {
    fn from(m: &ChatMessage) -> Self {
        MessageAck {
            seq: m.seq,
            client_id: m.client_id,
            at: m.at,
        }
    }
}

/// The status and ack of a message write: 201 when new, 200 for a resent `client_id`.
pub fn message_response(created: bool, message: &ChatMessage) -> (StatusCode, Json<MessageAck>) {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(MessageAck::from(message)))
}

/// The client writes. Resending the same `client_id` returns the first message (200),
/// never a second one.
#[utoipa::path(post, path = "/api/v1/public/chats/{chat_id}/messages", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    security(("chat_token" = [])),
    request_body = MessageRequest,
    responses(
        (status = 201, description = "Saved; `seq` is its place in the stream", body = MessageAck),
        (status = 200, description = "Already saved under this client_id", body = MessageAck),
        (status = 409, description = "The chat has ended", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody),
        (status = 429, description = "Too many messages; see Retry-After", body = ErrorBody),
    ))]
async fn client_message(
    State(state): State<AppState>,
    client: ChatClient,
    ApiPath(chat_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<MessageRequest>,
) -> Result<(StatusCode, Json<MessageAck>)> {
    client.require_chat(chat_id)?;
    let (client_id, body) = request.validated(state.settings.chat.max_message_chars)?;
    state.limits.check_message(chat_id)?;
    let (created, message) = chats::post_message(&state, chat_id, None, client_id, body).await?;
    Ok(message_response(created, &message))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientEndRequest {
    /// `client` (default) or `quick_exit`.
    pub reason: Option<String>,
    /// The chat token, for `navigator.sendBeacon`, which cannot set headers.
    pub token: Option<String>,
}

/// The client ends the chat (also by quick exit, from a beacon sent while the page
/// unloads: the token may then come in the body). Ending an ended chat changes nothing.
#[utoipa::path(post, path = "/api/v1/public/chats/{chat_id}/end", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    security(("chat_token" = [])),
    request_body(content = Option<ClientEndRequest>),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "The token belongs to another chat", body = ErrorBody),
    ))]
async fn client_end(
    State(state): State<AppState>,
    ApiPath(chat_id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode> {
    let request: ClientEndRequest = optional_json(&body)?;
    let token = bearer_token(&headers)
        .map(str::to_owned)
        .or(request.token)
        .ok_or(AppError::Unauthorized)?;
    let client = ChatClient::from_token(&state, &token).await?;
    client.require_chat(chat_id)?;
    let reason = match request.reason.as_deref() {
        None | Some("client") => EndReason::Client,
        Some("quick_exit") => EndReason::QuickExit,
        Some(other) => {
            return Err(AppError::validation(
                "reason",
                format!("unknown reason {other:?}; expected client or quick_exit"),
            ));
        }
    };
    chats::end(&state, chat_id, reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
