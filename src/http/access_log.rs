//! The access log for supervisors and administrators: who read or changed one entry, and
//! a client's report of who processed their data in a period (Act 703/2023 § 11). Reading
//! the log is itself logged.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::access;
use crate::domain::account::User;
use crate::domain::entry::{Entry, Subject};
use crate::domain::roles::Role;
use crate::error::{AppError, ErrorBody, Result};
use crate::http::extract::{ApiQuery, CurrentSession};
use crate::store::{AccessAction, AccessRecord, AccessResult, HandoverFilter};

/// Entries searched for a client's report: a county's named entries of many years.
const MAX_SCANNED: i64 = 100_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(entry_log))
        .routes(routes!(subject_report))
}

fn require_auditor(user: &User) -> Result<()> {
    if matches!(user.role, Role::Supervisor | Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only supervisors and administrators read the access log".into(),
        ))
    }
}

/// The record ids an entry's accesses are logged under: the entry itself (also its report
/// and history), its handovers, and its chat.
async fn ids_of(state: &AppState, entry: &Entry) -> Result<Vec<String>> {
    let mut ids = vec![entry.id.to_string()];
    let handovers = state
        .store
        .list_handovers(&HandoverFilter {
            entry: Some(entry.id),
            limit: 1_000,
            ..HandoverFilter::default()
        })
        .await?;
    ids.extend(handovers.iter().map(|h| h.id.to_string()));
    ids.extend(entry.chat.map(|c| c.to_string()));
    Ok(ids)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntryLogQuery {
    pub entry: Uuid,
}

/// Who read, changed, exported or disclosed one entry (with its handovers, report and
/// chat), when, why, and whether it was allowed; oldest first.
#[utoipa::path(get, path = "/api/v1/access-log", tag = "access", params(EntryLogQuery),
    responses(
        (status = 200, description = "The entry's access log", body = Vec<AccessRecord>),
        (status = 403, description = "Neither a supervisor nor an administrator", body = ErrorBody),
        (status = 404, description = "No such entry", body = ErrorBody),
    ))]
async fn entry_log(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiQuery(query): ApiQuery<EntryLogQuery>,
) -> Result<Json<Vec<AccessRecord>>> {
    require_auditor(&session.user)?;
    let entry = state
        .store
        .get_entry(query.entry)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no entry {}", query.entry)))?;
    let rows = state
        .store
        .access_log_of(&ids_of(&state, &entry).await?, None, None)
        .await?;
    access::record(
        &state,
        &session.user,
        AccessAction::Read,
        "access_log",
        &entry.id.to_string(),
        AccessResult::Allowed,
    )
    .await?;
    Ok(Json(rows))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubjectQuery {
    /// The client's name as written in the entries (case and spacing ignored).
    pub name: String,
    /// Narrows to the client born on this day.
    pub birth_date: Option<NaiveDate>,
    /// First day of the period (default two years before `to`; the client's right of
    /// access to the log reaches two years back, and an earlier start gets a warning).
    pub from: Option<NaiveDate>,
    /// Last day of the period, included (default today).
    pub to: Option<NaiveDate>,
}

/// What a client asked to know: the entries about them and every access in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Set when the period reaches further back than the client's right of access.
    pub warning: Option<String>,
    pub entries: Vec<Uuid>,
    pub accesses: Vec<AccessRecord>,
}

fn same_name(a: &str, b: &str) -> bool {
    let words = |s: &str| {
        s.split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    words(a) == words(b)
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// A client's access-log report for a period: every read, change, export and disclosure
/// of the entries about them (found by name, and birth date when given). The report is an
/// export of the log and is itself logged.
#[utoipa::path(get, path = "/api/v1/access-log/subject", tag = "access", params(SubjectQuery),
    responses(
        (status = 200, description = "The report", body = SubjectReport),
        (status = 400, description = "Not a valid period", body = ErrorBody),
        (status = 403, description = "Neither a supervisor nor an administrator", body = ErrorBody),
    ))]
async fn subject_report(
    State(state): State<AppState>,
    session: CurrentSession,
    ApiQuery(query): ApiQuery<SubjectQuery>,
) -> Result<Json<SubjectReport>> {
    require_auditor(&session.user)?;
    let name = query.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::validation("name", "1–200 characters"));
    }
    let today = state.clock.now().date_naive();
    let to = query.to.unwrap_or(today);
    let two_years_before = |day: NaiveDate| {
        day.checked_sub_months(Months::new(24))
            .unwrap_or(day - Duration::days(731))
    };
    let from = query.from.unwrap_or(two_years_before(to));
    if from > to {
        return Err(AppError::BadRequest("from must not be after to".into()));
    }
    let warning = (from < two_years_before(today)).then(|| {
        "the period begins more than two years ago: the client's right of access covers two \
         years, and rows older than the log's retention may be gone"
            .to_owned()
    });
    let mut entries = Vec::new();
    let mut ids = Vec::new();
    for entry in state.store.identified_entries(MAX_SCANNED).await? {
        let Subject::Identified(person) = &entry.subject else {
            continue;
        };
        if !same_name(&person.name, name)
            || query
                .birth_date
                .is_some_and(|born| person.birth_date != Some(born))
        {
            continue;
        }
        entries.push(entry.id);
        ids.extend(ids_of(&state, &entry).await?);
    }
    let accesses = state
        .store
        .access_log_of(
            &ids,
            Some(day_start(from)),
            Some(day_start(to + Duration::days(1))),
        )
        .await?;
    for id in &entries {
        access::record_for(
            &state,
            &session.user,
            AccessAction::Export,
            "access_log",
            &id.to_string(),
            AccessResult::Allowed,
            Some("the client's access-log report".into()),
        )
        .await?;
    }
    Ok(Json(SubjectReport {
        from,
        to,
        warning,
        entries,
        accesses,
    }))
}
