//! The one error type of the crate and its JSON envelope.
//!
//! Every failure a client can see becomes `{"error":{"code":"…","message":"…"}}` with a fitting
//! status. Internal failures are logged with their detail and answered with a generic message,
//! so database text never leaks to a client.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    /// A well-formed request whose content breaks a rule; `field` names the offending input.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// Several required fields are missing at once; each is named so a form can mark them.
    #[error("{why}: missing {}", fields.join(", "))]
    MissingFields { fields: Vec<String>, why: String },
    #[error("authentication required")]
    Unauthorized,
    #[error("the session has expired; log in again")]
    SessionExpired,
    #[error("invalid username or password")]
    InvalidCredentials,
    /// A chat client's token has run out: the chat can no longer be opened with it.
    #[error("the chat token has expired; open a new chat")]
    TokenExpired,
    #[error("missing or invalid X-CSRF-Token header")]
    Csrf,
    /// A webhook whose signature is missing, wrong, or over a stale timestamp.
    #[error("{0}")]
    SignatureRejected(String),
    #[error("{0}")]
    Forbidden(String),
    /// Allowed only with a stated reason (`?reason=`), which is logged.
    #[error("{0}")]
    ReasonRequired(String),
    #[error("{0}")]
    NotFound(String),
    /// It existed, but is deliberately no longer kept.
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    Conflict(String),
    /// An edit based on an older version (`If-Match`); the client reloads and merges.
    #[error("the record has changed since version {given}; it is now version {current}")]
    VersionConflict { given: i64, current: i64 },
    #[error("{0}")]
    PreconditionRequired(String),
    #[error("request body is too large")]
    PayloadTooLarge,
    /// A rate limit refused the request; the client may try again after the given time.
    #[error("too many requests; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("{0}")]
    Internal(String),
    /// A service this one depends on (a separately hosted shelter) did not answer.
    #[error("{0}")]
    Unavailable(String),
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Validation { .. } | AppError::MissingFields { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Unauthorized
            | AppError::SessionExpired
            | AppError::InvalidCredentials
            | AppError::TokenExpired
            | AppError::SignatureRejected(_) => StatusCode::UNAUTHORIZED,
            AppError::Csrf | AppError::Forbidden(_) | AppError::ReasonRequired(_) => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::Conflict(_) | AppError::VersionConflict { .. } => StatusCode::CONFLICT,
            AppError::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Database(_)
            | AppError::Migration(_)
            | AppError::Config(_)
            | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Validation { .. } | AppError::MissingFields { .. } => "validation_failed",
            AppError::Unauthorized => "unauthorized",
            AppError::SessionExpired => "session_expired",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::TokenExpired => "token_expired",
            AppError::Csrf => "csrf_failed",
            AppError::SignatureRejected(_) => "signature_rejected",
            AppError::Forbidden(_) => "forbidden",
            AppError::ReasonRequired(_) => "reason_required",
            AppError::NotFound(_) => "not_found",
            AppError::Gone(_) => "gone",
            AppError::Conflict(_) => "conflict",
            AppError::VersionConflict { .. } => "version_conflict",
            AppError::PreconditionRequired(_) => "precondition_required",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Database(_)
            | AppError::Migration(_)
            | AppError::Config(_)
            | AppError::Internal(_) => "internal",
            AppError::Unavailable(_) => "unavailable",
        }
    }

    /// The message a client may see: internal detail stays in the server log.
    fn public_message(&self) -> String {
        match self {
            AppError::Unavailable(_) => "the shelter service is not reachable right now".to_owned(),
            _ if self.status().is_server_error() => "internal server error".to_owned(),
            AppError::Validation { message, .. } => message.clone(),
            _ => self.to_string(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.public_message(),
                field: match self {
                    AppError::Validation { field, .. } => Some(field.clone()),
                    AppError::MissingFields { fields, .. } => fields.first().cloned(),
                    _ => None,
                },
                fields: match self {
                    AppError::MissingFields { fields, .. } => Some(fields.clone()),
                    _ => None,
                },
                retry_after: match self {
                    AppError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
                    _ => None,
                },
            },
        }
    }
}

/// The error envelope of every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// The request field at fault, for `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every missing field, when several are required together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
    /// Seconds to wait before trying again, for `rate_limited` (also in `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = (status, Json(self.body())).into_response();
        if let AppError::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => {
                let text = e.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                    .unwrap_or(&text);
                AppError::validation(field_of(detail), detail)
            }
            JsonRejection::JsonSyntaxError(e) => {
                AppError::BadRequest(format!("invalid JSON: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => {
                AppError::UnsupportedMediaType("expected Content-Type: application/json".to_owned())
            }
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

/// The field a JSON data error is about. axum reports serde's path ("channel: unknown
/// variant …"); an unknown or missing field is named inside the message instead.
fn field_of(detail: &str) -> String {
    let named = |marker: &str| {
        detail
            .split_once(marker)
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(name, _)| name.to_owned())
    };
    if let Some(name) = named("unknown field `").or_else(|| named("missing field `")) {
        let path = detail.split_once(": ").map(|(p, _)| p).unwrap_or(".");
        return if path == "." || path.contains(' ') || path == name {
            name
        } else if path.ends_with(&format!(".{name}")) {
            path.to_owned()
        } else {
            format!("{path}.{name}")
        };
    }
    match detail.split_once(": ") {
        Some((path, _)) if path != "." && !path.contains(' ') => path.to_owned(),
        _ => "body".to_owned(),
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::BadRequest(rejection.body_text())
    }
}

impl From<figment::Error> for AppError {
    fn from(e: figment::Error) -> Self {
        AppError::Config(e.to_string())
    }
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::Internal(format!("JSON: {e}"))
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Internal(format!("I/O: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::field_of;

    #[test]
    fn json_data_errors_name_their_field() {
        assert_eq!(
            field_of("bogus: unknown field `bogus`, expected one of `id`"),
            "bogus"
        );
        assert_eq!(field_of(". : missing field `summary` at line 1"), "summary");
        assert_eq!(
            field_of("missing field `summary` at line 1 column 2"),
            "summary"
        );
        assert_eq!(
            field_of("subject: missing field `name` at line 1"),
            "subject.name"
        );
        assert_eq!(field_of("urgency: invalid type: integer `5`"), "urgency");
        assert_eq!(field_of("expected value at line 1"), "body");
    }
}
