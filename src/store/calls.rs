//! Phone calls. A supertrait of `Store`, like the chats: a call's change, the entry an
//! answer makes, and their events commit together.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::call::Call;
use crate::domain::entry::Entry;
use crate::error::Result;
use crate::events::NewEvent;
use crate::store::{Inserted, Updated};

#[async_trait]
pub trait CallStore: Send + Sync {
    /// Inserts a call first heard of (with its entry, if the first event was an answer);
    /// `Existing` when another event of the same call got there first.
    async fn insert_call(
        &self,
        call: &Call,
        new_entry: Option<&Entry>,
        events: &[NewEvent],
        at: DateTime<Utc>,
    ) -> Result<Inserted<Call>>;
    /// Saves `next` if the stored version is `next.version - 1`.
    async fn update_call(
        &self,
        next: &Call,
        new_entry: Option<&Entry>,
        events: &[NewEvent],
        at: DateTime<Utc>,
    ) -> Result<Updated<Call>>;
    async fn get_call(&self, id: Uuid) -> Result<Option<Call>>;
    /// By the phone system's id.
    async fn call_by_call_id(&self, call_id: &str) -> Result<Option<Call>>;
    /// The calls of one caller (by number hash) since `since`, newest first.
    async fn calls_of_caller(&self, caller_hash: &str, since: DateTime<Utc>) -> Result<Vec<Call>>;
    /// Calls that began in `[from, to)`, oldest first.
    async fn calls_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Call>>;
    /// Calls not yet ended that began after `since`, oldest first.
    async fn live_calls(&self, since: DateTime<Utc>) -> Result<Vec<Call>>;
}

/// The earliest moment known of a call: its place in time for lists and statistics.
pub(super) fn started_at(call: &Call, fallback: DateTime<Utc>) -> DateTime<Utc> {
    [call.ringing_at, call.answered_at, call.ended_at]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(fallback)
}

macro_rules! impl_call_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn insert_call_entry(
                tx: &mut sqlx::Transaction<'_, $db>,
                entry: Option<&$crate::domain::entry::Entry>,
            ) -> $crate::error::Result<()> {
                if let Some(entry) = entry {
                    if !Self::insert_entry_in_tx(tx, entry).await? {
                        return Err($crate::error::AppError::Internal(
                            "a new call's entry id was taken".into(),
                        ));
                    }
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::CallStore for $store {
            async fn insert_call(
                &self,
                call: &$crate::domain::call::Call,
                new_entry: Option<&$crate::domain::entry::Entry>,
                events: &[$crate::events::NewEvent],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<$crate::store::Inserted<$crate::domain::call::Call>> {
                let mut tx = self.writer().begin().await?;
                Self::insert_call_entry(&mut tx, new_entry).await?;
                let inserted = sqlx::query(
                    "INSERT INTO calls (id, call_id, version, state, caller_hash, started_at, \
                     entry_id, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (call_id) DO NOTHING",
                )
                .bind(call.id)
                .bind(&call.call_id)
                .bind(call.version)
                .bind(call.state().as_str())
                .bind(&call.caller_hash)
                .bind($crate::store::calls::started_at(call, at))
                .bind(call.entry_id)
                .bind(serde_json::to_string(call)?)
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    tx.rollback().await?;
                    let existing = $crate::store::CallStore::call_by_call_id(self, &call.call_id)
                        .await?
                        .ok_or_else(|| $crate::error::AppError::Internal("call vanished".into()))?;
                    return Ok($crate::store::Inserted::Existing(Box::new(existing)));
                }
                self.commit_with_events(tx, events, at).await?;
                Ok($crate::store::Inserted::Created)
            }

            async fn update_call(
                &self,
                next: &$crate::domain::call::Call,
                new_entry: Option<&$crate::domain::entry::Entry>,
                events: &[$crate::events::NewEvent],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<$crate::store::Updated<$crate::domain::call::Call>> {
                let mut tx = self.writer().begin().await?;
                // The entry first: the call row refers to it.
                Self::insert_call_entry(&mut tx, new_entry).await?;
                let saved = sqlx::query(
                    "UPDATE calls SET version = $2, state = $3, caller_hash = $4, \
                     started_at = $5, entry_id = $6, body = $7 WHERE id = $1 AND version = $8",
                )
                .bind(next.id)
                .bind(next.version)
                .bind(next.state().as_str())
                .bind(&next.caller_hash)
                .bind($crate::store::calls::started_at(next, at))
                .bind(next.entry_id)
                .bind(serde_json::to_string(next)?)
                .bind(next.version - 1)
                .execute(&mut *tx)
                .await?;
                if saved.rows_affected() == 0 {
                    tx.rollback().await?;
                    let current = $crate::store::CallStore::get_call(self, next.id)
                        .await?
                        .ok_or_else(|| $crate::error::AppError::Internal("call vanished".into()))?;
                    return Ok($crate::store::Updated::Stale(Box::new(current)));
                }
                self.commit_with_events(tx, events, at).await?;
                Ok($crate::store::Updated::Saved)
            }

            async fn get_call(
                &self,
                id: uuid::Uuid,
            ) -> $crate::error::Result<Option<$crate::domain::call::Call>> {
                let body: Option<String> = sqlx::query_scalar("SELECT body FROM calls WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                body.map(|b| Ok(serde_json::from_str(&b)?)).transpose()
            }

            async fn call_by_call_id(
                &self,
                call_id: &str,
            ) -> $crate::error::Result<Option<$crate::domain::call::Call>> {
                let body: Option<String> =
                    sqlx::query_scalar("SELECT body FROM calls WHERE call_id = $1")
                        .bind(call_id)
                        .fetch_optional(self.reader())
                        .await?;
                body.map(|b| Ok(serde_json::from_str(&b)?)).transpose()
            }

            async fn calls_of_caller(
                &self,
                caller_hash: &str,
                since: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::domain::call::Call>> {
                let bodies: Vec<(String,)> = sqlx::query_as(
                    "SELECT body FROM calls WHERE caller_hash = $1 AND started_at >= $2 \
                     ORDER BY started_at DESC LIMIT 100",
                )
                .bind(caller_hash)
                .bind(since)
                .fetch_all(self.reader())
                .await?;
                $crate::store::sql::decode_bodies(bodies)
            }

            async fn calls_between(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::domain::call::Call>> {
                let bodies: Vec<(String,)> = sqlx::query_as(
                    "SELECT body FROM calls WHERE started_at >= $1 AND started_at < $2 \
                     ORDER BY started_at LIMIT 100000",
                )
                .bind(from)
                .bind(to)
                .fetch_all(self.reader())
                .await?;
                $crate::store::sql::decode_bodies(bodies)
            }

            async fn live_calls(
                &self,
                since: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<$crate::domain::call::Call>> {
                let bodies: Vec<(String,)> = sqlx::query_as(
                    "SELECT body FROM calls WHERE state <> 'ended' AND started_at >= $1 \
                     ORDER BY started_at LIMIT 200",
                )
                .bind(since)
                .fetch_all(self.reader())
                .await?;
                $crate::store::sql::decode_bodies(bodies)
            }
        }
    };
}

pub(crate) use impl_call_store;
