//! PostgreSQL, for several instances behind a load balancer. One pool serves reads and
//! writes; the per-stream counter row's lock orders concurrent writers; `pg_fanout`
//! carries each instance's commits to the others.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::error::Result;
use tokio_util::sync::CancellationToken;

use crate::events::{Event, Hub, Signals};
use crate::store::Backend;
use crate::store::chats::MessageCommits;
use crate::store::group_commit::GroupCommit;
use crate::store::pg_fanout::{self, Relay};

/// Lanes of chat-message group commits: one per pooled connection. PostgreSQL already
/// overlaps the commits of its connections, so fewer lanes measured slower (see
/// docs/BENCHMARKS.md); the batches still save a BEGIN and COMMIT round trip per message.
const MESSAGE_LANES: usize = 16;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    pool: PgPool,
    hub: Hub,
    /// Chat messages share commits, in several lanes: PostgreSQL overlaps the commits of
    /// different connections, so one lane would waste the pool.
    messages: MessageCommits,
    /// Pointers to this instance's commits, for the other instances (`pg_fanout`).
    relay: Arc<Relay>,
    /// The NOTIFY channel of this database schema.
    channel: String,
}

impl PgStore {
    pub async fn open(url: &str, hub: Hub) -> Result<Self> {
        Self::open_with(PgConnectOptions::from_str(url)?, hub).await
    }

    /// Opens with explicit options, e.g. a `search_path` naming a schema of its own.
    pub async fn open_with(options: PgConnectOptions, hub: Hub) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let channel = pg_fanout::channel_name(&pool).await?;
        Ok(PgStore {
            pool,
            hub,
            messages: GroupCommit::new(MESSAGE_LANES),
            relay: Arc::new(Relay::new()),
            channel,
        })
    }

    /// After a commit: wake this instance's subscribers and tell the other instances.
    fn published(&self, events: &[Event]) {
        self.hub.publish(events);
        self.relay.committed(events);
    }

    fn start_fanout_tasks(&self, every: Duration, signals: Signals, shutdown: CancellationToken) {
        pg_fanout::start(
            pg_fanout::Fanout {
                pool: self.pool.clone(),
                hub: self.hub.clone(),
                relay: Arc::clone(&self.relay),
                channel: self.channel.clone(),
                signals,
                every,
            },
            shutdown,
        );
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    /// After a purge: nothing to do here. The old row versions stay in the table's pages
    /// until (auto)vacuum reclaims them; the operations guide covers vacuuming.
    async fn scrub_freed(&self) -> Result<()> {
        Ok(())
    }

    /// Several connections (and instances) write the access log: a transaction-scoped
    /// advisory lock lets one at a time read the chain's last hash and extend it.
    async fn lock_access_chain(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<()> {
        // The key is arbitrary but fixed: "PAIV" as a number.
        sqlx::query("SELECT pg_advisory_xact_lock(1346455894)")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// The server's own checks (the `streams` query of `ping`) tell whether it is there.
    fn still_there(&self) -> Result<()> {
        Ok(())
    }

    /// Connections in the pool, and how many of them are idle (for `/metrics`).
    fn pools(&self) -> [(&'static str, u32, usize); 1] {
        [("main", self.pool.size(), self.pool.num_idle())]
    }
}

super::sql::impl_store!(PgStore, sqlx::Postgres, Backend::Postgres);
super::chats::impl_chat_store!(PgStore, sqlx::Postgres);
super::calls::impl_call_store!(PgStore, sqlx::Postgres);
super::referrals::impl_referral_store!(PgStore, sqlx::Postgres);
super::reports::impl_report_store!(PgStore, sqlx::Postgres);
super::retention::impl_retention_store!(PgStore, sqlx::Postgres);
