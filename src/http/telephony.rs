//! Telephony: the phone system's signed webhook, and the desk's view of calls (the live
//! ones, one call with the caller's earlier contacts, recording a number with consent, and
//! the statistics).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Helsinki;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::access;
use crate::domain::call::{self, CallEvent, CallStatistics};
use crate::domain::entry::{self, Change, EntrySummary};
use crate::domain::stream::StreamName;
use crate::error::{AppError, ErrorBody, Result};
use crate::http::extract::{ApiPath, ApiQuery, DeskSession, stream_head_header};
use crate::store::{AccessAction, AccessResult, Updated};
use crate::telephony::{self, SIGNATURE_HEADER};

/// A phone system's event is a few hundred bytes.
const WEBHOOK_BODY_LIMIT: usize = 8 * 1024;
/// Live calls older than this are not shown (a lost `ended` must not ring forever).
const LIVE_HOURS: i64 = 12;
/// The longest statistics period, in days.
const MAX_PERIOD_DAYS: i64 = 366;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(call_event))
        .routes(routes!(live_calls))
        .routes(routes!(call_statistics))
        .routes(routes!(get_call))
        .routes(routes!(record_number))
        .layer(axum::extract::DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT))
}

/// A call as the consoles see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    #[schema(value_type = Object)]
    pub call: serde_json::Value,
}

/// A call event from the phone system (Asterisk, a contact centre), signed with
/// `X-Paivystys-Signature: sha256=<hex HMAC-SHA256 of the body>` under the telephony
/// secret. Events may come in any order; an event of a call already received, or one whose
/// time is far from this server's clock, is refused and changes nothing.
#[utoipa::path(post, path = "/api/v1/telephony/events", tag = "telephony",
    request_body = CallEvent,
    params(("X-Paivystys-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of the body>")),
    responses(
        (status = 200, description = "Applied; the call as it now is", body = CallView),
        (status = 400, description = "Not a call event", body = ErrorBody),
        (status = 401, description = "Unsigned, forged or stale", body = ErrorBody),
        (status = 404, description = "Telephony is not configured", body = ErrorBody),
        (status = 409, description = "This event of the call was already received", body = ErrorBody),
    ))]
async fn call_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CallView>> {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let call = telephony::receive(&state, &body, signature).await?;
    Ok(Json(CallView {
        call: call.view(state.clock.now()),
    }))
}

/// Calls ringing or in progress now, oldest first; `X-Stream-Head` is the desk stream's
/// head to follow from.
#[utoipa::path(get, path = "/api/v1/calls", tag = "telephony",
    responses((status = 200, description = "Live calls", body = Vec<CallView>)))]
async fn live_calls(
    State(state): State<AppState>,
    _session: DeskSession,
) -> Result<(HeaderMap, Json<Vec<CallView>>)> {
    let headers = stream_head_header(&state, &StreamName::Desk).await?;
    let now = state.clock.now();
    let calls = state
        .store
        .live_calls(now - Duration::hours(LIVE_HOURS))
        .await?;
    Ok((
        headers,
        Json(
            calls
                .iter()
                .map(|c| CallView { call: c.view(now) })
                .collect(),
        ),
    ))
}

/// One call, and for a repeat caller the entries of their earlier calls (newest first),
/// so the worker who answers knows what happened before.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallWithHistory {
    #[schema(value_type = Object)]
    pub call: serde_json::Value,
    pub earlier_entries: Vec<EntrySummary>,
    /// Whether the caller's number can still be recorded in the entry (with consent).
    pub number_available: bool,
}

#[utoipa::path(get, path = "/api/v1/calls/{id}", tag = "telephony",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The call and the caller's earlier entries", body = CallWithHistory),
        (status = 404, description = "No such call", body = ErrorBody),
    ))]
async fn get_call(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<CallWithHistory>> {
    let now = state.clock.now();
    let found = load(&state, id).await?;
    let mut earlier_entries = Vec::new();
    if let Some(hash) = &found.caller_hash {
        let since = now - Duration::days(i64::from(state.settings.telephony.repeat_days));
        for earlier in state.store.calls_of_caller(hash, since).await? {
            if earlier.id == found.id {
                continue;
            }
            if let Some(entry_id) = earlier.entry_id {
                if let Some(e) = state.store.get_entry(entry_id).await? {
                    if e.subject.is_identified() {
                        access::record_for(
                            &state,
                            &session.user,
                            AccessAction::Read,
                            "entry",
                            &entry_id.to_string(),
                            AccessResult::Allowed,
                            Some("the caller's earlier calls".into()),
                        )
                        .await?;
                    }
                    earlier_entries.push(e.summary());
                }
            }
        }
    }
    Ok(Json(CallWithHistory {
        call: found.view(now),
        earlier_entries,
        number_available: state.numbers.get(found.id, now).is_some(),
    }))
}

async fn load(state: &AppState, id: Uuid) -> Result<call::Call> {
    state
        .store
        .get_call(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no call {id}")))
}

/// Records the caller's number in the call's entry, when the client agrees: from then on
/// it is client data (an identified detail, access-logged). Possible only while the call
/// lasts and shortly after; the number is never stored otherwise.
#[utoipa::path(post, path = "/api/v1/calls/{id}/record-number", tag = "telephony",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "Written into the entry's notes", body = entry::Entry),
        (status = 404, description = "No such call, or no entry yet", body = ErrorBody),
        (status = 410, description = "The number is no longer held", body = ErrorBody),
    ))]
async fn record_number(
    State(state): State<AppState>,
    session: DeskSession,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<entry::Entry>> {
    let now = state.clock.now();
    let found = load(&state, id).await?;
    let entry_id = found
        .entry_id
        .ok_or_else(|| AppError::NotFound("the call has no entry yet; answer it first".into()))?;
    let number = state.numbers.get(found.id, now).ok_or_else(|| {
        AppError::Gone("the number is no longer held; ask the client for it".into())
    })?;
    let line = format!(
        "Soittajan numero (asiakkaan luvalla) / Uppringarens nummer (med klientens samtycke): {number}"
    );
    for _ in 0..5 {
        let current = state
            .store
            .get_entry(entry_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no entry {entry_id}")))?;
        if current.notes.contains(&line) {
            return Ok(Json(current));
        }
        let mut next = current.clone();
        next.notes = if next.notes.trim().is_empty() {
            line.clone()
        } else {
            format!("{}\n{line}", next.notes.trim_end())
        };
        next.version += 1;
        next.updated_at = now;
        let by = entry::Person::from(&session.user);
        let events = [entry::desk_event(&next, Change::Edited)];
        if let Updated::Saved = state
            .store
            .update_entry(&next, Change::Edited, &by, &events)
            .await?
        {
            access::record(
                &state,
                &session.user,
                AccessAction::Write,
                "entry",
                &entry_id.to_string(),
                AccessResult::Allowed,
            )
            .await?;
            return Ok(Json(next));
        }
    }
    Err(AppError::Conflict(
        "the entry kept changing; try again".into(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day (Helsinki), `YYYY-MM-DD`; default 7 days ago.
    pub from: Option<NaiveDate>,
    /// Last day included (Helsinki); default today.
    pub to: Option<NaiveDate>,
}

fn helsinki_midnight(day: NaiveDate) -> Result<DateTime<Utc>> {
    Helsinki
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::validation("from", "not a day in Helsinki time"))
}

/// Calls offered, answered, abandoned and missed, and the wait before an answer, in all
/// and by hour of the day (Helsinki), for a period of days.
#[utoipa::path(get, path = "/api/v1/calls/statistics", tag = "telephony", params(PeriodQuery),
    responses(
        (status = 200, description = "Call statistics", body = CallStatistics),
        (status = 400, description = "Not a valid period", body = ErrorBody),
    ))]
async fn call_statistics(
    State(state): State<AppState>,
    _session: DeskSession,
    ApiQuery(query): ApiQuery<PeriodQuery>,
) -> Result<Json<CallStatistics>> {
    let now = state.clock.now();
    let today = now.with_timezone(&Helsinki).date_naive();
    let to = query.to.unwrap_or(today);
    let from = query.from.unwrap_or(to - Duration::days(6));
    if from > to || (to - from).num_days() >= MAX_PERIOD_DAYS {
        return Err(AppError::BadRequest(format!(
            "from must not be after to, and the period at most {MAX_PERIOD_DAYS} days"
        )));
    }
    let calls = state
        .store
        .calls_between(
            helsinki_midnight(from)?,
            helsinki_midnight(to + Duration::days(1))?,
        )
        .await?;
    Ok(Json(call::statistics(&calls, now)))
}
