//! The retention job: each kind of record is purged when its period comes round, and every
//! run is written to `retention_runs` (start, cutoff, end, how many) before and after it
//! works. The job keeps no state of its own: after a restart it reads the last finished run
//! of each kind, so a purge missed while the server was down runs at its first look, and a
//! run cut short (no end written) is simply done again. Every purge is idempotent (the
//! rows carry their own purge marks), so two instances looking at once do no harm.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use crate::AppState;
use crate::config::RetentionSettings;
use crate::domain::retention::{self, RecordType};
use crate::error::Result;

/// Entries purged per store call: each is its own short transaction, and the SQLite file
/// is scrubbed once per batch.
const ENTRY_BATCH: i64 = 200;

/// One purge that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub record_type: RecordType,
    /// Records older than this were purged.
    pub cutoff: DateTime<Utc>,
    pub purged: i64,
}

/// Looks every `retention.check_minutes`, the first time at once.
pub(super) async fn watch_retention(state: AppState) {
    let every = StdDuration::from_secs(u64::from(state.settings.retention.check_minutes) * 60);
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tick.tick() => {
                if let Err(err) = run_retention(&state).await {
                    tracing::warn!(error = %err, "retention purge failed");
                }
            }
        }
    }
}

/// Runs every purge that is due by the app clock; returns those that ran.
pub async fn run_retention(state: &AppState) -> Result<Vec<Purged>> {
    let mut ran = Vec::new();
    for &record_type in RecordType::ALL {
        if let Some(purged) = purge_if_due(state, record_type).await? {
            ran.push(purged);
        }
    }
    Ok(ran)
}

/// How often a kind is purged, and how long its records keep what the purge takes.
fn period(settings: &RetentionSettings, record_type: RecordType) -> (Duration, Duration) {
    match record_type {
        RecordType::AnonymousEntryText => (
            Duration::hours(i64::from(settings.anonymous_entry_text_every_hours)),
            Duration::days(i64::from(settings.anonymous_entry_text_days)),
        ),
        // Nothing of an expired session is worth keeping: it goes at the next run.
        RecordType::Sessions => (
            Duration::minutes(i64::from(settings.sessions_every_minutes)),
            Duration::zero(),
        ),
    }
}

async fn purge_if_due(state: &AppState, record_type: RecordType) -> Result<Option<Purged>> {
    let now = state.clock.now();
    let (every, keep) = period(&state.settings.retention, record_type);
    let last = state.store.last_finished_purge_run(record_type).await?;
    if !retention::is_due(last.map(|run| run.started_at), every, now) {
        return Ok(None);
    }
    let cutoff = now - keep;
    let run = state
        .store
        .start_purge_run(record_type, now, cutoff)
        .await?;
    let purged = match record_type {
        RecordType::AnonymousEntryText => purge_entry_text(state, cutoff, now).await?,
        RecordType::Sessions => {
            i64::try_from(state.store.delete_expired_sessions(cutoff).await?).unwrap_or(i64::MAX)
        }
    };
    state
        .store
        .finish_purge_run(run, state.clock.now(), purged)
        .await?;
    if purged > 0 {
        tracing::info!(record_type = record_type.as_str(), purged, %cutoff, "retention purge");
    }
    Ok(Some(Purged {
        record_type,
        cutoff,
        purged,
    }))
}

/// Purges batch after batch until a batch comes back short (nothing more is due).
async fn purge_entry_text(
    state: &AppState,
    cutoff: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<i64> {
    let mut total = 0;
    loop {
        let purged = state
            .store
            .purge_anonymous_entry_text(cutoff, at, ENTRY_BATCH)
            .await?;
        total += purged;
        if purged < ENTRY_BATCH {
            return Ok(total);
        }
    }
}
