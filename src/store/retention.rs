//! Retention persistence: the purge-run log and the purge of closed anonymous entries' free
//! text. A supertrait of `Store`, like the chats; its SQL serves both backends.
//!
//! The purge rewrites rows in place and never deletes one: the entry, each kept revision and
//! each desk event keep their numbers and times, and only lose their words. The migration
//! (0010) lets exactly this through the append-only triggers: once per row, only while the
//! entry is closed, anonymous and purged in the same transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::retention::RecordType;
use crate::error::{AppError, Result};

/// One run of a purge, as the run log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeRun {
    pub id: i64,
    pub record_type: RecordType,
    pub started_at: DateTime<Utc>,
    /// Records older than this were purged.
    pub cutoff: DateTime<Utc>,
    /// `None` while running, or when the run never finished (the next look redoes it).
    pub finished_at: Option<DateTime<Utc>>,
    /// How many records the run purged; `None` until it finished.
    pub purged: Option<i64>,
}

#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Notes the start of a run; returns its id for `finish_purge_run`.
    async fn start_purge_run(
        &self,
        record_type: RecordType,
        started_at: DateTime<Utc>,
        cutoff: DateTime<Utc>,
    ) -> Result<i64>;
    async fn finish_purge_run(
        &self,
        id: i64,
        finished_at: DateTime<Utc>,
        purged: i64,
    ) -> Result<()>;
    /// The latest finished run of a record type.
    async fn last_finished_purge_run(&self, record_type: RecordType) -> Result<Option<PurgeRun>>;
    /// Every run of a record type, newest first.
    async fn purge_runs(&self, record_type: RecordType, limit: i64) -> Result<Vec<PurgeRun>>;
    /// Removes the free text of up to `limit` closed entries about anonymous clients last
    /// changed before `cutoff`, oldest first: from each entry, its kept revisions and its
    /// desk events, one transaction per entry. Returns how many were purged (fewer than
    /// `limit`: no more are due). An entry edited meanwhile is left for a later run.
    async fn purge_anonymous_entry_text(
        &self,
        cutoff: DateTime<Utc>,
        at: DateTime<Utc>,
        limit: i64,
    ) -> Result<i64>;
}

#[derive(sqlx::FromRow)]
pub(super) struct PurgeRunRow {
    id: i64,
    record_type: String,
    started_at: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    purged: Option<i64>,
}

impl TryFrom<PurgeRunRow> for PurgeRun {
    type Error = AppError;

    fn try_from(row: PurgeRunRow) -> Result<PurgeRun> {
        Ok(PurgeRun {
            id: row.id,
            record_type: RecordType::parse_field(&row.record_type, "record_type").map_err(
                |_| AppError::Internal(format!("stored record type {:?}", row.record_type)),
            )?,
            started_at: row.started_at,
            cutoff: row.cutoff,
            finished_at: row.finished_at,
            purged: row.purged,
        })
    }
}

pub(super) const RUN_SELECT: &str =
    "SELECT id, record_type, started_at, cutoff, finished_at, purged FROM retention_runs";

/// The candidates' condition; `$1` is the cutoff. `identified = FALSE AND status =
/// 'closed'` is written as the partial index `entries_anonymous_closed` has it.
pub(super) const PURGEABLE: &str = "status = 'closed' AND identified = FALSE \
     AND updated_at < $1 \
     AND (text_purged_version IS NULL OR text_purged_version < version)";

macro_rules! impl_retention_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Takes the words out of every kept revision of entry `id` not purged yet
            /// (a named person's version, if the subject was ever named, stays as it was).
            async fn purge_revisions_in_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                id: uuid::Uuid,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<()> {
                let revisions: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT version, body FROM entry_revisions \
                     WHERE entry_id = $1 AND purged_at IS NULL",
                )
                .bind(id)
                .fetch_all(&mut **tx)
                .await?;
                for (version, body) in revisions {
                    let kept: $crate::domain::entry::Entry = serde_json::from_str(&body)?;
                    let Some(purged) = $crate::domain::retention::purge_entry(&kept) else {
                        continue;
                    };
                    sqlx::query(
                        "UPDATE entry_revisions SET body = $3, purged_at = $4 \
                         WHERE entry_id = $1 AND version = $2",
                    )
                    .bind(id)
                    .bind(version)
                    .bind(serde_json::to_string(&purged)?)
                    .bind(at)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            /// Takes the summary and alias out of the entry's desk events. They were written
            /// at the times of its versions, so only its lifetime is searched.
            async fn purge_desk_events_in_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                entry: &$crate::domain::entry::Entry,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<()> {
                let desk = $crate::domain::stream::StreamName::Desk.to_string();
                let events: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT seq, data FROM events WHERE stream = $1 AND at >= $2 AND at <= $3 \
                     AND kind LIKE 'entry.%' AND purged_at IS NULL",
                )
                .bind(&desk)
                .bind(entry.created_at)
                .bind(entry.updated_at)
                .fetch_all(&mut **tx)
                .await?;
                for (seq, data) in events {
                    let mut data: serde_json::Value = serde_json::from_str(&data)?;
                    if !$crate::domain::retention::purge_entry_event(&mut data, entry.id) {
                        continue;
                    }
                    sqlx::query(
                        "UPDATE events SET data = $3, purged_at = $4 WHERE stream = $1 AND seq = $2",
                    )
                    .bind(&desk)
                    .bind(seq)
                    .bind(data.to_string())
                    .bind(at)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(())
            }

            /// Purges one entry if it still qualifies; false when it no longer does.
            async fn purge_entry_text(
                &self,
                id: uuid::Uuid,
                cutoff: chrono::DateTime<chrono::Utc>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<bool> {
                let mut tx = self.writer().begin().await?;
                let body: Option<String> = sqlx::query_scalar(&format!(
                    "SELECT body FROM entries WHERE {} AND id = $2",
                    $crate::store::retention::PURGEABLE
                ))
                .bind(cutoff)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(body) = body else {
                    tx.rollback().await?;
                    return Ok(false);
                };
                let entry: $crate::domain::entry::Entry = serde_json::from_str(&body)?;
                let Some(purged) = $crate::domain::retention::purge_entry(&entry) else {
                    tx.rollback().await?;
                    return Ok(false);
                };
                // Compare-and-swap on the version: an edit that got in first wins, and the
                // entry waits for its own period again.
                let saved = sqlx::query(
                    "UPDATE entries SET body = $3, search_text = $4, text_purged_version = $2, \
                     text_purged_at = $5 WHERE id = $1 AND version = $2",
                )
                .bind(id)
                .bind(entry.version)
                .bind(serde_json::to_string(&purged)?)
                .bind(purged.search_text())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if saved.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                Self::purge_revisions_in_tx(&mut tx, id, at).await?;
                Self::purge_desk_events_in_tx(&mut tx, &entry, at).await?;
                tx.commit().await?;
                Ok(true)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::RetentionStore for $store {
            async fn start_purge_run(
                &self,
                record_type: $crate::domain::retention::RecordType,
                started_at: chrono::DateTime<chrono::Utc>,
                cutoff: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<i64> {
                Ok(sqlx::query_scalar(
                    "INSERT INTO retention_runs (record_type, started_at, cutoff) \
                     VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(record_type.as_str())
                .bind(started_at)
                .bind(cutoff)
                .fetch_one(self.writer())
                .await?)
            }

            async fn finish_purge_run(
                &self,
                id: i64,
                finished_at: chrono::DateTime<chrono::Utc>,
                purged: i64,
            ) -> $crate::error::Result<()> {
                sqlx::query(
                    "UPDATE retention_runs SET finished_at = $2, purged = $3 WHERE id = $1",
                )
                .bind(id)
                .bind(finished_at)
                .bind(purged)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn last_finished_purge_run(
                &self,
                record_type: $crate::domain::retention::RecordType,
            ) -> $crate::error::Result<Option<$crate::store::retention::PurgeRun>> {
                let row: Option<$crate::store::retention::PurgeRunRow> = sqlx::query_as(&format!(
                    "{} WHERE record_type = $1 AND finished_at IS NOT NULL \
                     ORDER BY started_at DESC, id DESC LIMIT 1",
                    $crate::store::retention::RUN_SELECT
                ))
                .bind(record_type.as_str())
                .fetch_optional(self.reader())
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn purge_runs(
                &self,
                record_type: $crate::domain::retention::RecordType,
                limit: i64,
            ) -> $crate::error::Result<Vec<$crate::store::retention::PurgeRun>> {
                let rows: Vec<$crate::store::retention::PurgeRunRow> = sqlx::query_as(&format!(
                    "{} WHERE record_type = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
                    $crate::store::retention::RUN_SELECT
                ))
                .bind(record_type.as_str())
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn purge_anonymous_entry_text(
                &self,
                cutoff: chrono::DateTime<chrono::Utc>,
                at: chrono::DateTime<chrono::Utc>,
                limit: i64,
            ) -> $crate::error::Result<i64> {
                let due: Vec<uuid::Uuid> = sqlx::query_scalar(&format!(
                    "SELECT id FROM entries WHERE {} ORDER BY updated_at, id LIMIT $2",
                    $crate::store::retention::PURGEABLE
                ))
                .bind(cutoff)
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
                let mut purged = 0;
                for id in due {
                    if self.purge_entry_text(id, cutoff, at).await? {
                        purged += 1;
                    }
                }
                if purged > 0 {
                    // Once per batch: the old page images leave the SQLite file and WAL.
                    self.scrub_freed().await?;
                }
                Ok(purged)
            }
        }
    };
}

pub(crate) use impl_retention_store;
