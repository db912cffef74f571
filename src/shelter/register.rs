//! The register's tables on SQLite or PostgreSQL: one trait, the SQL written once and
//! stamped onto both pool types (as `store/sql.rs` does for the county's database).

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{PgPool, SqlitePool};
use uuid::Uuid;

use crate::domain::shelter::TurnedAway;
use crate::error::{AppError, Result};
use crate::store::sqlite::connect_options;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/shelter/sqlite");
static PG_MIGRATOR: Migrator = sqlx::migrate!("./migrations/shelter/postgres");

/// A stay as stored: the listed fields as JSON, the secrets sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredStay {
    pub id: Uuid,
    pub version: i64,
    pub arrived_at: DateTime<Utc>,
    pub departed_at: Option<DateTime<Utc>>,
    pub body: String,
    pub notes_enc: String,
    pub identity_enc: Option<String>,
}

/// A referral as the register keeps it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredReferral {
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub arrived_at: Option<DateTime<Utc>>,
}

/// Which stays to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StayFilter {
    Current,
    Departed,
    All,
    /// Stays with any time between these instants (for a year's statistics).
    Overlapping(DateTime<Utc>, DateTime<Utc>),
}

#[async_trait]
pub trait RegisterStore: Send + Sync {
    async fn ping(&self) -> Result<()>;
    /// Inserts a stay; with `redeem`, only if that referral code (by hash) is issued and
    /// unexpired at `at`, marking it arrived in the same transaction. `false`: the code
    /// was not valid, and nothing was written.
    async fn insert_stay(
        &self,
        stay: &StoredStay,
        redeem: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Compare-and-swap on `version - 1`; `false` when someone saved first.
    async fn update_stay(&self, stay: &StoredStay) -> Result<bool>;
    async fn get_stay(&self, id: Uuid) -> Result<Option<StoredStay>>;
    async fn list_stays(&self, filter: StayFilter) -> Result<Vec<StoredStay>>;
    /// `false` when the code's hash is already taken (draw another code).
    async fn insert_referral(
        &self,
        code_hash: &str,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool>;
    async fn referral(&self, code_hash: &str) -> Result<Option<StoredReferral>>;
    async fn insert_turned_away(&self, day: &TurnedAway, at: DateTime<Utc>) -> Result<()>;
    async fn turned_away(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<TurnedAway>>;
}

/// Opens (and migrates) the register the URL names.
pub async fn open(url: &str) -> Result<Arc<dyn RegisterStore>> {
    if url.starts_with("sqlite:") {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect_options(url)?)
            .await?;
        SQLITE_MIGRATOR.run(&pool).await?;
        Ok(Arc::new(SqliteRegister { pool }))
    } else if url.starts_with("postgres") {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(PgConnectOptions::from_str(url)?)
            .await?;
        PG_MIGRATOR.run(&pool).await?;
        Ok(Arc::new(PgRegister { pool }))
    } else {
        Err(AppError::Config(
            "the shelter database URL must be sqlite:// or postgres://".into(),
        ))
    }
}

pub struct SqliteRegister {
    pool: SqlitePool,
}

pub struct PgRegister {
    pool: PgPool,
}

#[derive(sqlx::FromRow)]
struct TurnedAwayRow {
    day: NaiveDate,
    adults: i64,
    children: i64,
}

const STAY_COLUMNS: &str = "id, version, arrived_at, departed_at, body, notes_enc, identity_enc";

macro_rules! impl_register {
    ($register:ty, $db:ty) => {
        #[async_trait]
        impl RegisterStore for $register {
            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn insert_stay(
                &self,
                stay: &StoredStay,
                redeem: Option<&str>,
                at: DateTime<Utc>,
            ) -> Result<bool> {
                let mut tx = self.pool.begin().await?;
                if let Some(code_hash) = redeem {
                    let redeemed = sqlx::query(
                        "UPDATE referrals SET arrived_at = $1 \
                         WHERE code_hash = $2 AND arrived_at IS NULL AND expires_at > $1",
                    )
                    .bind(at)
                    .bind(code_hash)
                    .execute(&mut *tx)
                    .await?;
                    if redeemed.rows_affected() != 1 {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                }
                sqlx::query(
                    "INSERT INTO stays (id, version, arrived_at, departed_at, body, notes_enc, \
                     identity_enc) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(stay.id)
                .bind(stay.version)
                .bind(stay.arrived_at)
                .bind(stay.departed_at)
                .bind(&stay.body)
                .bind(&stay.notes_enc)
                .bind(&stay.identity_enc)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn update_stay(&self, stay: &StoredStay) -> Result<bool> {
                let saved = sqlx::query(
                    "UPDATE stays SET version = $2, arrived_at = $3, departed_at = $4, body = $5, \
                     notes_enc = $6, identity_enc = $7 WHERE id = $1 AND version = $8",
                )
                .bind(stay.id)
                .bind(stay.version)
                .bind(stay.arrived_at)
                .bind(stay.departed_at)
                .bind(&stay.body)
                .bind(&stay.notes_enc)
                .bind(&stay.identity_enc)
                .bind(stay.version - 1)
                .execute(&self.pool)
                .await?;
                Ok(saved.rows_affected() == 1)
            }

            async fn get_stay(&self, id: Uuid) -> Result<Option<StoredStay>> {
                Ok(
                    sqlx::query_as(&format!("SELECT {STAY_COLUMNS} FROM stays WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?,
                )
            }

            async fn list_stays(&self, filter: StayFilter) -> Result<Vec<StoredStay>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(format!(
                    "SELECT {STAY_COLUMNS} FROM stays WHERE "
                ));
                match filter {
                    StayFilter::Current => query.push("departed_at IS NULL"),
                    StayFilter::Departed => query.push("departed_at IS NOT NULL"),
                    StayFilter::All => query.push("TRUE"),
                    StayFilter::Overlapping(from, to) => query
                        .push("arrived_at < ")
                        .push_bind(to)
                        .push(" AND (departed_at IS NULL OR departed_at >= ")
                        .push_bind(from)
                        .push(")"),
                };
                query.push(" ORDER BY arrived_at DESC");
                Ok(query.build_query_as().fetch_all(&self.pool).await?)
            }

            async fn insert_referral(
                &self,
                code_hash: &str,
                issued_at: DateTime<Utc>,
                expires_at: DateTime<Utc>,
            ) -> Result<bool> {
                let inserted = sqlx::query(
                    "INSERT INTO referrals (code_hash, issued_at, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (code_hash) DO NOTHING",
                )
                .bind(code_hash)
                .bind(issued_at)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(inserted.rows_affected() == 1)
            }

            async fn referral(&self, code_hash: &str) -> Result<Option<StoredReferral>> {
                Ok(sqlx::query_as(
                    "SELECT issued_at, expires_at, arrived_at FROM referrals WHERE code_hash = $1",
                )
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn insert_turned_away(&self, day: &TurnedAway, at: DateTime<Utc>) -> Result<()> {
                sqlx::query(
                    "INSERT INTO turned_away (day, adults, children, recorded_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(day.date)
                .bind(day.adults)
                .bind(day.children)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn turned_away(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<TurnedAway>> {
                let rows: Vec<TurnedAwayRow> = sqlx::query_as(
                    "SELECT day, adults, children FROM turned_away \
                     WHERE day >= $1 AND day <= $2 ORDER BY day, id",
                )
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| TurnedAway {
                        date: r.day,
                        adults: r.adults,
                        children: r.children,
                    })
                    .collect())
            }
        }
    };
}

impl_register!(SqliteRegister, sqlx::Sqlite);
impl_register!(PgRegister, sqlx::Postgres);
