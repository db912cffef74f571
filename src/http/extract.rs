//! Extractors: JSON/path/query whose rejections speak the error envelope, and the logged-in
//! session (with the CSRF check for writes).

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use cookie::Cookie;

use crate::AppState;
use crate::auth::session::{COOKIE_NAME, token_hash, tokens_match};
use crate::domain::account::User;
use crate::error::AppError;

/// `axum::Json` with rejections (bad JSON, unknown fields, too large) as `AppError`.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

pub const CSRF_HEADER: &str = "x-csrf-token";

/// A logged-in user, from the session cookie. For methods that change state the request
/// must also carry the session's CSRF token in `X-CSRF-Token`.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub user: User,
    pub token_hash: String,
}

/// The raw session token from the request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .map(|c| c.value().to_owned())
}

impl FromRequestParts<AppState> for CurrentSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = session_token(&parts.headers).ok_or(AppError::Unauthorized)?;
        let hash = token_hash(&token);
        let session = state
            .store
            .find_session(&hash)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if session.expires_at <= state.clock.now() {
            state.store.delete_session(&hash).await?;
            return Err(AppError::SessionExpired);
        }
        if !parts.method.is_safe() {
            let given = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !tokens_match(given, &session.csrf_token) {
                return Err(AppError::Csrf);
            }
        }
        Ok(CurrentSession {
            user: session.user,
            token_hash: hash,
        })
    }
}

/// A chat client, from `Authorization: Bearer <token>`: the token opens exactly one chat.
#[derive(Debug, Clone)]
pub struct ChatClient {
    pub chat: crate::domain::chat::Chat,
}

/// The bearer token of a request, if it carries one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

impl ChatClient {
    /// The chat a client token opens, if the token is known and unexpired.
    pub async fn from_token(state: &AppState, token: &str) -> Result<ChatClient, AppError> {
        // A token is 43 characters; anything far longer is not worth hashing.
        if token.len() > 128 {
            return Err(AppError::Unauthorized);
        }
        let (chat, expires_at) = state
            .store
            .chat_by_token(&token_hash(token))
            .await?
            .ok_or(AppError::Unauthorized)?;
        if expires_at <= state.clock.now() {
            return Err(AppError::TokenExpired);
        }
        Ok(ChatClient { chat })
    }

    /// The token's own chat, or 403 for any other.
    pub fn require_chat(&self, id: uuid::Uuid) -> Result<(), AppError> {
        if self.chat.id == id {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "a chat token opens only its own chat".into(),
            ))
        }
    }
}

impl FromRequestParts<AppState> for ChatClient {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer_token(&parts.headers).ok_or(AppError::Unauthorized)?;
        ChatClient::from_token(state, token).await
    }
}

/// Whoever reads a stream: a logged-in user, or a chat client with its token.
#[derive(Debug, Clone)]
pub enum Reader {
    User(User),
    ChatClient(uuid::Uuid),
}

impl Reader {
    pub fn may_read(&self, stream: &crate::domain::stream::StreamName) -> bool {
        match self {
            Reader::User(user) => stream.readable_by(user),
            Reader::ChatClient(id) => *stream == crate::domain::stream::StreamName::Chat(*id),
        }
    }

    /// How the reader is named in a refusal.
    pub fn describe(&self) -> String {
        match self {
            Reader::User(user) => format!("role {}", user.role),
            Reader::ChatClient(_) => "a chat token".to_owned(),
        }
    }
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if bearer_token(&parts.headers).is_some() {
            let client = ChatClient::from_request_parts(parts, state).await?;
            return Ok(Reader::ChatClient(client.chat.id));
        }
        let session = CurrentSession::from_request_parts(parts, state).await?;
        Ok(Reader::User(session.user))
    }
}

/// The keyed hash of the client's address, for rate limits only (see `limits`).
pub struct ClientSource(pub u64);

impl FromRequestParts<AppState> for ClientSource {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let from_header = state
            .settings
            .public
            .client_ip_header
            .as_deref()
            .and_then(|name| parts.headers.get(name))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned());
        let address = from_header.or_else(|| {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip().to_string())
        });
        Ok(ClientSource(
            state
                .limits
                .source_key(address.as_deref().unwrap_or("unknown")),
        ))
    }
}

/// `Option<CurrentSession>`: `None` without a session cookie; a cookie that is invalid or
/// expired is still refused.
impl axum::extract::OptionalFromRequestParts<AppState> for CurrentSession {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, AppError> {
        if session_token(&parts.headers).is_none() {
            return Ok(None);
        }
        <CurrentSession as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// A logged-in on-call worker or supervisor. The desk's endpoints (live log, chats,
/// handing over) take this instead of `CurrentSession`, so the role check is in the
/// signature and cannot be forgotten.
#[derive(Debug, Clone)]
pub struct DeskSession {
    pub user: User,
}

/// The logged-in user, if `allowed` admits their role; 403 naming the role otherwise.
async fn user_in_role(
    parts: &mut Parts,
    state: &AppState,
    allowed: fn(crate::domain::roles::Role) -> bool,
    refusal: &str,
) -> Result<User, AppError> {
    let session =
        <CurrentSession as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
    if !allowed(session.user.role) {
        return Err(AppError::Forbidden(format!(
            "role {} {refusal}",
            session.user.role
        )));
    }
    Ok(session.user)
}

impl FromRequestParts<AppState> for DeskSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = user_in_role(
            parts,
            state,
            |role| role.is_desk(),
            "does not work on the desk (on-call or supervisor)",
        )
        .await?;
        Ok(DeskSession { user })
    }
}

/// Logged-in shelter staff: the only role that reads the shelter's register.
#[derive(Debug, Clone)]
pub struct ShelterStaff {
    pub user: User,
}

impl FromRequestParts<AppState> for ShelterStaff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let user = user_in_role(
            parts,
            state,
            |role| role == crate::domain::roles::Role::Shelter,
            "has no access to the shelter's register",
        )
        .await?;
        Ok(ShelterStaff { user })
    }
}

/// `X-Stream-Head`: the stream's head, read *before* the list it goes with, so a console
/// that subscribes from it misses nothing written meanwhile.
pub async fn stream_head_header(
    state: &AppState,
    stream: &crate::domain::stream::StreamName,
) -> Result<HeaderMap, AppError> {
    let head = state.store.stream_head(&stream.to_string()).await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-stream-head", head.into());
    Ok(headers)
}

/// A list's `limit` query parameter: 1–500, 200 when absent.
pub fn list_limit(limit: Option<i64>) -> Result<i64, AppError> {
    let limit = limit.unwrap_or(200);
    if (1..=500).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::validation("limit", "must be 1-500"))
    }
}

/// A small optional JSON body: an empty body means the defaults.
pub fn optional_json<T: Default + serde::de::DeserializeOwned>(
    body: &axum::body::Bytes,
) -> Result<T, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    // The document calls these bodies optional, and a JSON `null` is how some clients say
    // "none".
    serde_json::from_slice::<Option<T>>(body)
        .map(Option::unwrap_or_default)
        .map_err(|e| match e.classify() {
            serde_json::error::Category::Data => AppError::validation("body", e.to_string()),
            _ => AppError::BadRequest(format!("invalid JSON: {e}")),
        })
}

/// `ETag: "<version>"`: the version a client sends back in `If-Match` to edit.
pub fn etag(version: i64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        axum::http::header::ETAG,
        axum::http::HeaderValue::from_str(&format!("\"{version}\""))
            .expect("digits are a valid header"),
    );
    headers
}

/// The version an edit was based on, from `If-Match` (428 when it is missing).
pub fn if_match(headers: &HeaderMap) -> Result<i64, AppError> {
    let raw = headers.get(axum::http::header::IF_MATCH).ok_or_else(|| {
        AppError::PreconditionRequired("send If-Match with the version you edited".into())
    })?;
    raw.to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::BadRequest("If-Match must be the record's version number".into()))
}
