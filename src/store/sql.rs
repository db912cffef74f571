//! The SQL both backends share. SQLite (3.35+) and PostgreSQL both accept `$N` parameters,
//! `RETURNING` and `INSERT … ON CONFLICT … DO UPDATE`, so one text serves both; the macro
//! stamps the `Store` implementation onto each backend's concrete pool type, keeping the
//! queries runtime-checked against a real database and written exactly once.
//!
//! A backend type provides `writer()`, `reader()` (the same pool on PostgreSQL) and `hub`.

use chrono::{DateTime, Utc};

use crate::domain::account::User;
use crate::domain::entry::{Person, Revision};
use crate::error::{AppError, Result};
use crate::events::Event;
use crate::store::{AccessAction, AccessRecord, AccessResult};

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    team_key: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = AppError;

    fn try_from(row: UserRow) -> Result<User> {
        Ok(User {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            role: row.role.parse().map_err(|_| {
                AppError::Internal(format!("stored role {:?} is unknown", row.role))
            })?,
            team: row.team_key,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CredentialRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
pub(super) struct EventRow {
    stream: String,
    seq: i64,
    kind: String,
    at: DateTime<Utc>,
    data: String,
}

impl TryFrom<EventRow> for Event {
    type Error = AppError;

    fn try_from(row: EventRow) -> Result<Event> {
        Ok(Event {
            data: serde_json::from_str(&row.data).map_err(|e| {
                AppError::Internal(format!(
                    "event {}:{} holds bad JSON: {e}",
                    row.stream, row.seq
                ))
            })?,
            stream: row.stream,
            seq: row.seq,
            kind: row.kind,
            at: row.at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AccessRow {
    at: DateTime<Utc>,
    user_id: Option<i64>,
    username: String,
    role: String,
    action: String,
    record_type: String,
    record_id: String,
    purpose: Option<String>,
    result: String,
}

impl AccessAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessAction::Read => "read",
            AccessAction::Write => "write",
            AccessAction::Export => "export",
            AccessAction::Disclose => "disclose",
        }
    }
}

impl AccessResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessResult::Allowed => "allowed",
            AccessResult::Refused => "refused",
        }
    }
}

impl TryFrom<AccessRow> for AccessRecord {
    type Error = AppError;

    fn try_from(row: AccessRow) -> Result<AccessRecord> {
        let action = [
            AccessAction::Read,
            AccessAction::Write,
            AccessAction::Export,
            AccessAction::Disclose,
        ]
        .into_iter()
        .find(|a| a.as_str() == row.action)
        .ok_or_else(|| AppError::Internal(format!("stored action {:?}", row.action)))?;
        let result = if row.result == AccessResult::Allowed.as_str() {
            AccessResult::Allowed
        } else {
            AccessResult::Refused
        };
        Ok(AccessRecord {
            at: row.at,
            user_id: row.user_id,
            username: row.username,
            role: row.role,
            action,
            record_type: row.record_type,
            record_id: row.record_id,
            purpose: row.purpose,
            result,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ChainedAccessRow {
    id: i64,
    #[sqlx(flatten)]
    row: AccessRow,
    prev_hash: Option<String>,
    row_hash: Option<String>,
}

impl TryFrom<ChainedAccessRow> for crate::domain::audit::ChainRow {
    type Error = AppError;

    fn try_from(row: ChainedAccessRow) -> Result<Self> {
        Ok(crate::domain::audit::ChainRow {
            id: row.id,
            record: row.row.try_into()?,
            prev_hash: row.prev_hash,
            row_hash: row.row_hash,
        })
    }
}

/// Maps a unique or foreign-key violation to the client-facing error it stands for.
pub(super) fn constraint_error(err: sqlx::Error, unique: &str, foreign: AppError) -> AppError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => AppError::Conflict(unique.into()),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => foreign,
        _ => AppError::Database(err),
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RevisionRow {
    pub version: i64,
    pub change: String,
    pub at: DateTime<Utc>,
    pub user_id: i64,
    pub by_name: String,
    pub body: String,
}

impl TryFrom<RevisionRow> for Revision {
    type Error = AppError;

    fn try_from(row: RevisionRow) -> Result<Revision> {
        Ok(Revision {
            version: row.version,
            change: serde_json::from_value(serde_json::Value::String(row.change))?,
            at: row.at,
            by: Person {
                id: row.user_id,
                name: row.by_name,
            },
            entry: serde_json::from_str(&row.body)?,
        })
    }
}

/// Records kept whole as a JSON `body` column (entries, handovers, chats), decoded.
pub(super) fn decode_bodies<T: serde::de::DeserializeOwned>(
    rows: Vec<(String,)>,
) -> Result<Vec<T>> {
    rows.into_iter()
        .map(|(body,)| serde_json::from_str(&body).map_err(Into::into))
        .collect()
}

/// `%` and `_` typed into the search box are searched for, not wildcards.
pub(super) fn like_pattern(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub(super) const ENTRY_INSERT: &str = "INSERT INTO entries (id, version, status, category, urgency, \
     urgency_rank, channel, identified, occurred_at, created_at, updated_at, created_by, \
     claimed_by, search_text, body) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (id) DO NOTHING";

pub(super) const ENTRY_UPDATE: &str = "UPDATE entries SET version = $2, status = $3, category = $4, \
     urgency = $5, urgency_rank = $6, channel = $7, identified = $8, occurred_at = $9, \
     created_at = $10, updated_at = $11, created_by = $12, claimed_by = $13, search_text = $14, \
     body = $15 WHERE id = $1 AND version = $16";

pub(super) const REVISION_INSERT: &str = "INSERT INTO entry_revisions \
     (entry_id, version, change, at, user_id, by_name, body) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Binds an entry's 15 columns in the order of `ENTRY_INSERT` and `ENTRY_UPDATE`.
macro_rules! bind_entry {
    ($query:expr, $entry:expr, $body:expr) => {
        $query
            .bind($entry.id)
            .bind($entry.version)
            .bind($entry.status.as_str())
            .bind($entry.category.as_str())
            .bind($entry.urgency.as_str())
            .bind($entry.urgency.rank())
            .bind($entry.channel.as_str())
            .bind($entry.subject.is_identified())
            .bind($entry.occurred_at)
            .bind($entry.created_at)
            .bind($entry.updated_at)
            .bind($entry.created_by.id)
            .bind($entry.claimed_by.as_ref().map(|p| p.id))
            .bind($entry.search_text())
            .bind($body)
    };
}

pub(crate) use bind_entry;

pub(super) const HANDOVER_INSERT: &str = "INSERT INTO handovers (id, entry_id, team_key, state, \
     due_at, overdue_at, created_at, version, body, escalated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING";

pub(super) const HANDOVER_UPDATE: &str = "UPDATE handovers SET entry_id = $2, team_key = $3, \
     state = $4, due_at = $5, overdue_at = $6, created_at = $7, version = $8, body = $9, \
     escalated_at = $10 WHERE id = $1 AND version = $11";

/// Binds a handover's 10 columns in the order of `HANDOVER_INSERT` and `HANDOVER_UPDATE`.
macro_rules! bind_handover {
    ($query:expr, $handover:expr, $body:expr) => {
        $query
            .bind($handover.id)
            .bind($handover.entry_id)
            .bind(&$handover.team)
            .bind($handover.state.as_str())
            .bind($handover.due_at)
            .bind($handover.overdue_at)
            .bind($handover.created_at)
            .bind($handover.version)
            .bind($body)
            .bind($handover.escalated_at)
    };
}

pub(crate) use bind_handover;

/// Maps a foreign-key failure on a handover to the field the client got wrong.
pub(super) fn handover_error(err: sqlx::Error) -> AppError {
    constraint_error(
        err,
        "a handover with this id already exists",
        AppError::validation("team", "no such team"),
    )
}

/// A stream's events after a sequence number, oldest first: `$1` stream, `$2` since,
/// `$3` limit.
pub(super) const EVENTS_SINCE: &str = "SELECT stream, seq, kind, at, data FROM events \
     WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT $3";

pub(super) const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.team_key";

macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:expr) => {
        impl $store {
            /// Appends events inside an open transaction: the caller's state change and its
            /// events commit together. Counter rows are taken in stream-name order so two
            /// transactions touching the same streams cannot deadlock.
            pub async fn append_in_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                events: &[$crate::events::NewEvent],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::events::Event>> {
                let mut counts = std::collections::BTreeMap::<&str, i64>::new();
                for event in events {
                    *counts.entry(event.stream.as_str()).or_default() += 1;
                }
                let mut next_seq = std::collections::HashMap::<&str, i64>::new();
                for (stream, count) in counts {
                    let head: i64 = sqlx::query_scalar(
                        "INSERT INTO streams (name, head) VALUES ($1, $2) \
                         ON CONFLICT (name) DO UPDATE SET head = streams.head + excluded.head \
                         RETURNING head",
                    )
                    .bind(stream)
                    .bind(count)
                    .fetch_one(&mut **tx)
                    .await?;
                    next_seq.insert(stream, head - count + 1);
                }
                let mut appended = Vec::with_capacity(events.len());
                for event in events {
                    let slot = next_seq.get_mut(event.stream.as_str()).expect("counted above");
                    let seq = *slot;
                    *slot += 1;
                    sqlx::query(
                        "INSERT INTO events (stream, seq, kind, at, data) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&event.stream)
                    .bind(seq)
                    .bind(&event.kind)
                    .bind(at)
                    .bind(event.data.to_string())
                    .execute(&mut **tx)
                    .await?;
                    appended.push($crate::events::Event {
                        stream: event.stream.clone(),
                        seq,
                        kind: event.kind.clone(),
                        at,
                        data: event.data.clone(),
                    });
                }
                Ok(appended)
            }

            /// Inserts version 1 of an entry and its first revision; false (and nothing
            /// written) when the id is taken.
            async fn insert_entry_in_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                entry: &$crate::domain::entry::Entry,
            ) -> $crate::error::Result<bool> {
                let body = serde_json::to_string(entry)?;
                let inserted = $crate::store::sql::bind_entry!(
                    sqlx::query($crate::store::sql::ENTRY_INSERT),
                    entry,
                    &body
                )
                .execute(&mut **tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    return Ok(false);
                }
                sqlx::query($crate::store::sql::REVISION_INSERT)
                    .bind(entry.id)
                    .bind(entry.version)
                    .bind($crate::domain::entry::Change::Created.as_str())
                    .bind(entry.created_at)
                    .bind(entry.created_by.id)
                    .bind(&entry.created_by.name)
                    .bind(&body)
                    .execute(&mut **tx)
                    .await?;
                Ok(true)
            }

            /// Appends the events, commits the transaction, and only then wakes the hub:
            /// the last step of every write.
            async fn commit_with_events(
                &self,
                mut tx: sqlx::Transaction<'_, $db>,
                events: &[$crate::events::NewEvent],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::events::Event>> {
                let appended = Self::append_in_tx(&mut tx, events, at).await?;
                tx.commit().await?;
                self.published(&appended);
                Ok(appended)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> $crate::store::Backend {
                $backend
            }

            fn start_fanout(
                &self,
                every: std::time::Duration,
                signals: $crate::events::Signals,
                shutdown: tokio_util::sync::CancellationToken,
            ) {
                self.start_fanout_tasks(every, signals, shutdown);
            }

            async fn ping(&self) -> $crate::error::Result<()> {
                self.still_there()?;
                // A real table, not `SELECT 1`: a dropped schema is not ready either.
                sqlx::query("SELECT name FROM streams LIMIT 1")
                    .fetch_optional(self.reader())
                    .await?;
                Ok(())
            }

            fn pool_use(&self) -> Vec<$crate::store::PoolUse> {
                self.pools()
                    .into_iter()
                    .map(|(pool, open, idle)| $crate::store::PoolUse { pool, open, idle })
                    .collect()
            }

            async fn upsert_team(
                &self,
                team: &$crate::domain::account::Team,
            ) -> $crate::error::Result<()> {
                sqlx::query(
                    "INSERT INTO teams (key, name_fi, name_sv, name_en) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (key) DO UPDATE SET name_fi = excluded.name_fi, \
                     name_sv = excluded.name_sv, name_en = excluded.name_en",
                )
                .bind(&team.key)
                .bind(&team.name_fi)
                .bind(&team.name_sv)
                .bind(&team.name_en)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn list_teams(
                &self,
            ) -> $crate::error::Result<Vec<$crate::domain::account::Team>> {
                Ok(sqlx::query_as("SELECT key, name_fi, name_sv, name_en FROM teams ORDER BY key")
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn get_team(
                &self,
                key: &str,
            ) -> $crate::error::Result<Option<$crate::domain::account::Team>> {
                Ok(sqlx::query_as(
                    "SELECT key, name_fi, name_sv, name_en FROM teams WHERE key = $1",
                )
                .bind(key)
                .fetch_optional(self.reader())
                .await?)
            }

            async fn create_user(
                &self,
                user: &$crate::domain::account::NewUser,
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<$crate::domain::account::User> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO users (username, display_name, role, team_key, password_hash, created_at, is_lead) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&user.username)
                .bind(&user.display_name)
                .bind(user.role.as_str())
                .bind(&user.team)
                .bind(&user.password_hash)
                .bind(at)
                .bind(user.lead)
                .fetch_one(self.writer())
                .await
                .map_err(|e| {
                    $crate::store::sql::constraint_error(
                        e,
                        "a user with this username already exists",
                        $crate::error::AppError::validation("team", "no such team"),
                    )
                })?;
                Ok($crate::domain::account::User {
                    id,
                    username: user.username.clone(),
                    display_name: user.display_name.clone(),
                    role: user.role,
                    team: user.team.clone(),
                })
            }

            async fn set_password(
                &self,
                username: &str,
                password_hash: &str,
            ) -> $crate::error::Result<bool> {
                let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
                    .bind(password_hash)
                    .bind(username)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn system_account(
                &self,
                username: &str,
            ) -> $crate::error::Result<$crate::domain::entry::Person> {
                let (id, name): (i64, String) = sqlx::query_as(
                    "SELECT id, display_name FROM users WHERE username = $1 AND NOT active",
                )
                .bind(username)
                .fetch_one(self.reader())
                .await?;
                Ok($crate::domain::entry::Person { id, name })
            }

            async fn find_credentials(
                &self,
                username: &str,
            ) -> $crate::error::Result<Option<($crate::domain::account::User, String)>> {
                let row: Option<$crate::store::sql::CredentialRow> = sqlx::query_as(&format!(
                    "SELECT {}, u.password_hash FROM users u WHERE u.username = $1 AND u.active",
                    $crate::store::sql::USER_COLUMNS
                ))
                .bind(username)
                .fetch_optional(self.reader())
                .await?;
                row.map(|r| Ok((r.user.try_into()?, r.password_hash))).transpose()
            }

            async fn team_leads(
                &self,
                team: &str,
            ) -> $crate::error::Result<Vec<$crate::domain::account::User>> {
                let rows: Vec<$crate::store::sql::UserRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM users u WHERE u.team_key = $1 AND u.is_lead AND u.active \
                     ORDER BY u.display_name",
                    $crate::store::sql::USER_COLUMNS
                ))
                .bind(team)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn create_session(
                &self,
                session: &$crate::store::NewSession,
            ) -> $crate::error::Result<()> {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&session.token_hash)
                .bind(session.user_id)
                .bind(&session.csrf_token)
                .bind(session.created_at)
                .bind(session.expires_at)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn find_session(
                &self,
                token_hash: &str,
            ) -> $crate::error::Result<Option<$crate::store::SessionRecord>> {
                let row: Option<$crate::store::sql::SessionRow> = sqlx::query_as(&format!(
                    "SELECT {}, s.csrf_token, s.created_at, s.expires_at FROM sessions s \
                     JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND u.active",
                    $crate::store::sql::USER_COLUMNS
                ))
                .bind(token_hash)
                .fetch_optional(self.reader())
                .await?;
                row.map(|r| {
                    Ok($crate::store::SessionRecord {
                        user: r.user.try_into()?,
                        csrf_token: r.csrf_token,
                        created_at: r.created_at,
                        expires_at: r.expires_at,
                    })
                })
                .transpose()
            }

            async fn delete_session(&self, token_hash: &str) -> $crate::error::Result<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn delete_expired_sessions(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected())
            }

            async fn append_events(
                &self,
                events: &[$crate::events::NewEvent],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::events::Event>> {
                let tx = self.writer().begin().await?;
                self.commit_with_events(tx, events, at).await
            }

            async fn events_since(
                &self,
                stream: &str,
                since: i64,
                limit: i64,
            ) -> $crate::error::Result<Vec<$crate::events::Event>> {
                let rows: Vec<$crate::store::sql::EventRow> =
                    sqlx::query_as($crate::store::sql::EVENTS_SINCE)
                .bind(stream)
                .bind(since)
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn stream_head(&self, stream: &str) -> $crate::error::Result<i64> {
                let head: Option<i64> = sqlx::query_scalar("SELECT head FROM streams WHERE name = $1")
                    .bind(stream)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(head.unwrap_or(0))
            }

            async fn insert_entry(
                &self,
                entry: &$crate::domain::entry::Entry,
                events: &[$crate::events::NewEvent],
            ) -> $crate::error::Result<$crate::store::Inserted<$crate::domain::entry::Entry>> {
                let mut tx = self.writer().begin().await?;
                if !Self::insert_entry_in_tx(&mut tx, entry).await? {
                    tx.rollback().await?;
                    let existing = $crate::store::Store::get_entry(self, entry.id)
                        .await?
                        .ok_or_else(|| $crate::error::AppError::Internal("entry vanished".into()))?;
                    return Ok($crate::store::Inserted::Existing(Box::new(existing)));
                }
                self.commit_with_events(tx, events, entry.created_at).await?;
                Ok($crate::store::Inserted::Created)
            }

            async fn update_entry(
                &self,
                next: &$crate::domain::entry::Entry,
                change: $crate::domain::entry::Change,
                by: &$crate::domain::entry::Person,
                events: &[$crate::events::NewEvent],
            ) -> $crate::error::Result<$crate::store::Updated<$crate::domain::entry::Entry>> {
                let body = serde_json::to_string(next)?;
                let mut tx = self.writer().begin().await?;
                let saved = $crate::store::sql::bind_entry!(
                    sqlx::query($crate::store::sql::ENTRY_UPDATE),
                    next,
                    &body
                )
                .bind(next.version - 1)
                .execute(&mut *tx)
                .await?;
                if saved.rows_affected() == 0 {
                    tx.rollback().await?;
                    let current = $crate::store::Store::get_entry(self, next.id)
                        .await?
                        .ok_or_else(|| $crate::error::AppError::NotFound("no such entry".into()))?;
                    return Ok($crate::store::Updated::Stale(Box::new(current)));
                }
                sqlx::query($crate::store::sql::REVISION_INSERT)
                    .bind(next.id)
                    .bind(next.version)
                    .bind(change.as_str())
                    .bind(next.updated_at)
                    .bind(by.id)
                    .bind(&by.name)
                    .bind(&body)
                    .execute(&mut *tx)
                    .await?;
                self.commit_with_events(tx, events, next.updated_at).await?;
                Ok($crate::store::Updated::Saved)
            }

            async fn get_entry(
                &self,
                id: uuid::Uuid,
            ) -> $crate::error::Result<Option<$crate::domain::entry::Entry>> {
                let body: Option<String> = sqlx::query_scalar("SELECT body FROM entries WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
            }

            async fn list_entries(
                &self,
                filter: &$crate::domain::entry::EntryFilter,
            ) -> $crate::error::Result<Vec<$crate::domain::entry::Entry>> {
                let mut query = sqlx::QueryBuilder::<$db>::new("SELECT body FROM entries WHERE ");
                match (filter.status, filter.include_all) {
                    (Some(status), _) => query.push("status = ").push_bind(status.as_str()),
                    (None, true) => query.push("TRUE"),
                    (None, false) => query.push("status <> 'closed'"),
                };
                if let Some(category) = filter.category {
                    query.push(" AND category = ").push_bind(category.as_str());
                }
                if let Some(urgency) = filter.urgency {
                    query.push(" AND urgency = ").push_bind(urgency.as_str());
                }
                if let Some(user) = filter.mine_of {
                    query
                        .push(" AND (created_by = ")
                        .push_bind(user)
                        .push(" OR claimed_by = ")
                        .push_bind(user)
                        .push(")");
                }
                if let Some(since) = filter.since {
                    query.push(" AND occurred_at >= ").push_bind(since);
                }
                for word in &filter.words {
                    query
                        .push(" AND search_text LIKE ")
                        .push_bind($crate::store::sql::like_pattern(word))
                        .push(" ESCAPE '\\'");
                }
                query
                    .push(" ORDER BY urgency_rank, occurred_at DESC LIMIT ")
                    .push_bind(filter.limit);
                $crate::store::sql::decode_bodies(query.build_query_as().fetch_all(self.reader()).await?)
            }

            async fn entry_revisions(
                &self,
                id: uuid::Uuid,
            ) -> $crate::error::Result<Vec<$crate::domain::entry::Revision>> {
                let rows: Vec<$crate::store::sql::RevisionRow> = sqlx::query_as(
                    "SELECT version, change, at, user_id, by_name, body FROM entry_revisions \
                     WHERE entry_id = $1 ORDER BY version",
                )
                .bind(id)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn identified_entries(
                &self,
                limit: i64,
            ) -> $crate::error::Result<Vec<$crate::domain::entry::Entry>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT body FROM entries WHERE identified ORDER BY occurred_at DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
                $crate::store::sql::decode_bodies(rows)
            }

            async fn insert_handover(
                &self,
                handover: &$crate::domain::handover::Handover,
                events: &[$crate::events::NewEvent],
            ) -> $crate::error::Result<$crate::store::Inserted<$crate::domain::handover::Handover>> {
                let body = serde_json::to_string(handover)?;
                let mut tx = self.writer().begin().await?;
                let inserted = $crate::store::sql::bind_handover!(
                    sqlx::query($crate::store::sql::HANDOVER_INSERT),
                    handover,
                    &body
                )
                .execute(&mut *tx)
                .await
                .map_err($crate::store::sql::handover_error)?;
                if inserted.rows_affected() == 0 {
                    tx.rollback().await?;
                    let existing = $crate::store::Store::get_handover(self, handover.id)
                        .await?
                        .ok_or_else(|| $crate::error::AppError::Internal("handover vanished".into()))?;
                    return Ok($crate::store::Inserted::Existing(Box::new(existing)));
                }
                self.commit_with_events(tx, events, handover.created_at).await?;
                Ok($crate::store::Inserted::Created)
            }

            async fn update_handover(
                &self,
                next: &$crate::domain::handover::Handover,
                created: Option<&$crate::domain::handover::Handover>,
                events: &[$crate::events::NewEvent],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<$crate::store::Updated<$crate::domain::handover::Handover>> {
                let body = serde_json::to_string(next)?;
                let mut tx = self.writer().begin().await?;
                let saved = $crate::store::sql::bind_handover!(
                    sqlx::query($crate::store::sql::HANDOVER_UPDATE),
                    next,
                    &body
                )
                .bind(next.version - 1)
                .execute(&mut *tx)
                .await?;
                if saved.rows_affected() == 0 {
                    tx.rollback().await?;
                    let current = $crate::store::Store::get_handover(self, next.id)
                        .await?
                        .ok_or_else(|| $crate::error::AppError::NotFound("no such handover".into()))?;
                    return Ok($crate::store::Updated::Stale(Box::new(current)));
                }
                if let Some(copy) = created {
                    let copy_body = serde_json::to_string(copy)?;
                    $crate::store::sql::bind_handover!(
                        sqlx::query($crate::store::sql::HANDOVER_INSERT),
                        copy,
                        &copy_body
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::store::sql::handover_error)?;
                }
                self.commit_with_events(tx, events, at).await?;
                Ok($crate::store::Updated::Saved)
            }

            async fn get_handover(
                &self,
                id: uuid::Uuid,
            ) -> $crate::error::Result<Option<$crate::domain::handover::Handover>> {
                let body: Option<String> = sqlx::query_scalar("SELECT body FROM handovers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
            }

            async fn list_handovers(
                &self,
                filter: &$crate::store::HandoverFilter,
            ) -> $crate::error::Result<Vec<$crate::domain::handover::Handover>> {
                let mut query = sqlx::QueryBuilder::<$db>::new("SELECT body FROM handovers WHERE TRUE");
                if let Some(team) = &filter.team {
                    query.push(" AND team_key = ").push_bind(team);
                }
                if let Some(entry) = filter.entry {
                    query.push(" AND entry_id = ").push_bind(entry);
                }
                if filter.open_only {
                    query.push(" AND state IN ('pending', 'acknowledged', 'returned')");
                }
                if let Some(now) = filter.unmarked_overdue_at {
                    query
                        .push(" AND state = 'pending' AND overdue_at IS NULL AND due_at < ")
                        .push_bind(now);
                }
                if let Some(since) = filter.created_since {
                    query.push(" AND created_at >= ").push_bind(since);
                }
                if let Some(before) = filter.unescalated_overdue_since {
                    query
                        .push(" AND state = 'pending' AND escalated_at IS NULL AND overdue_at <= ")
                        .push_bind(before);
                }
                query
                    .push(
                        " ORDER BY CASE WHEN state IN ('pending', 'acknowledged', 'returned') \
                         THEN 0 ELSE 1 END, CASE WHEN state IN ('pending', 'acknowledged', \
                         'returned') THEN due_at END, created_at DESC LIMIT ",
                    )
                    .push_bind(filter.limit);
                $crate::store::sql::decode_bodies(query.build_query_as().fetch_all(self.reader()).await?)
            }

            async fn pending_handovers(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::store::PendingHandovers>> {
                Ok(sqlx::query_as(
                    "SELECT team_key AS team, COUNT(*) AS pending, \
                     COUNT(CASE WHEN due_at < $1 THEN 1 END) AS overdue \
                     FROM handovers WHERE state = 'pending' GROUP BY team_key ORDER BY team_key",
                )
                .bind(now)
                .fetch_all(self.reader())
                .await?)
            }

            async fn record_access(
                &self,
                record: &$crate::store::AccessRecord,
            ) -> $crate::error::Result<()> {
                let record = $crate::store::AccessRecord {
                    at: $crate::domain::audit::chain_time(record.at),
                    ..record.clone()
                };
                let mut tx = self.writer().begin().await?;
                // One writer at a time extends the chain, so no two rows link to the same one.
                Self::lock_access_chain(&mut tx).await?;
                let prev: Option<Option<String>> = sqlx::query_scalar(
                    "SELECT row_hash FROM access_log ORDER BY id DESC LIMIT 1",
                )
                .fetch_optional(&mut *tx)
                .await?;
                let prev = prev.flatten().unwrap_or_else(|| $crate::domain::audit::GENESIS.to_owned());
                let own = $crate::domain::audit::link_hash(&prev, &record);
                sqlx::query(
                    "INSERT INTO access_log (at, user_id, username, role, action, record_type, \
                     record_id, purpose, result, prev_hash, row_hash) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(record.at)
                .bind(record.user_id)
                .bind(&record.username)
                .bind(&record.role)
                .bind(record.action.as_str())
                .bind(&record.record_type)
                .bind(&record.record_id)
                .bind(&record.purpose)
                .bind(record.result.as_str())
                .bind(&prev)
                .bind(&own)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn access_chain_page(
                &self,
                after_id: i64,
                limit: i64,
            ) -> $crate::error::Result<Vec<$crate::domain::audit::ChainRow>> {
                let rows: Vec<$crate::store::sql::ChainedAccessRow> = sqlx::query_as(
                    "SELECT id, at, user_id, username, role, action, record_type, record_id, \
                     purpose, result, prev_hash, row_hash FROM access_log WHERE id > $1 \
                     ORDER BY id LIMIT $2",
                )
                .bind(after_id)
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn access_log_of(
                &self,
                record_ids: &[String],
                since: Option<chrono::DateTime<chrono::Utc>>,
                until: Option<chrono::DateTime<chrono::Utc>>,
            ) -> $crate::error::Result<Vec<$crate::store::AccessRecord>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT at, user_id, username, role, action, record_type, record_id, purpose, \
                     result FROM access_log WHERE record_id IN (",
                );
                let mut ids = query.separated(", ");
                for id in record_ids {
                    ids.push_bind(id.clone());
                }
                ids.push_unseparated(")");
                if let Some(since) = since {
                    query.push(" AND at >= ").push_bind(since);
                }
                if let Some(until) = until {
                    query.push(" AND at < ").push_bind(until);
                }
                query.push(" ORDER BY id LIMIT 10000");
                if record_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let rows: Vec<$crate::store::sql::AccessRow> =
                    query.build_query_as().fetch_all(self.reader()).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn access_log_for(
                &self,
                record_type: &str,
                record_id: &str,
            ) -> $crate::error::Result<Vec<$crate::store::AccessRecord>> {
                let rows: Vec<$crate::store::sql::AccessRow> = sqlx::query_as(
                    "SELECT at, user_id, username, role, action, record_type, record_id, purpose, result \
                     FROM access_log WHERE record_type = $1 AND record_id = $2 ORDER BY id",
                )
                .bind(record_type)
                .bind(record_id)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}

pub(crate) use impl_store;
