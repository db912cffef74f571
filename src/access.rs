//! Recording reads and writes of client data in the access log (Act 703/2023 § 11), and
//! the rule that reading a named client's entry outside one's own work needs a stated
//! reason, which is logged and shown to the supervisors.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::domain::account::User;
use crate::domain::entry::Entry;
use crate::domain::roles::Role;
use crate::domain::stream::StreamName;
use crate::error::{AppError, Result};
use crate::events::NewEvent;
use crate::store::{AccessAction, AccessRecord, AccessResult};

/// Shortest and longest reason for reading outside one's own work.
const REASON_CHARS: std::ops::RangeInclusive<usize> = 10..=500;

/// Records that `user` did `action` to a record, allowed or refused.
pub async fn record(
    state: &AppState,
    user: &User,
    action: AccessAction,
    record_type: &str,
    record_id: &str,
    result: AccessResult,
) -> Result<()> {
    record_for(state, user, action, record_type, record_id, result, None).await
}

/// Like `record`, with the purpose the user stated.
pub async fn record_for(
    state: &AppState,
    user: &User,
    action: AccessAction,
    record_type: &str,
    record_id: &str,
    result: AccessResult,
    purpose: Option<String>,
) -> Result<()> {
    state
        .store
        .record_access(&AccessRecord {
            at: state.clock.now(),
            user_id: Some(user.id),
            username: user.username.clone(),
            role: user.role.to_string(),
            action,
            record_type: record_type.to_owned(),
            record_id: record_id.to_owned(),
            purpose,
            result,
        })
        .await
}

/// `?reason=…`: why an entry outside one's own work is opened.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReasonQuery {
    /// Needed to open a named client's entry outside one's own work (10–500 characters):
    /// logged, and shown to the supervisors.
    pub reason: Option<String>,
}

/// Whether `entry` is part of an on-call worker's own work: they logged it or hold it, or
/// it was touched within the last shift. Supervisors supervise: everything is theirs.
pub fn own_work(user: &User, entry: &Entry, now: DateTime<Utc>, shift: Duration) -> bool {
    user.role != Role::Oncall
        || entry.created_by.id == user.id
        || entry.claimed_by.as_ref().is_some_and(|p| p.id == user.id)
        || entry.updated_at > now - shift
}

/// Whether a read outside one's own work is announced to the supervisors: once per
/// opening (the entry), not again for the history the console loads beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Supervisors,
    LogOnly,
}

/// Logs a read of `entry` by `user`. A named client's entry outside the user's own work is
/// refused without a reason; with one, the reason goes into the log and to the supervisors.
pub async fn read_entry(
    state: &AppState,
    user: &User,
    entry: &Entry,
    reason: Option<&str>,
    flag: Flag,
) -> Result<()> {
    if !entry.subject.is_identified() {
        return Ok(());
    }
    let now = state.clock.now();
    let shift = Duration::hours(i64::from(state.settings.audit.shift_hours));
    if own_work(user, entry, now, shift) {
        return record(
            state,
            user,
            AccessAction::Read,
            "entry",
            &entry.id.to_string(),
            AccessResult::Allowed,
        )
        .await;
    }
    let reason = reason.map(str::trim).unwrap_or_default();
    if !REASON_CHARS.contains(&reason.chars().count()) {
        record(
            state,
            user,
            AccessAction::Read,
            "entry",
            &entry.id.to_string(),
            AccessResult::Refused,
        )
        .await?;
        return Err(AppError::ReasonRequired(format!(
            "this named client's entry is outside your own work; give the reason for opening \
             it ({}–{} characters)",
            REASON_CHARS.start(),
            REASON_CHARS.end()
        )));
    }
    let purpose = format!("outside own work: {reason}");
    record_for(
        state,
        user,
        AccessAction::Read,
        "entry",
        &entry.id.to_string(),
        AccessResult::Allowed,
        Some(purpose),
    )
    .await?;
    if flag == Flag::LogOnly {
        return Ok(());
    }
    let flag = NewEvent::new(
        StreamName::Supervision,
        "access.outside_work",
        serde_json::json!({
            "user": {"id": user.id, "username": user.username, "name": user.display_name},
            "entry_id": entry.id,
            "reason": reason,
            "at": now,
        }),
    );
    state.store.append_events(&[flag], now).await?;
    Ok(())
}
