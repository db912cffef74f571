//! Chat persistence: a trait of its own (a supertrait of `Store`, so `dyn Store` has it)
//! and its SQL, shared by both backends the same way `sql.rs` shares the rest.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::chat::{Author, Chat, ChatMessage, ChatState, NewMessage};
use crate::domain::entry::Entry;
use crate::error::{AppError, Result};
use crate::events::NewEvent;
use crate::store::Updated;

/// Which chats to list. The queue's order: highest risk first, then longest waiting.
#[derive(Debug, Clone, Default)]
pub struct ChatFilter {
    /// Any of these states (all states when empty).
    pub states: Vec<ChatState>,
    /// Only chats this worker is answering.
    pub worker: Option<i64>,
    /// Only active chats whose last message is older than this.
    pub idle_before: Option<DateTime<Utc>>,
    /// Only unended chats whose client token ran out before this.
    pub token_expired_before: Option<DateTime<Utc>>,
    /// Only ended chats, ended before this, whose transcript is not yet purged.
    pub unpurged_ended_before: Option<DateTime<Utc>>,
    pub limit: i64,
}

/// A chat message write, queued for a group commit.
pub struct MessageRequest {
    pub next: Chat,
    pub message: NewMessage,
    pub events: Vec<NewEvent>,
}

/// What one message of a batch did; `Stale` is looked up after the batch.
pub enum Written {
    Created(ChatMessage),
    Existing(ChatMessage),
    Stale,
}

/// Why an attempt at a message batch failed: one message's own statements (it is left out
/// and the batch runs again), or the transaction itself (every message fails).
pub enum BatchFailure {
    Message(usize, AppError),
    Transaction(AppError),
}

/// The chat-message group commits of a backend.
pub type MessageCommits = crate::store::group_commit::GroupCommit<MessageRequest, Written>;

/// The outcome of writing a chat message.
#[derive(Debug)]
pub enum MessageWrite {
    Created(ChatMessage),
    /// The sender's `client_id` was already used: a retry. Nothing was written.
    Existing(ChatMessage),
    /// The chat changed meanwhile; decide again on this version. Nothing was written.
    Stale(Box<Chat>),
}

#[async_trait]
pub trait ChatStore: Send + Sync {
    async fn insert_chat(
        &self,
        chat: &Chat,
        token_hash: &str,
        token_expires_at: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()>;
    /// Saves `next` if the stored version is `next.version - 1`, with the chat's new
    /// live-log entry (on accept) and a new token expiry in the same transaction.
    async fn update_chat(
        &self,
        next: &Chat,
        new_entry: Option<&Entry>,
        token_expires_at: Option<DateTime<Utc>>,
        events: &[NewEvent],
        at: DateTime<Utc>,
    ) -> Result<Updated<Chat>>;
    async fn get_chat(&self, id: Uuid) -> Result<Option<Chat>>;
    /// The chat a client token opens, and when the token expires.
    async fn chat_by_token(&self, token_hash: &str) -> Result<Option<(Chat, DateTime<Utc>)>>;
    async fn list_chats(&self, filter: &ChatFilter) -> Result<Vec<Chat>>;
    /// 1 for the chat a worker should take next: counts the queued chats ahead of it.
    async fn queue_position(&self, chat: &Chat) -> Result<i64>;
    /// How many chats wait for a worker.
    async fn queue_length(&self) -> Result<i64>;
    /// How long each chat accepted since `since` waited in the queue.
    async fn recent_waits(&self, since: DateTime<Utc>) -> Result<Vec<chrono::Duration>>;
    /// Writes a message (its `seq` is that of the `chat.message` event in `events`) and
    /// `next`, the chat after it, if the stored chat is still `next.version - 1`.
    async fn insert_chat_message(
        &self,
        next: &Chat,
        message: &NewMessage,
        events: &[NewEvent],
    ) -> Result<MessageWrite>;
    /// The transcript, oldest first.
    async fn chat_messages(&self, chat: Uuid) -> Result<Vec<ChatMessage>>;
    /// Removes an ended chat's message bodies from its messages and its stream, and saves
    /// `next` (with `purged_at` set). The rows, counts and times stay.
    async fn purge_chat_transcript(&self, next: &Chat) -> Result<Updated<Chat>>;
}

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    seq: i64,
    client_id: Uuid,
    author: String,
    at: DateTime<Utc>,
    body: Option<String>,
    by_name: Option<String>,
}

impl TryFrom<MessageRow> for ChatMessage {
    type Error = AppError;

    fn try_from(row: MessageRow) -> Result<ChatMessage> {
        Ok(ChatMessage {
            seq: row.seq,
            client_id: row.client_id,
            from: Author::parse_field(&row.author, "author")
                .map_err(|_| AppError::Internal(format!("stored author {:?}", row.author)))?,
            at: row.at,
            body: row.body,
            by: row.by_name,
        })
    }
}

pub(super) const CHAT_INSERT: &str = "INSERT INTO chats (id, version, state, risk_rank, \
     opened_at, accepted_at, ended_at, last_activity_at, worker_id, entry_id, purged_at, body, \
     token_hash, token_expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";

pub(super) const CHAT_UPDATE: &str = "UPDATE chats SET version = $2, state = $3, \
     risk_rank = $4, opened_at = $5, accepted_at = $6, ended_at = $7, last_activity_at = $8, \
     worker_id = $9, entry_id = $10, purged_at = $11, body = $12, \
     token_expires_at = COALESCE($13, token_expires_at) WHERE id = $1 AND version = $14";

/// A message with the display name of the worker who wrote it (the desk's transcript).
pub(super) const MESSAGE_SELECT: &str = "SELECT m.seq, m.client_id, m.author, m.at, m.body, \
     u.display_name AS by_name FROM chat_messages m LEFT JOIN users u ON u.id = m.user_id";

/// The queue's order; ended chats last, newest first. `id` breaks ties so the order (and
/// `queue_position`) is the same for everyone.
pub(super) const CHAT_ORDER: &str = " ORDER BY CASE state WHEN 'queued' THEN 0 \
     WHEN 'active' THEN 1 ELSE 2 END, risk_rank, opened_at, id";

/// Binds a chat's 12 columns in the order of `CHAT_INSERT` and `CHAT_UPDATE`.
macro_rules! bind_chat {
    ($query:expr, $chat:expr, $body:expr) => {
        $query
            .bind($chat.id)
            .bind($chat.version)
            .bind($chat.state.as_str())
            .bind($chat.risk.level.rank())
            .bind($chat.opened_at)
            .bind($chat.accepted_at)
            .bind($chat.ended_at)
            .bind($chat.last_activity_at)
            .bind($chat.worker.as_ref().map(|p| p.id))
            .bind($chat.entry_id)
            .bind($chat.purged_at)
            .bind($body)
    };
}

pub(crate) use bind_chat;

macro_rules! impl_chat_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Compare-and-swap of a chat row inside an open transaction; false when the
            /// stored version is not `next.version - 1`.
            async fn update_chat_in_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                next: &$crate::domain::chat::Chat,
                token_expires_at: Option<chrono::DateTime<chrono::Utc>>,
            ) -> $crate::error::Result<bool> {
                let body = serde_json::to_string(next)?;
                let saved = $crate::store::chats::bind_chat!(
                    sqlx::query($crate::store::chats::CHAT_UPDATE),
                    next,
                    &body
                )
                .bind(token_expires_at)
                .bind(next.version - 1)
                .execute(&mut **tx)
                .await?;
                Ok(saved.rows_affected() == 1)
            }

            /// One message inside a batch's transaction: the chat row's compare-and-swap,
            /// the events, the message row. Returns what it did and the events it
            /// appended. The duplicate check and the compare-and-swap come before any
            /// write, so a retry or a stale chat leaves the transaction as it was.
            async fn insert_chat_message_in_tx(
                tx: &mut sqlx::Transaction<'_, $db>,
                request: &$crate::store::chats::MessageRequest,
            ) -> $crate::error::Result<(
                $crate::store::chats::Written,
                Vec<$crate::events::Event>,
            )> {
                use $crate::store::chats::Written;
                let $crate::store::chats::MessageRequest { next, message, events } = request;
                let existing: Option<$crate::store::chats::MessageRow> = sqlx::query_as(&format!(
                    "{} WHERE m.chat_id = $1 AND m.client_id = $2",
                    $crate::store::chats::MESSAGE_SELECT
                ))
                .bind(next.id)
                .bind(message.client_id)
                .fetch_optional(&mut **tx)
                .await?;
                if let Some(row) = existing {
                    return Ok((Written::Existing(row.try_into()?), Vec::new()));
                }
                if !Self::update_chat_in_tx(tx, next, None).await? {
                    return Ok((Written::Stale, Vec::new()));
                }
                let appended = Self::append_in_tx(tx, events, message.at).await?;
                let stream = next.stream().to_string();
                let seq = appended
                    .iter()
                    .find(|e| e.stream == stream && e.kind == "chat.message")
                    .map(|e| e.seq)
                    .ok_or_else(|| {
                        $crate::error::AppError::Internal("a message without its event".into())
                    })?;
                sqlx::query(
                    "INSERT INTO chat_messages (chat_id, seq, client_id, author, user_id, at, body) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(next.id)
                .bind(seq)
                .bind(message.client_id)
                .bind(message.from.as_str())
                .bind(message.user_id)
                .bind(message.at)
                .bind(&message.body)
                .execute(&mut **tx)
                .await?;
                let created = $crate::domain::chat::ChatMessage {
                    seq,
                    client_id: message.client_id,
                    from: message.from,
                    body: Some(message.body.clone()),
                    at: message.at,
                    by: None,
                };
                Ok((Written::Created(created), appended))
            }

            /// Writes a batch of messages in one transaction and answers every writer after
            /// the commit (or with the failure, when nothing was committed). A message whose
            /// own statements fail is answered with its error and the batch runs again
            /// without it. No savepoint per message: on SQLite every statement is a hop to
            /// the database thread, and savepoints would add two per message.
            async fn write_message_batch(
                &self,
                batch: Vec<
                    $crate::store::group_commit::Pending<
                        $crate::store::chats::MessageRequest,
                        $crate::store::chats::Written,
                    >,
                >,
            ) {
                use $crate::store::chats::BatchFailure;
                let mut refused: Vec<Option<$crate::error::AppError>> =
                    std::iter::repeat_with(|| None).take(batch.len()).collect();
                let committed = loop {
                    match self.try_message_batch(&batch, &refused).await {
                        Ok(done) => break Ok(done),
                        Err(BatchFailure::Message(i, err)) => refused[i] = Some(err),
                        Err(BatchFailure::Transaction(err)) => break Err(err),
                    }
                };
                match committed {
                    Ok((written, appended)) => {
                        self.published(&appended);
                        let mut written = written.into_iter();
                        for (pending, refused) in batch.into_iter().zip(refused) {
                            pending.answer(match refused {
                                Some(err) => Err(err),
                                None => written.next().ok_or_else(|| {
                                    $crate::error::AppError::Internal(
                                        "a batch lost track of a message".into(),
                                    )
                                }),
                            });
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, writes = batch.len(), "a message batch failed");
                        for pending in batch {
                            pending.answer(Err($crate::error::AppError::Internal(format!(
                                "the message was not saved: {err}"
                            ))));
                        }
                    }
                }
            }

            /// One attempt at a batch, leaving out the refused messages: what each message
            /// did, in order, and the events appended; dropping the transaction on a
            /// failure rolls all of it back.
            async fn try_message_batch(
                &self,
                batch: &[$crate::store::group_commit::Pending<
                    $crate::store::chats::MessageRequest,
                    $crate::store::chats::Written,
                >],
                refused: &[Option<$crate::error::AppError>],
            ) -> std::result::Result<
                (Vec<$crate::store::chats::Written>, Vec<$crate::events::Event>),
                $crate::store::chats::BatchFailure,
            > {
                use $crate::store::chats::BatchFailure;
                let mut tx = self
                    .writer()
                    .begin()
                    .await
                    .map_err(|e| BatchFailure::Transaction(e.into()))?;
                let mut written = Vec::with_capacity(batch.len());
                let mut appended = Vec::new();
                for (i, pending) in batch.iter().enumerate() {
                    if refused[i].is_some() {
                        continue;
                    }
                    let (outcome, events) =
                        Self::insert_chat_message_in_tx(&mut tx, &pending.request)
                            .await
                            .map_err(|err| BatchFailure::Message(i, err))?;
                    written.push(outcome);
                    appended.extend(events);
                }
                tx.commit()
                    .await
                    .map_err(|e| BatchFailure::Transaction(e.into()))?;
                Ok((written, appended))
            }

            async fn stale_chat(
                &self,
                id: uuid::Uuid,
            ) -> $crate::error::Result<Box<$crate::domain::chat::Chat>> {
                $crate::store::ChatStore::get_chat(self, id)
                    .await?
                    .map(Box::new)
                    .ok_or_else(|| $crate::error::AppError::NotFound(format!("no chat {id}")))
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::ChatStore for $store {
            async fn insert_chat(
                &self,
                chat: &$crate::domain::chat::Chat,
                token_hash: &str,
                token_expires_at: chrono::DateTime<chrono::Utc>,
                events: &[$crate::events::NewEvent],
            ) -> $crate::error::Result<()> {
                let body = serde_json::to_string(chat)?;
                let mut tx = self.writer().begin().await?;
                $crate::store::chats::bind_chat!(
                    sqlx::query($crate::store::chats::CHAT_INSERT),
                    chat,
                    &body
                )
                .bind(token_hash)
                .bind(token_expires_at)
                .execute(&mut *tx)
                .await?;
                self.commit_with_events(tx, events, chat.opened_at).await?;
                Ok(())
            }

            async fn update_chat(
                &self,
                next: &$crate::domain::chat::Chat,
                new_entry: Option<&$crate::domain::entry::Entry>,
                token_expires_at: Option<chrono::DateTime<chrono::Utc>>,
                events: &[$crate::events::NewEvent],
                at: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<$crate::store::Updated<$crate::domain::chat::Chat>> {
                let mut tx = self.writer().begin().await?;
                if let Some(entry) = new_entry {
                    // The entry's id is fresh; a clash would be a bug, not a retry.
                    if !Self::insert_entry_in_tx(&mut tx, entry).await? {
                        return Err($crate::error::AppError::Internal(
                            "a chat's new entry id was already used".into(),
                        ));
                    }
                }
                if !Self::update_chat_in_tx(&mut tx, next, token_expires_at).await? {
                    tx.rollback().await?;
                    return Ok($crate::store::Updated::Stale(self.stale_chat(next.id).await?));
                }
                self.commit_with_events(tx, events, at).await?;
                Ok($crate::store::Updated::Saved)
            }

            async fn get_chat(
                &self,
                id: uuid::Uuid,
            ) -> $crate::error::Result<Option<$crate::domain::chat::Chat>> {
                let body: Option<String> = sqlx::query_scalar("SELECT body FROM chats WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
            }

            async fn chat_by_token(
                &self,
                token_hash: &str,
            ) -> $crate::error::Result<
                Option<($crate::domain::chat::Chat, chrono::DateTime<chrono::Utc>)>,
            > {
                let row: Option<(String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
                    "SELECT body, token_expires_at FROM chats WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(self.reader())
                .await?;
                row.map(|(body, expires)| Ok((serde_json::from_str(&body)?, expires)))
                    .transpose()
            }

            async fn list_chats(
                &self,
                filter: &$crate::store::ChatFilter,
            ) -> $crate::error::Result<Vec<$crate::domain::chat::Chat>> {
                let mut query = sqlx::QueryBuilder::<$db>::new("SELECT body FROM chats WHERE TRUE");
                if !filter.states.is_empty() {
                    query.push(" AND state IN (");
                    let mut states = query.separated(", ");
                    for state in &filter.states {
                        states.push_bind(state.as_str());
                    }
                    query.push(")");
                }
                if let Some(worker) = filter.worker {
                    query.push(" AND worker_id = ").push_bind(worker);
                }
                if let Some(before) = filter.idle_before {
                    query
                        .push(" AND state = 'active' AND last_activity_at < ")
                        .push_bind(before);
                }
                if let Some(before) = filter.token_expired_before {
                    query
                        .push(" AND state <> 'ended' AND token_expires_at < ")
                        .push_bind(before);
                }
                if let Some(before) = filter.unpurged_ended_before {
                    query
                        .push(" AND state = 'ended' AND purged_at IS NULL AND ended_at < ")
                        .push_bind(before);
                }
                query
                    .push($crate::store::chats::CHAT_ORDER)
                    .push(" LIMIT ")
                    .push_bind(filter.limit);
                $crate::store::sql::decode_bodies(query.build_query_as().fetch_all(self.reader()).await?)
            }

            async fn queue_position(
                &self,
                chat: &$crate::domain::chat::Chat,
            ) -> $crate::error::Result<i64> {
                let ahead: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM chats WHERE state = 'queued' AND (risk_rank < $1 \
                     OR (risk_rank = $1 AND (opened_at < $2 OR (opened_at = $2 AND id < $3))))",
                )
                .bind(chat.risk.level.rank())
                .bind(chat.opened_at)
                .bind(chat.id)
                .fetch_one(self.reader())
                .await?;
                Ok(ahead + 1)
            }

            async fn queue_length(&self) -> $crate::error::Result<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM chats WHERE state = 'queued'")
                    .fetch_one(self.reader())
                    .await?)
            }

            async fn recent_waits(
                &self,
                since: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<Vec<chrono::Duration>> {
                let rows: Vec<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> =
                    sqlx::query_as(
                        "SELECT opened_at, accepted_at FROM chats WHERE accepted_at >= $1",
                    )
                    .bind(since)
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows.into_iter().map(|(opened, accepted)| accepted - opened).collect())
            }

            async fn insert_chat_message(
                &self,
                next: &$crate::domain::chat::Chat,
                message: &$crate::domain::chat::NewMessage,
                events: &[$crate::events::NewEvent],
            ) -> $crate::error::Result<$crate::store::MessageWrite> {
                use $crate::store::chats::Written;
                let request = $crate::store::chats::MessageRequest {
                    next: next.clone(),
                    message: message.clone(),
                    events: events.to_vec(),
                };
                // One chat's messages share a lane, so two lanes never wait on each
                // other's lock of one chat row. Two of them in one batch: the second finds
                // the chat changed (stale) and is decided again.
                let lane = next.id.as_u128() as u64;
                let written = self
                    .messages
                    .submit(lane, request, |batch| self.write_message_batch(batch))
                    .await?;
                Ok(match written {
                    Written::Created(message) => $crate::store::MessageWrite::Created(message),
                    Written::Existing(message) => $crate::store::MessageWrite::Existing(message),
                    Written::Stale => {
                        $crate::store::MessageWrite::Stale(self.stale_chat(next.id).await?)
                    }
                })
            }

            async fn chat_messages(
                &self,
                chat: uuid::Uuid,
            ) -> $crate::error::Result<Vec<$crate::domain::chat::ChatMessage>> {
                let rows: Vec<$crate::store::chats::MessageRow> = sqlx::query_as(&format!(
                    "{} WHERE m.chat_id = $1 ORDER BY m.seq",
                    $crate::store::chats::MESSAGE_SELECT
                ))
                .bind(chat)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn purge_chat_transcript(
                &self,
                next: &$crate::domain::chat::Chat,
            ) -> $crate::error::Result<$crate::store::Updated<$crate::domain::chat::Chat>> {
                let mut tx = self.writer().begin().await?;
                if !Self::update_chat_in_tx(&mut tx, next, None).await? {
                    tx.rollback().await?;
                    return Ok($crate::store::Updated::Stale(self.stale_chat(next.id).await?));
                }
                sqlx::query("UPDATE chat_messages SET body = NULL WHERE chat_id = $1")
                    .bind(next.id)
                    .execute(&mut *tx)
                    .await?;
                // The stream held the same words; only the chat's own stream is ever
                // deleted from (the desk and team streams are append-only).
                sqlx::query("DELETE FROM events WHERE stream = $1")
                    .bind(next.stream().to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.scrub_freed().await?;
                Ok($crate::store::Updated::Saved)
            }
        }
    };
}

pub(crate) use impl_chat_store;
