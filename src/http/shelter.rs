//! The shelter over HTTP, in three parts that never mix:
//! - the desk's narrow window (on-call, supervisor): free places, issue a referral code,
//!   a referral's status — numbers and statuses only;
//! - the register itself (shelter staff only): stays, people turned away, THL statistics;
//! - the link (`/api/v1/shelter-link/…`, a shared secret): what a desk server elsewhere
//!   calls when this server hosts the shelter alone (`serve --shelter-only`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Helsinki;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::session::tokens_match;
use crate::domain::entry::Person;
use crate::domain::shelter::{
    Capacity, DeskReferral, NewStay, ReferralStatus, Statistics, Stay, StayPatch, TurnedAway,
};
use crate::domain::stream::StreamName;
use crate::error::{AppError, ErrorBody, Result};
use crate::events::NewEvent;
use crate::http::extract::{
    ApiJson, ApiPath, ApiQuery, CurrentSession, DeskSession, ShelterStaff, bearer_token, etag,
    if_match, optional_json,
};
use crate::shelter::Shelter;
use crate::shelter::link::{IssuedCode, StatusReport};
use crate::shelter::register::StayFilter;

/// Free places, for the desk and the shelter staff alike.
pub fn capacity_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(capacity))
}

/// The desk's window onto the shelter.
pub fn desk_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_referrals, create_referral))
        .routes(routes!(referral_status))
}

/// The register, for shelter staff, and the link for a desk elsewhere.
pub fn register_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stays, create_stay))
        .routes(routes!(get_stay, patch_stay))
        .routes(routes!(depart_stay))
        .routes(routes!(list_turned_away, record_turned_away))
        .routes(routes!(shelter_statistics))
        .routes(routes!(link_capacity))
        .routes(routes!(link_issue_referral))
        .routes(routes!(link_referral_status))
}

/// The register hosted here, or 404 when the shelter is hosted elsewhere.
fn local(state: &AppState) -> Result<&Arc<Shelter>> {
    state.shelter.as_ref().ok_or_else(|| {
        AppError::NotFound("the shelter's register is hosted on another server".into())
    })
}

/// Free family places and beds, for the desk and for the shelter staff.
#[utoipa::path(get, path = "/api/v1/shelter/capacity", tag = "shelter",
    responses(
        (status = 200, description = "Free places: numbers only", body = Capacity),
        (status = 403, description = "Not desk or shelter staff", body = ErrorBody),
    ))]
async fn capacity(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Json<Capacity>> {
    let role = session.user.role;
    if !(role.is_desk() || role == crate::domain::roles::Role::Shelter) {
        return Err(AppError::Forbidden(format!(
            "role {role} does not see the shelter's places"
        )));
    }
    Ok(Json(state.shelter_link.capacity().await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralRequest {
    /// The live-log entry the referral is made from (stays on the desk's side).
    pub entry_id: Option<Uuid>,
}

/// The desk stream's note of a referral's status (the code, the entry; nothing else).
pub fn referral_event(referral: &DeskReferral) -> NewEvent {
    NewEvent::new(
        StreamName::Desk,
        "shelter.referral",
        serde_json::json!({
            "code": referral.code,
            "status": referral.status,
            "entry_id": referral.entry_id,
            "status_at": referral.status_at,
        }),
    )
}

/// Issues a one-time code for a client going to the shelter. Say it on the phone; the
/// shelter staff enter it when the client arrives.
#[utoipa::path(post, path = "/api/v1/shelter/referrals", tag = "shelter",
    request_body(content = Option<ReferralRequest>),
    responses(
        (status = 201, description = "The code and until when it is valid", body = DeskReferral),
        (status = 403, description = "Not a desk role", body = ErrorBody),
        (status = 503, description = "The shelter does not answer", body = ErrorBody),
    ))]
async fn create_referral(
    State(state): State<AppState>,
    session: DeskSession,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<DeskReferral>)> {
    let request: ReferralRequest = optional_json(&body)?;
    if let Some(entry) = request.entry_id {
        state
            .store
            .get_entry(entry)
            .await?
            .ok_or_else(|| AppError::validation("entry_id", "no such entry"))?;
    }
    let now = state.clock.now();
    let issued = state.shelter_link.issue_referral(now).await?;
    let referral = DeskReferral {
        code: issued.code,
        entry_id: request.entry_id,
        issued_by: Person::from(&session.user),
        issued_at: now,
        expires_at: issued.expires_at,
        status: ReferralStatus::Issued,
        status_at: now,
    };
    state
        .store
        .insert_desk_referral(&referral, &[referral_event(&referral)])
        .await?;
    Ok((StatusCode::CREATED, Json(referral)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReferralsQuery {
    /// Only the referrals made from this entry.
    pub entry_id: Option<Uuid>,
}

/// The desk's referrals, newest first, with the last status the shelter reported.
#[utoipa::path(get, path = "/api/v1/shelter/referrals", tag = "shelter", params(ReferralsQuery),
    responses(
        (status = 200, description = "Referrals", body = Vec<DeskReferral>),
        (status = 403, description = "Not a desk role", body = ErrorBody),
    ))]
async fn list_referrals(
    State(state): State<AppState>,
    _session: DeskSession,
    ApiQuery(query): ApiQuery<ReferralsQuery>,
) -> Result<Json<Vec<DeskReferral>>> {
    Ok(Json(
        state
            .store
            .desk_referrals(query.entry_id, false, 200)
            .await?,
    ))
}

/// A referral's status: `issued`, `arrived` or `expired`. Nothing more crosses.
#[utoipa::path(get, path = "/api/v1/shelter/referrals/{code}", tag = "shelter",
    params(("code" = String, Path, description = "The eight digits")),
    responses(
        (status = 200, description = "The status", body = StatusReport),
        (status = 404, description = "No such referral", body = ErrorBody),
    ))]
async fn referral_status(
    State(state): State<AppState>,
    _session: DeskSession,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<StatusReport>> {
    let code = crate::domain::shelter::normalise_code(&code)
        .ok_or_else(|| AppError::NotFound("no such referral".into()))?;
    let status = state
        .shelter_link
        .referral_status(&code, state.clock.now())
        .await?;
    Ok(Json(StatusReport { status }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StaysQuery {
    /// `current` (default), `departed` or `all`.
    pub state: Option<String>,
}

/// Stays, newest arrival first, without notes or identity fields.
#[utoipa::path(get, path = "/api/v1/shelter/stays", tag = "shelter", params(StaysQuery),
    responses(
        (status = 200, description = "Stays", body = Vec<Stay>),
        (status = 403, description = "Not shelter staff", body = ErrorBody),
    ))]
async fn list_stays(
    State(state): State<AppState>,
    _staff: ShelterStaff,
    ApiQuery(query): ApiQuery<StaysQuery>,
) -> Result<Json<Vec<Stay>>> {
    let filter = match query.state.as_deref() {
        None | Some("") | Some("current") => StayFilter::Current,
        Some("departed") => StayFilter::Departed,
        Some("all") => StayFilter::All,
        Some(other) => {
            return Err(AppError::validation(
                "state",
                format!("unknown state {other:?}; expected current, departed or all"),
            ));
        }
    };
    Ok(Json(local(&state)?.stays(filter).await?))
}

/// Logs an arrival. With `referral_code`, the code must be issued and unexpired; any other
/// code gets the same 422 (`the code is not valid`), so nothing is learned by guessing.
#[utoipa::path(post, path = "/api/v1/shelter/stays", tag = "shelter", request_body = NewStay,
    responses(
        (status = 201, description = "The stay", body = Stay),
        (status = 403, description = "Not shelter staff", body = ErrorBody),
        (status = 422, description = "A field, or the referral code, is not valid", body = ErrorBody),
        (status = 429, description = "Too many code attempts", body = ErrorBody),
    ))]
async fn create_stay(
    State(state): State<AppState>,
    staff: ShelterStaff,
    ApiJson(request): ApiJson<NewStay>,
) -> Result<(StatusCode, Json<Stay>)> {
    let stay = local(&state)?
        .admit(request, staff.user.id, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(stay)))
}

/// One stay with its notes and identity fields (decrypted for shelter staff only).
#[utoipa::path(get, path = "/api/v1/shelter/stays/{id}", tag = "shelter",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The stay; `ETag` is its version", body = Stay),
        (status = 404, description = "No such stay", body = ErrorBody),
    ))]
async fn get_stay(
    State(state): State<AppState>,
    _staff: ShelterStaff,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(HeaderMap, Json<Stay>)> {
    let stay = local(&state)?.stay(id).await?;
    Ok((etag(stay.version), Json(stay)))
}

/// Changes a stay made on the version in `If-Match` (409 when it changed meanwhile).
#[utoipa::path(patch, path = "/api/v1/shelter/stays/{id}", tag = "shelter",
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The version edited")),
    request_body = StayPatch,
    responses(
        (status = 200, description = "Saved", body = Stay),
        (status = 409, description = "Changed meanwhile", body = ErrorBody),
        (status = 428, description = "If-Match missing", body = ErrorBody),
    ))]
async fn patch_stay(
    State(state): State<AppState>,
    _staff: ShelterStaff,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<StayPatch>,
) -> Result<(HeaderMap, Json<Stay>)> {
    let expected = if_match(&headers)?;
    let stay = local(&state)?
        .change(id, expected, patch, state.clock.now())
        .await?;
    Ok((etag(stay.version), Json(stay)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartRequest {
    /// Default now.
    pub at: Option<DateTime<Utc>>,
}

/// The stay has ended: the family place and beds are free again.
#[utoipa::path(post, path = "/api/v1/shelter/stays/{id}/depart", tag = "shelter",
    params(("id" = Uuid, Path)),
    request_body(content = Option<DepartRequest>),
    responses(
        (status = 200, description = "Ended", body = Stay),
        (status = 409, description = "Already ended", body = ErrorBody),
    ))]
async fn depart_stay(
    State(state): State<AppState>,
    _staff: ShelterStaff,
    ApiPath(id): ApiPath<Uuid>,
    body: axum::body::Bytes,
) -> Result<Json<Stay>> {
    let request: DepartRequest = optional_json(&body)?;
    let now = state.clock.now();
    Ok(Json(
        local(&state)?
            .depart(id, request.at.unwrap_or(now), now)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TurnedAwayRequest {
    /// Default today (Helsinki).
    pub date: Option<NaiveDate>,
    #[serde(default)]
    pub adults: i64,
    #[serde(default)]
    pub children: i64,
}

/// Records people turned away for lack of space (counts only, for THL).
#[utoipa::path(post, path = "/api/v1/shelter/turned-away", tag = "shelter",
    request_body = TurnedAwayRequest,
    responses(
        (status = 201, description = "Recorded", body = TurnedAway),
        (status = 422, description = "Bad counts or a future date", body = ErrorBody),
    ))]
async fn record_turned_away(
    State(state): State<AppState>,
    _staff: ShelterStaff,
    ApiJson(request): ApiJson<TurnedAwayRequest>,
) -> Result<(StatusCode, Json<TurnedAway>)> {
    let now = state.clock.now();
    let day = TurnedAway {
        date: request
            .date
            .unwrap_or_else(|| now.with_timezone(&Helsinki).date_naive()),
        adults: request.adults,
        children: request.children,
    };
    local(&state)?.record_turned_away(&day, now).await?;
    Ok((StatusCode::CREATED, Json(day)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// Default the current year (Helsinki).
    pub year: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatisticsQuery {
    /// Default the current year (Helsinki).
    pub year: Option<i32>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

fn year_of(state: &AppState, year: Option<i32>) -> i32 {
    year.unwrap_or_else(|| state.clock.now().with_timezone(&Helsinki).year())
}

/// The year's records of people turned away.
#[utoipa::path(get, path = "/api/v1/shelter/turned-away", tag = "shelter", params(YearQuery),
    responses((status = 200, description = "By day", body = Vec<TurnedAway>)))]
async fn list_turned_away(
    State(state): State<AppState>,
    _staff: ShelterStaff,
    ApiQuery(query): ApiQuery<YearQuery>,
) -> Result<Json<Vec<TurnedAway>>> {
    Ok(Json(
        local(&state)?
            .turned_away(year_of(&state, query.year))
            .await?,
    ))
}

/// THL's yearly statistics: aggregates only (JSON, or `format=csv`).
#[utoipa::path(get, path = "/api/v1/shelter/statistics", tag = "shelter", params(StatisticsQuery),
    responses(
        (status = 200, description = "The year's aggregates (JSON, or CSV with format=csv)",
            content((Statistics = "application/json"), (String = "text/csv"))),
        (status = 422, description = "Bad year or format", body = ErrorBody),
    ))]
async fn shelter_statistics(
    State(state): State<AppState>,
    _staff: ShelterStaff,
    ApiQuery(query): ApiQuery<StatisticsQuery>,
) -> Result<Response> {
    let year = year_of(&state, query.year);
    let stats = local(&state)?.statistics(year, state.clock.now()).await?;
    match query.format.as_deref() {
        None | Some("") | Some("json") => Ok(Json(stats).into_response()),
        Some("csv") => {
            let body = statistics_csv(&stats)?;
            let mut headers = HeaderMap::new();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            headers.insert(
                CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!(
                    "attachment; filename=\"turvakoti-tilasto-{year}.csv\""
                ))
                .expect("ASCII"),
            );
            Ok((headers, body).into_response())
        }
        Some(other) => Err(AppError::validation(
            "format",
            format!("unknown format {other:?}; expected json or csv"),
        )),
    }
}

/// One `measure,value` row per aggregate.
fn statistics_csv(stats: &Statistics) -> Result<String> {
    let csv_error = |e: csv::Error| AppError::Internal(format!("CSV: {e}"));
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["measure", "value"]).map_err(csv_error)?;
    let mut row = |measure: String, value: i64| out.write_record([measure, value.to_string()]);
    let c = &stats.clients;
    for (name, value) in [
        ("year", i64::from(stats.year)),
        ("stays", stats.stays),
        ("days_of_stay", stats.days_of_stay),
        ("clients_adults", c.adults),
        ("clients_children", c.children),
        ("clients_female", c.by_sex.female),
        ("clients_male", c.by_sex.male),
        ("clients_other", c.by_sex.other),
        ("clients_sex_unknown", c.by_sex.unknown),
        ("turned_away_adults", stats.turned_away.adults),
        ("turned_away_children", stats.turned_away.children),
    ] {
        row(name.into(), value).map_err(csv_error)?;
    }
    for (bucket, n) in &stats.stays_by_length {
        row(format!("stays_days_{bucket}"), *n).map_err(csv_error)?;
    }
    for (form, n) in &stats.violence {
        row(format!("violence_{form}"), *n).map_err(csv_error)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("CSV: {e}")))
}

/// The desk server elsewhere, proving itself with the shared link secret.
pub struct LinkCaller;

impl FromRequestParts<AppState> for LinkCaller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let (Some(secret), Some(_)) = (&state.settings.shelter.link_secret, &state.shelter) else {
            return Err(AppError::NotFound("no shelter link on this server".into()));
        };
        let given = bearer_token(&parts.headers).ok_or(AppError::Unauthorized)?;
        use secrecy::ExposeSecret;
        if tokens_match(given, secret.expose_secret()) {
            Ok(LinkCaller)
        } else {
            Err(AppError::Unauthorized)
        }
    }
}

/// Link: free places.
#[utoipa::path(get, path = "/api/v1/shelter-link/capacity", tag = "shelter",
    responses((status = 200, description = "Free places", body = Capacity),
        (status = 401, description = "Wrong link secret", body = ErrorBody)))]
async fn link_capacity(State(state): State<AppState>, _link: LinkCaller) -> Result<Json<Capacity>> {
    Ok(Json(local(&state)?.capacity().await?))
}

/// Link: a new one-time code.
#[utoipa::path(post, path = "/api/v1/shelter-link/referrals", tag = "shelter",
    responses((status = 201, description = "The code", body = IssuedCode),
        (status = 401, description = "Wrong link secret", body = ErrorBody)))]
async fn link_issue_referral(
    State(state): State<AppState>,
    _link: LinkCaller,
) -> Result<(StatusCode, Json<IssuedCode>)> {
    let (code, expires_at) = local(&state)?.issue_referral(state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(IssuedCode { code, expires_at })))
}

/// Link: a code's status.
#[utoipa::path(get, path = "/api/v1/shelter-link/referrals/{code}", tag = "shelter",
    params(("code" = String, Path)),
    responses((status = 200, description = "The status", body = StatusReport),
        (status = 404, description = "Unknown code", body = ErrorBody)))]
async fn link_referral_status(
    State(state): State<AppState>,
    _link: LinkCaller,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<StatusReport>> {
    let status = local(&state)?
        .referral_status(&code, state.clock.now())
        .await?
        .ok_or_else(|| AppError::NotFound("no such referral".into()))?;
    Ok(Json(StatusReport { status }))
}
