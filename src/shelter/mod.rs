//! The shelter's register (THL is its controller): a database of its own, never the
//! county's. Its tables arrive with the shelter intake; from the start it has its own URL
//! (`PAIVYSTYS_SHELTER_DATABASE_URL`) and its own connection, so nothing of the register
//! can be written to the county's database by accident.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{PgPool, SqlitePool};

use crate::error::{AppError, Result};
use crate::store::sqlite::connect_options;

pub enum Register {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Register {
    pub async fn open(url: &str) -> Result<Register> {
        if url.starts_with("sqlite:") {
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(connect_options(url)?)
                .await?;
            Ok(Register::Sqlite(pool))
        } else if url.starts_with("postgres") {
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .connect_with(PgConnectOptions::from_str(url)?)
                .await?;
            Ok(Register::Postgres(pool))
        } else {
            Err(AppError::Config(
                "the shelter database URL must be sqlite:// or postgres://".into(),
            ))
        }
    }

    pub async fn ping(&self) -> Result<()> {
        match self {
            Register::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Register::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }?;
        Ok(())
    }
}
