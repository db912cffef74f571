//! Receiving online reports and the information their senders add later: decide with the
//! domain, store the report with its entry, handover and events in one transaction.

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Helsinki;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth::session::{token_hash, tokens_match};
use crate::domain::chat::Language;
use crate::domain::report::{self, Addition, MAX_ADDITION, NewReport, Report, ReportKind, Routing};
use crate::error::{AppError, Result};
use crate::store::{AdditionWrite, ReportWrite};

/// What the reporter gets back, once: the reference, the secret, and by when.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    pub reference: String,
    /// Shown only now; with the reference it lets the reporter add information later.
    pub secret: String,
    pub kind: ReportKind,
    pub urgent: bool,
    pub received_at: DateTime<Utc>,
    /// By when the team will have it in hand.
    pub due_at: DateTime<Utc>,
    pub team: String,
    /// The team's name in the report's language.
    pub team_name: String,
}

/// How often a freshly drawn reference may collide before giving up (40 bits: never).
const REFERENCE_ATTEMPTS: usize = 5;

/// Receives a report from `source` (a keyed hash, for the rate limit). A report refused
/// for its content does not count against the sender's allowance: a person correcting a
/// form must not be locked out by their own mistakes. `true` with a new report, `false`
/// for a retry of an earlier one.
pub async fn submit(state: &AppState, request: NewReport, source: u64) -> Result<(bool, Receipt)> {
    let now = state.clock.now();
    let valid = request.validated(now.with_timezone(&Helsinki).date_naive())?;
    state.limits.check_report(source)?;
    let team_key = state.settings.reports.team_for(valid.kind);
    let Some(team) = state.store.get_team(&team_key).await? else {
        // A configuration mistake must not look like the reporter's fault.
        tracing::error!(team = %team_key, kind = valid.kind.as_str(), "reports route to a team that does not exist");
        return Err(AppError::Internal(format!("no team {team_key}")));
    };
    let hours = state.office_hours(&team_key);
    let routing = Routing {
        team: &team_key,
        calendar: &state.calendar,
        hours: &hours,
    };
    let author = state.store.system_account("web-form").await?;
    let language = valid.language.unwrap_or(Language::Fi);
    let secret = report::new_secret();
    let client_hash = valid.client_id.map(|id| token_hash(&id.to_string()));
    let team_name = match language {
        Language::Fi => team.name_fi,
        Language::Sv => team.name_sv,
        Language::En => team.name_en,
    };
    let receipt = |report: Report, due_at| Receipt {
        reference: report.reference,
        secret: secret.clone(),
        kind: report.kind,
        urgent: report.urgent,
        received_at: report.received_at,
        due_at,
        team: report.team,
        team_name: team_name.clone(),
    };
    for _ in 0..REFERENCE_ATTEMPTS {
        let received = report::receive(
            valid.clone(),
            report::new_reference(),
            author.clone(),
            &routing,
            now,
        );
        let events = report::received_events(&received);
        match state
            .store
            .insert_report(
                &received,
                &token_hash(&secret),
                client_hash.as_deref(),
                &events,
            )
            .await?
        {
            ReportWrite::Created => {
                state.metrics.reports_received.inc();
                return Ok((true, receipt(received.report, received.handover.due_at)));
            }
            ReportWrite::Retried(earlier) => {
                let due_at = state
                    .store
                    .get_handover(earlier.handover_id)
                    .await?
                    .map_or(received.handover.due_at, |h| h.due_at);
                return Ok((false, receipt(*earlier, due_at)));
            }
            ReportWrite::ReferenceTaken => continue,
        }
    }
    Err(AppError::Internal("no free report reference".into()))
}

/// `POST /api/v1/public/reports/{reference}/additions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdditionRequest {
    /// The secret shown with the receipt.
    pub secret: String,
    pub text: String,
    /// Client-generated: a retry with the same id adds nothing.
    pub client_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdditionReceipt {
    pub reference: String,
    pub added_at: DateTime<Utc>,
    /// How many additions the report has now.
    pub additions: i64,
}

/// One answer for an unknown reference and a wrong secret: neither tells a guesser which.
fn wrong_code() -> AppError {
    AppError::Forbidden("the reference or the secret is wrong".into())
}

/// Adds information; `true` when it was new (not a retry).
pub async fn add(
    state: &AppState,
    reference: &str,
    request: AdditionRequest,
) -> Result<(bool, AdditionReceipt)> {
    let reference = report::normalise_reference(reference).ok_or_else(wrong_code)?;
    let secret = report::normalise_secret(&request.secret).ok_or_else(wrong_code)?;
    let (report, secret_hash) = state
        .store
        .report_by_reference(&reference)
        .await?
        .ok_or_else(wrong_code)?;
    if !tokens_match(&token_hash(&secret), &secret_hash) {
        return Err(wrong_code());
    }
    let text = report::required_text("text", &request.text, MAX_ADDITION)?;
    let addition = Addition {
        at: state.clock.now(),
        text,
    };
    let client_id = request.client_id.unwrap_or_else(Uuid::new_v4);
    let (created, additions, added_at) = match state
        .store
        .insert_addition(&report, client_id, &addition)
        .await?
    {
        AdditionWrite::Created(n) => (true, n, addition.at),
        AdditionWrite::Existing(n, at) => (false, n, at),
        AdditionWrite::Full => {
            return Err(AppError::Conflict(
                "this report takes no more additions; please call the on-call number".into(),
            ));
        }
    };
    Ok((
        created,
        AdditionReceipt {
            reference,
            added_at,
            additions,
        },
    ))
}

/// The report an entry came from, with what was added later, for the staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportWithAdditions {
    #[serde(flatten)]
    pub report: Report,
    pub additions: Vec<Addition>,
}

pub async fn for_entry(state: &AppState, entry: Uuid) -> Result<ReportWithAdditions> {
    let report =
        state.store.report_for_entry(entry).await?.ok_or_else(|| {
            AppError::NotFound(format!("entry {entry} did not come from a report"))
        })?;
    let additions = state.store.report_additions(&report.reference).await?;
    Ok(ReportWithAdditions { report, additions })
}
