//! The embedded default: one SQLite file in WAL mode.
//!
//! All writes go through a pool of exactly one connection. SQLite allows one writer at a
//! time anyway; queueing in the pool instead of racing for the lock means no `SQLITE_BUSY`
//! under load, and a transaction's reads and writes see one consistent snapshot. Readers
//! use their own read-only pool and never wait for the writer (WAL). `synchronous=FULL`
//! makes every commit durable before it is acknowledged.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{AppError, Result};
use crate::events::Hub;
use crate::store::Backend;
use crate::store::chats::MessageCommits;
use crate::store::group_commit::GroupCommit;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    hub: Hub,
    /// Chat messages share commits (one lane: there is one writer connection).
    messages: MessageCommits,
    /// The database file: readiness fails when it is gone from under the open connections
    /// (a lost volume), which the connections themselves would not notice.
    file: std::path::PathBuf,
}

/// Connection options every SQLite file of the project uses (also the shelter register).
pub fn connect_options(url: &str) -> Result<SqliteConnectOptions> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(AppError::Config(
            "an in-memory SQLite database would lose every entry on restart; give a file path"
                .into(),
        ));
    }
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // Deleted and overwritten content is zeroed, not left in free pages: a purged chat
        // transcript must not be recoverable from the file.
        .pragma("secure_delete", "ON")
        .busy_timeout(Duration::from_secs(10)))
}

impl SqliteStore {
    pub async fn open(url: &str, hub: Hub) -> Result<Self> {
        let options = connect_options(url)?;
        let file = options.get_filename().to_path_buf();
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteStore {
            writer,
            reader,
            hub,
            messages: GroupCommit::new(1),
            file,
        })
    }

    /// After a commit: wake the subscribers (all of them are in this process).
    fn published(&self, events: &[crate::events::Event]) {
        self.hub.publish(events);
    }

    /// One process owns the file, so there is no other instance to hear from.
    fn start_fanout_tasks(
        &self,
        _every: Duration,
        _signals: crate::events::Signals,
        _shutdown: tokio_util::sync::CancellationToken,
    ) {
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// The single writer connection already serialises the access log's chain.
    async fn lock_access_chain(_tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> Result<()> {
        Ok(())
    }

    fn still_there(&self) -> Result<()> {
        if self.file.is_file() {
            Ok(())
        } else {
            Err(AppError::Internal(format!(
                "the database file {} is gone",
                self.file.display()
            )))
        }
    }

    /// Connections in the two pools, and how many of them are idle (for `/metrics`).
    fn pools(&self) -> [(&'static str, u32, usize); 2] {
        [
            ("writer", self.writer.size(), self.writer.num_idle()),
            ("reader", self.reader.size(), self.reader.num_idle()),
        ]
    }

    /// After a purge: copies the WAL into the file and empties it, so the old page images
    /// holding the purged words leave the WAL too (best effort while readers are active;
    /// the next purge tries again).
    async fn scrub_freed(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

super::sql::impl_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
super::chats::impl_chat_store!(SqliteStore, sqlx::Sqlite);
super::calls::impl_call_store!(SqliteStore, sqlx::Sqlite);
super::referrals::impl_referral_store!(SqliteStore, sqlx::Sqlite);
super::reports::impl_report_store!(SqliteStore, sqlx::Sqlite);
super::retention::impl_retention_store!(SqliteStore, sqlx::Sqlite);
