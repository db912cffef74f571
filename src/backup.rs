//! `paivystys backup --to DIR`: consistent copies of the SQLite databases while the server
//! runs and writes.
//!
//! `VACUUM INTO` reads the database in one read transaction, so the copy holds exactly the
//! commits made before it began, never half of one, and the server's writers are not held
//! up (WAL). The copy is a plain, compact database file that a server can open as it is.
//! A PostgreSQL database is refused with a pointer to `pg_dump`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use crate::config::Settings;
use crate::error::{AppError, Result};

/// Copies the county's database and the shelter register (when it is hosted here) into
/// `dir`, which must not exist yet or be empty. Returns each copy and its source.
pub async fn to_directory(settings: &Settings, dir: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut sources = vec![("paivystys.db", settings.database_url.clone())];
    if settings.shelter.remote_url.is_none() {
        sources.push(("paivystys-shelter.db", settings.effective_shelter_url()));
    }
    if let Some((_, url)) = sources.iter().find(|(_, url)| !url.starts_with("sqlite:")) {
        return Err(AppError::Config(format!(
            "{} is PostgreSQL: back it up with pg_dump (docs/OPERATIONS.md, \"Backup\")",
            crate::store::redact_url(url)
        )));
    }
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(AppError::Config(format!(
            "{} is not empty; back up into a new directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir)?;
    let mut copies = Vec::new();
    for (file, url) in sources {
        let target = dir.join(file);
        copy_sqlite(&url, &target).await?;
        copies.push((target, url));
    }
    Ok(copies)
}

async fn copy_sqlite(url: &str, target: &Path) -> Result<()> {
    let path = crate::config::sqlite_file(url).unwrap_or(Path::new(url));
    if !path.exists() {
        return Err(AppError::Config(format!(
            "no database file at {}",
            path.display()
        )));
    }
    let mut conn = SqliteConnectOptions::from_str(url)?
        .read_only(true)
        .connect()
        .await?;
    let target = target
        .to_str()
        .ok_or_else(|| AppError::Config("the backup path must be valid UTF-8".into()))?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut conn)
        .await?;
    Ok(())
}
