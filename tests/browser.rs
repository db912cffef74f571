//! The end-to-end browser suite (`e2e/`, Node's test runner driving Debian's Chromium with
//! playwright-core) against the real binary, on SQLite and on PostgreSQL.
//!
//! Needs `npm ci --prefix e2e` and `/usr/bin/chromium` (`.ci/run` installs both). Outside
//! CI, a machine without them skips these two tests with a message; in CI they fail.

use std::path::Path;
use std::process::Command;

fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn ready() -> bool {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let missing: Vec<&str> = [
        (
            root.join("e2e/node_modules/playwright-core").exists(),
            "npm ci --prefix e2e",
        ),
        (
            Path::new(&std::env::var("CHROMIUM_PATH").unwrap_or("/usr/bin/chromium".into()))
                .exists(),
            "apt-get install chromium",
        ),
        (
            Command::new("node").arg("--version").output().is_ok(),
            "Node.js",
        ),
    ]
    .into_iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, what)| what)
    .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(!required(), "browser tests need: {}", missing.join(", "));
    println!("SKIPPED: browser tests need {}", missing.join(", "));
    false
}

/// Runs the suite's files (`tests/` for all) against a server each file starts.
fn run_suite(files: &str, database_url: Option<&str>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new("node");
    command
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .arg(files)
        .current_dir(root.join("e2e"))
        .env("PAIVYSTYS_BIN", env!("CARGO_BIN_EXE_paivystys"));
    if let Some(url) = database_url {
        command.env("PAIVYSTYS_E2E_DATABASE_URL", url);
    }
    let out = command.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser suite failed:\n{stdout}");
}

#[test]
fn console_in_chromium_on_sqlite() {
    if ready() {
        // Each file's server makes its own SQLite file.
        run_suite("tests/", None);
    }
}

#[tokio::test]
async fn console_in_chromium_on_postgres() {
    if !ready() {
        return;
    }
    use sqlx::Connection;
    let admin_url = std::env::var("PAIVYSTYS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(conn) => conn,
        Err(err) if !required() => {
            println!("SKIPPED: PostgreSQL not reachable at {admin_url}: {err}");
            return;
        }
        Err(err) => panic!("PostgreSQL required: {err}"),
    };
    // A fresh database per file, as on SQLite: one file's chats must not wait in the next
    // file's queue.
    let mut files: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/tests"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".test.mjs"))
            .collect();
    files.sort();
    for file in files {
        let name = format!("e2e_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        let result =
            std::panic::catch_unwind(|| run_suite(&format!("tests/{file}"), Some(url.as_str())));
        let _ = sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }
}
