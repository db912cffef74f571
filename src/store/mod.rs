//! Persistence: one `Store` trait, a SQLite and a PostgreSQL implementation chosen once from
//! the URL scheme, and the records that cross the boundary.
//!
//! Both implementations share their SQL (`sql.rs`); only connection setup and migrations
//! differ. Every write that changes state appends its events in the same transaction and
//! hands them to the hub after the commit, so a websocket never carries uncommitted state.

mod calls;
mod chats;
mod group_commit;
mod pg_fanout;
pub mod postgres;
mod referrals;
mod reports;
mod retention;
mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::domain::account::{NewUser, Team, User};
use crate::domain::entry::{Change, Entry, EntryFilter, Person, Revision};
use crate::domain::handover::Handover;
use crate::error::{AppError, Result};
use crate::events::{Event, Hub, NewEvent};
pub use calls::CallStore;
pub use chats::{ChatFilter, ChatStore, MessageWrite};
pub use referrals::ReferralStore;
pub use reports::{AdditionWrite, ReportStore, ReportWrite};
pub use retention::{PurgeRun, RetentionStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A login session, found by the hash of its cookie token.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: User,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    Read,
    Write,
    Export,
    Disclose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessResult {
    Allowed,
    Refused,
}

/// One row of the append-only access log: who did what to which record, when, why, and
/// whether it was allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AccessRecord {
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: String,
    pub role: String,
    pub action: AccessAction,
    /// e.g. `entry`, `handover`, `report`.
    pub record_type: String,
    pub record_id: String,
    pub purpose: Option<String>,
    pub result: AccessResult,
}

/// The outcome of inserting a record whose id the client chose.
#[derive(Debug)]
pub enum Inserted<T> {
    Created,
    /// The id was already used: a retried POST. Nothing was written.
    Existing(Box<T>),
}

/// The outcome of a compare-and-swap update.
#[derive(Debug)]
pub enum Updated<T> {
    Saved,
    /// Someone saved another version first; here is the current one. Nothing was written.
    Stale(Box<T>),
}

/// One database pool's connections, for `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUse {
    pub pool: &'static str,
    pub open: u32,
    pub idle: usize,
}

/// Pending handovers of one team, and how many of them are past due.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingHandovers {
    pub team: String,
    pub pending: i64,
    pub overdue: i64,
}

/// Which handovers to list.
#[derive(Debug, Clone, Default)]
pub struct HandoverFilter {
    pub team: Option<String>,
    pub entry: Option<uuid::Uuid>,
    /// Only pending, acknowledged and returned ones.
    pub open_only: bool,
    /// Only pending ones past this due time that are not yet marked overdue.
    pub unmarked_overdue_at: Option<DateTime<Utc>>,
    /// Only those handed over at or after this instant.
    pub created_since: Option<DateTime<Utc>>,
    /// Only pending ones overdue since this instant (or earlier) and not yet escalated.
    pub unescalated_overdue_since: Option<DateTime<Utc>>,
    pub limit: i64,
}

#[async_trait]
pub trait Store:
    ChatStore + CallStore + ReferralStore + ReportStore + RetentionStore + Send + Sync + 'static
{
    fn backend(&self) -> Backend;

    /// Starts carrying this instance's commits and moments (`signals`) to the other
    /// instances on the same database, and theirs to this instance (PostgreSQL: NOTIFY and
    /// LISTEN, with a catch-up from the table every `every`). Nothing on SQLite, which is
    /// one process. The tasks end with `shutdown`.
    fn start_fanout(
        &self,
        every: std::time::Duration,
        signals: crate::events::Signals,
        shutdown: CancellationToken,
    );

    /// Cheap round trip, for readiness checks.
    async fn ping(&self) -> Result<()>;
    fn pool_use(&self) -> Vec<PoolUse>;

    // Teams and accounts.
    async fn upsert_team(&self, team: &Team) -> Result<()>;
    async fn list_teams(&self) -> Result<Vec<Team>>;
    async fn get_team(&self, key: &str) -> Result<Option<Team>>;
    /// Fails with `Conflict` when the username is taken.
    async fn create_user(&self, user: &NewUser, at: DateTime<Utc>) -> Result<User>;
    /// Returns false when no such user exists.
    async fn set_password(&self, username: &str, password_hash: &str) -> Result<bool>;
    /// The active leads of a team.
    async fn team_leads(&self, team: &str) -> Result<Vec<User>>;
    /// A system account (`web-form`, `phone-system`): the author of what arrives from
    /// outside without a person logged in.
    async fn system_account(&self, username: &str) -> Result<Person>;
    /// The active user and their password hash, for login.
    async fn find_credentials(&self, username: &str) -> Result<Option<(User, String)>>;

    // Sessions.
    async fn create_session(&self, session: &NewSession) -> Result<()>;
    /// The session and its (active) user, expired or not: the caller decides.
    async fn find_session(&self, token_hash: &str) -> Result<Option<SessionRecord>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64>;

    // Events.
    /// Appends events in one transaction, numbering each stream from its counter row, and
    /// publishes them to the hub after the commit.
    async fn append_events(&self, events: &[NewEvent], at: DateTime<Utc>) -> Result<Vec<Event>>;
    /// Up to `limit` events of `stream` with `seq > since`, in order.
    async fn events_since(&self, stream: &str, since: i64, limit: i64) -> Result<Vec<Event>>;
    /// The last sequence number of `stream` (0 when it has none).
    async fn stream_head(&self, stream: &str) -> Result<i64>;

    // Entries (the live log). Each write stores the new version, keeps it as a revision
    // and appends the given events, in one transaction.
    async fn insert_entry(&self, entry: &Entry, events: &[NewEvent]) -> Result<Inserted<Entry>>;
    /// Saves `next` only if the stored version is `next.version - 1`.
    async fn update_entry(
        &self,
        next: &Entry,
        change: Change,
        by: &Person,
        events: &[NewEvent],
    ) -> Result<Updated<Entry>>;
    async fn get_entry(&self, id: uuid::Uuid) -> Result<Option<Entry>>;
    /// Most urgent first, then newest.
    async fn list_entries(&self, filter: &EntryFilter) -> Result<Vec<Entry>>;
    /// Every kept version, oldest first.
    async fn entry_revisions(&self, id: uuid::Uuid) -> Result<Vec<Revision>>;
    /// Entries about a named person, newest first (for a client's access-log report).
    async fn identified_entries(&self, limit: i64) -> Result<Vec<Entry>>;

    // Handovers. Like entries: JSON body plus the columns the inbox and timers need.
    async fn insert_handover(
        &self,
        handover: &Handover,
        events: &[NewEvent],
    ) -> Result<Inserted<Handover>>;
    /// Saves `next` if the stored version is `next.version - 1`, and inserts `created` (the
    /// receiving team's copy of a forward) in the same transaction.
    async fn update_handover(
        &self,
        next: &Handover,
        created: Option<&Handover>,
        events: &[NewEvent],
        at: DateTime<Utc>,
    ) -> Result<Updated<Handover>>;
    async fn get_handover(&self, id: uuid::Uuid) -> Result<Option<Handover>>;
    /// Open ones first by due time, then the rest newest first.
    async fn list_handovers(&self, filter: &HandoverFilter) -> Result<Vec<Handover>>;
    /// Per team: pending handovers and those of them due before `now`.
    async fn pending_handovers(&self, now: DateTime<Utc>) -> Result<Vec<PendingHandovers>>;

    // Access log (append-only; the tables refuse UPDATE and DELETE; each row is chained to
    // the one before by its hash, see `domain::audit`).
    async fn record_access(&self, record: &AccessRecord) -> Result<()>;
    /// Rows after `after_id` in id order, with their links, for verifying the chain.
    async fn access_chain_page(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<crate::domain::audit::ChainRow>>;
    /// Every row about any of `record_ids` (whatever the record type), in the period.
    async fn access_log_of(
        &self,
        record_ids: &[String],
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<AccessRecord>>;
    async fn access_log_for(&self, record_type: &str, record_id: &str)
    -> Result<Vec<AccessRecord>>;
}

/// Opens (and migrates) the store the URL names.
pub async fn open(url: &str, hub: Hub) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url, hub).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(url, hub).await?))
    } else {
        Err(AppError::Config(format!(
            "unsupported database URL scheme in {:?}; use sqlite:// or postgres://",
            redact_url(url)
        )))
    }
}

/// A URL with any password replaced, for log lines and errors.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
