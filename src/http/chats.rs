//! The desk's side of the chat: the risk-ranked queue, accept or take the next, reply,
//! transfer, assess, end. On-call workers and supervisors only.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::access;
use crate::chats::{self, ChatChange};
use crate::domain::chat::{self as chat_rules, Chat, ChatMessage, ChatState, MessageRequest};
use crate::domain::risk::RiskLevel;
use crate::domain::roles::Role;
use crate::domain::stream::StreamName;
use crate::error::{AppError, ErrorBody, Result};
use crate::http::extract::{
    ApiJson, ApiPath, ApiQuery, DeskSession, list_limit, stream_head_header,
};
use crate::http::public_chat::{MessageAck, message_response};
use crate::store::{AccessAction, AccessResult, ChatFilter};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_chats))
        .routes(routes!(take_next))
        .routes(routes!(get_chat))
        .routes(routes!(transcript, worker_message))
        .routes(routes!(accept_chat))
        .routes(routes!(end_chat))
        .routes(routes!(transfer_chat))
        .routes(routes!(assess_risk))
        .routes(routes!(mark_delivered))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChatsQuery {
    /// `queued` (default), `active`, `ended`, or `open` (queued and active).
    pub state: Option<String>,
    /// Only the chats I am answering.
    #[serde(default)]
    pub mine: bool,
    /// 1–500, default 200.
    pub limit: Option<i64>,
}

/// The chats, in the order a worker should take them: highest risk first, then longest
/// waiting. `X-Stream-Head` is the desk stream's head read before the list.
#[utoipa::path(get, path = "/api/v1/chats", tag = "chat", params(ChatsQuery),
    responses(
        (status = 200, description = "Chats in queue order", body = Vec<Chat>),
        (status = 403, description = "Not a desk role", body = ErrorBody),
        (status = 422, description = "Unknown state or bad limit", body = ErrorBody),
    ))]
async fn list_chats(
    State(state): State<AppState>,
    session: DeskSession,
    ApiQuery(query): ApiQuery<ChatsQuery>,
) -> Result<(HeaderMap, Json<Vec<Chat>>)> {
    let states = match query.state.as_deref() {
        None | Some("") => vec![ChatState::Queued],
        Some("open") => vec![ChatState::Queued, ChatState::Active],
        Some(s) => vec![ChatState::parse_field(s, "state")?],
    };
    let limit = list_limit(query.limit)?;
    let headers = stream_head_header(&state, &StreamName::Desk).await?;
    let chats = state
        .store
        .list_chats(&ChatFilter {
            states,
            worker: query.mine.then_some(session.user.id),
            limit,
            ..ChatFilter::default()
        })
        .await?;
    Ok((headers, Json(chats)))
}

/// "Take next": accepts the most urgent waiting chat. 204 when nobody is waiting.
#[utoipa::path(post, path = "/api/v1/chats/next", tag = "chat",
    responses(
        (status = 200, description = "Accepted; the chat's entry is made", body = Chat),
        (status = 204, description = "Nobody is waiting"),
        (status = 403, description = "Not a desk role", body = ErrorBody),
    ))]
async fn take_next(State(state): State<AppState>, session: DeskSession) -> Result<Response> {
    Ok(match chats::accept_next(&state, &session.user).await? {
        Some(chat) => Json(chat).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// One chat (without its messages).
#[utoipa::path(get, path = "/api/v1/chats/{chat_id}", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The chat", body = Chat),
        (status = 404, description = "No such chat", body = ErrorBody),
    ))]
async fn get_chat(
    State(state): State<AppState>,
    _session: DeskSession,
    ApiPath(chat_id): ApiPath<Uuid>,
) -> Result<Json<Chat>> {
    Ok(Json(chats::load(&state, chat_id).await?))
}

/// The transcript, oldest first (bodies are `null` once purged). Every read is logged.
#[utoipa::path(get, path = "/api/v1/chats/{chat_id}/messages", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The messages", body = Vec<ChatMessage>),
        (status = 404, description = "No such chat", body = ErrorBody),
    ))]
async fn transcript(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(chat_id): ApiPath<Uuid>,
) -> Result<Json<Vec<ChatMessage>>> {
    let chat = chats::load(&state, chat_id).await?;
    access::record(
        &state,
        &session.user,
        AccessAction::Read,
        "chat",
        &chat.id.to_string(),
        AccessResult::Allowed,
    )
    .await?;
    Ok(Json(state.store.chat_messages(chat_id).await?))
}

/// Answers the chat: it leaves the queue, the client is told a worker joined, and a `chat`
/// entry claimed by the worker appears in the live log. 409 if a colleague was first.
#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/accept", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Accepted", body = Chat),
        (status = 409, description = "Already answered, or ended", body = ErrorBody),
    ))]
async fn accept_chat(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(chat_id): ApiPath<Uuid>,
) -> Result<Json<Chat>> {
    let chat = chats::accept(&state, chat_id, &session.user).await?;
    Ok(Json(chat))
}

/// The worker answering the chat (or a supervisor) writes. Same body and retry rule as
/// the client's endpoint.
#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/messages", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    request_body = MessageRequest,
    responses(
        (status = 201, description = "Saved", body = MessageAck),
        (status = 200, description = "Already saved under this client_id", body = MessageAck),
        (status = 403, description = "A colleague is answering this chat", body = ErrorBody),
        (status = 409, description = "Not accepted yet, or ended", body = ErrorBody),
    ))]
async fn worker_message(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(chat_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<MessageRequest>,
) -> Result<(StatusCode, Json<MessageAck>)> {
    let (client_id, body) = request.validated(state.settings.chat.max_message_chars)?;
    state.limits.check_message(chat_id)?;
    let (created, message) =
        chats::post_message(&state, chat_id, Some(&session.user), client_id, body).await?;
    Ok(message_response(created, &message))
}

/// Ends the chat; its entry stays open for the worker to complete. A chat still waiting
/// (say, abuse) may be ended only by a supervisor: it then has no entry, so the decision
/// is a senior one.
#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/end", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Ended (or already ended)", body = Chat),
        (status = 403, description = "A colleague is answering it, or it waits and you are not a supervisor", body = ErrorBody),
    ))]
async fn end_chat(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(chat_id): ApiPath<Uuid>,
) -> Result<Json<Chat>> {
    let chat = chats::load(&state, chat_id).await?;
    match chat.state {
        ChatState::Active => chat.require_worker(&session.user)?,
        ChatState::Queued if session.user.role != Role::Supervisor => {
            return Err(AppError::Forbidden(
                "accept the chat first; only a supervisor ends a waiting chat".into(),
            ));
        }
        _ => {}
    }
    let ended = chats::end(&state, chat_id, chat_rules::EndReason::Worker).await?;
    Ok(Json(ended))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The colleague's username (an on-call worker or supervisor).
    pub to: String,
    /// What the colleague should know; it travels with the chat.
    #[serde(default)]
    pub note: String,
}

/// Hands the chat to a colleague with a note; the chat's entry is handed along.
#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/transfer", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    request_body = TransferRequest,
    responses(
        (status = 200, description = "Transferred", body = Chat),
        (status = 403, description = "Not the worker answering it", body = ErrorBody),
        (status = 422, description = "No such colleague, or the note is too long", body = ErrorBody),
    ))]
async fn transfer_chat(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(chat_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<TransferRequest>,
) -> Result<Json<Chat>> {
    let colleague = state
        .store
        .find_credentials(request.to.trim())
        .await?
        .map(|(user, _)| user)
        .filter(|u| u.role.is_desk())
        .ok_or_else(|| AppError::validation("to", "no on-call colleague with this username"))?;
    let chat = chats::transfer(
        &state,
        chat_id,
        &session.user,
        &colleague,
        request.note.trim().to_owned(),
    )
    .await?;
    Ok(Json(chat))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskRequest {
    /// `elevated`, `high` or `imminent`: the worker's own assessment (it only raises).
    pub level: String,
}

/// The worker's own risk assessment. Imminent risk alerts the supervisors on the desk.
#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/risk", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    request_body = RiskRequest,
    responses(
        (status = 200, description = "Assessed", body = Chat),
        (status = 422, description = "Unknown level", body = ErrorBody),
    ))]
async fn assess_risk(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(chat_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<RiskRequest>,
) -> Result<Json<Chat>> {
    let level = RiskLevel::parse_field(&request.level, "level")?;
    let user = session.user;
    let chat = chats::change(&state, chat_id, |chat| {
        let next = chat.assessed(level, &user)?;
        if next.risk == chat.risk {
            return Ok(None);
        }
        let events = chat_rules::risk_events(chat, &next);
        Ok(Some(ChatChange::new(next, events)))
    })
    .await?;
    Ok(Json(chat))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveredRequest {
    /// The last chat-stream sequence number the console has shown.
    pub seq: i64,
}

/// The worker's console has shown the client's messages up to `seq`: the client sees them
/// as delivered. Repeating or lowering it changes nothing.
#[utoipa::path(post, path = "/api/v1/chats/{chat_id}/delivered", tag = "chat",
    params(("chat_id" = Uuid, Path)),
    request_body = DeliveredRequest,
    responses(
        (status = 204, description = "Recorded"),
        (status = 422, description = "Beyond the chat's stream", body = ErrorBody),
    ))]
async fn mark_delivered(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(chat_id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<DeliveredRequest>,
) -> Result<StatusCode> {
    let head = state
        .store
        .stream_head(&StreamName::Chat(chat_id).to_string())
        .await?;
    if !(0..=head).contains(&request.seq) {
        return Err(AppError::validation(
            "seq",
            format!("must be 0-{head}, the chat's stream head"),
        ));
    }
    let user = session.user;
    chats::change(&state, chat_id, |chat| {
        if chat.state == ChatState::Ended {
            return Ok(None);
        }
        chat.require_worker(&user)?;
        Ok(chat.delivered(request.seq).map(|next| {
            let events = vec![chat_rules::client_event(&next, "chat.delivered")];
            ChatChange::new(next, events)
        }))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
