//! Online reports: the public's side (send, add information; no login) and the staff's
//! (read the report an entry came from).

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::access;
use crate::domain::handover;
use crate::domain::report::NewReport;
use crate::error::{AppError, ErrorBody, Result};
use crate::http::extract::{ApiJson, ApiPath, ClientSource, CurrentSession};
use crate::reports::{self, AdditionReceipt, AdditionRequest, Receipt, ReportWithAdditions};
use crate::store::{AccessAction, AccessResult, HandoverFilter};

/// A report is text typed by a person: far below the API's general body limit.
const PUBLIC_BODY_LIMIT: usize = 64 * 1024;

pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_report))
        .routes(routes!(add_information))
        .layer(DefaultBodyLimit::max(PUBLIC_BODY_LIMIT))
}

pub fn staff_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(entry_report))
}

/// Sends a report without logging in. It becomes a `web_report` entry and a handover to
/// the right team, due by the next working day; an urgent one alerts the desk at once.
/// Nothing that would trace the sender (address, user agent) is stored.
#[utoipa::path(post, path = "/api/v1/public/reports", tag = "reports",
    request_body = NewReport,
    responses(
        (status = 201, description = "Received; the secret is shown only now", body = Receipt),
        (status = 200, description = "A retry (same client_id): the same report with a new \
            secret; the earlier secret no longer works", body = Receipt),
        (status = 413, description = "Over 64 KiB", body = ErrorBody),
        (status = 422, description = "A rule broken; `field` (and `fields`) name what to fix", body = ErrorBody),
        (status = 429, description = "Too many reports from this source; see Retry-After", body = ErrorBody),
    ))]
async fn send_report(
    State(state): State<AppState>,
    source: ClientSource,
    ApiJson(request): ApiJson<NewReport>,
) -> Result<(StatusCode, Json<Receipt>)> {
    let (created, receipt) = reports::submit(&state, request, source.0).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(receipt)))
}

/// Adds information to a report sent earlier, with its reference and secret. The report
/// itself can never be read back: it may hold other people's data.
#[utoipa::path(post, path = "/api/v1/public/reports/{reference}/additions", tag = "reports",
    params(("reference" = String, Path, description = "The report's reference, e.g. K7M3-Q9XP")),
    request_body = AdditionRequest,
    responses(
        (status = 201, description = "Added", body = AdditionReceipt),
        (status = 200, description = "Already added under this client_id (a retry)", body = AdditionReceipt),
        (status = 403, description = "Wrong reference or secret", body = ErrorBody),
        (status = 409, description = "The report takes no more additions", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody),
        (status = 429, description = "Too many attempts from this source", body = ErrorBody),
    ))]
async fn add_information(
    State(state): State<AppState>,
    source: ClientSource,
    ApiPath(reference): ApiPath<String>,
    ApiJson(request): ApiJson<AdditionRequest>,
) -> Result<(StatusCode, Json<AdditionReceipt>)> {
    state.limits.check_addition(source.0)?;
    let (created, receipt) = reports::add(&state, &reference, request).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(receipt)))
}

/// The report an entry came from, with what its sender added later: for the desk, and for
/// a team that has a handover of the entry. Every read is access-logged.
#[utoipa::path(get, path = "/api/v1/entries/{id}/report", tag = "reports",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The report as received", body = ReportWithAdditions),
        (status = 403, description = "Neither the desk nor a team it was handed to", body = ErrorBody),
        (status = 404, description = "The entry did not come from a report", body = ErrorBody),
    ))]
async fn entry_report(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ReportWithAdditions>> {
    let handovers = state
        .store
        .list_handovers(&HandoverFilter {
            entry: Some(id),
            limit: 100,
            ..HandoverFilter::default()
        })
        .await?;
    let allowed = session.user.role.is_desk()
        || handovers
            .iter()
            .any(|h| handover::may_read(&session.user, h));
    let result = if allowed {
        AccessResult::Allowed
    } else {
        AccessResult::Refused
    };
    let found = if allowed {
        Some(reports::for_entry(&state, id).await?)
    } else {
        None
    };
    access::record(
        &state,
        &session.user,
        AccessAction::Read,
        "report",
        &id.to_string(),
        result,
    )
    .await?;
    found.map(Json).ok_or_else(|| {
        AppError::Forbidden("only the desk and a team it was handed to read this report".into())
    })
}
