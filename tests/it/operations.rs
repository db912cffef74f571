//! What operators rely on: health, readiness, metrics, request ids, the OpenAPI document
//! and layered configuration.

use std::process::Command;

use paivystys::domain::roles::Role;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    metrics_count_requests_sockets_and_events,
    metrics_show_handovers_pending_and_overdue_and_the_pools,
    readiness_fails_when_the_database_is_gone,
);

/// What a county's Grafana board plots: pending and overdue handovers per team, the chat
/// queue, reports received, and how busy the database pools are.
async fn metrics_show_handovers_pending_and_overdue_and_the_pools(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let (status, entry) = worker
        .send_json(
            reqwest::Method::POST,
            "/api/v1/entries",
            serde_json::json!({"channel": "phone_in", "category": "child_welfare",
                "urgency": "normal", "summary": "Huoli lapsesta",
                "subject": {"anonymous": true, "alias": "Soittaja"}}),
        )
        .await;
    assert_eq!(status, 201);
    for note in ["Ensimmäinen", "Toinen"] {
        let (status, _) = worker
            .send_json(
                reqwest::Method::POST,
                &format!(
                    "/api/v1/entries/{}/handovers",
                    entry["id"].as_str().unwrap()
                ),
                serde_json::json!({"team": "child_welfare", "note": note}),
            )
            .await;
        assert_eq!(status, 201);
    }
    let scrape = || async {
        reqwest::get(app.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let text = scrape().await;
    assert!(
        text.contains("paivystys_handovers_pending{team=\"child_welfare\"} 2"),
        "{text}"
    );
    assert!(text.contains("paivystys_handovers_overdue{team=\"child_welfare\"} 0"));
    // A week later nobody has taken them: both are overdue.
    app.clock.advance(chrono::Duration::days(7));
    let text = scrape().await;
    assert!(
        text.contains("paivystys_handovers_overdue{team=\"child_welfare\"} 2"),
        "{text}"
    );
    let pool = match backend {
        Backend::Sqlite => "writer",
        Backend::Postgres => "main",
    };
    assert!(
        text.contains(&format!(
            "paivystys_db_connections{{pool=\"{pool}\",state=\"idle\"}}"
        )),
        "{text}"
    );
    for family in [
        "paivystys_chat_queue_length",
        "paivystys_reports_received_total",
    ] {
        assert!(text.contains(family), "{family} missing");
    }
}

/// A load balancer takes an instance out of rotation on 503: when the SQLite file is gone
/// from under the server, or the PostgreSQL schema is.
async fn readiness_fails_when_the_database_is_gone(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    assert_eq!(
        reqwest::get(app.url("/readyz")).await.unwrap().status(),
        200
    );
    match backend {
        Backend::Sqlite => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", app.db.location));
            }
        }
        Backend::Postgres => {
            app.db
                .execute_raw(&format!("DROP SCHEMA {} CASCADE", app.db.location))
                .await
                .unwrap();
        }
    }
    let response = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(
        reqwest::get(app.url("/healthz")).await.unwrap().status(),
        200,
        "alive, only not ready"
    );
}

/// With `sslmode=require` the store's connections to PostgreSQL are encrypted.
#[tokio::test]
async fn postgres_connections_use_tls_when_the_url_asks() {
    use sqlx::Connection;
    let Some(db) = crate::helpers::TestDb::new(Backend::Postgres).await else {
        return;
    };
    let app_name = format!("paivystys-tls-{}", std::process::id());
    let mut url = url::Url::parse(&crate::helpers::postgres_url()).unwrap();
    url.query_pairs_mut()
        .append_pair("sslmode", "require")
        .append_pair("application_name", &app_name)
        .append_pair("options", &format!("-c search_path={}", db.location));
    let store = paivystys::store::open(url.as_str(), paivystys::Wiring::new(16).hub)
        .await
        .expect("opens over TLS");
    store.ping().await.unwrap();
    let mut admin = sqlx::PgConnection::connect(&crate::helpers::postgres_url())
        .await
        .unwrap();
    let encrypted: Vec<bool> = sqlx::query_scalar(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = $1",
    )
    .bind(&app_name)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!encrypted.is_empty(), "the store's connections are listed");
    assert!(encrypted.iter().all(|ssl| *ssl), "{encrypted:?}");
}

async fn metrics_count_requests_sockets_and_events(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let mut ws = worker.ws().await;
    ws.subscribe("desk", 0).await;
    assert_eq!(ws.next().await["type"], "subscribed");
    app.append("desk", 3).await;
    for _ in 0..3 {
        ws.next_event_seq().await;
    }
    let text = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "paivystys_http_requests_total{method=\"POST\",route=\"/api/v1/session\",status=\"200\"} 1",
        "paivystys_websocket_connections{role=\"oncall\"} 1",
        "paivystys_events_appended_total 3",
        "paivystys_events_delivered_total 3",
        "paivystys_stream_replays_total 1",
        "paivystys_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/session\"} 1",
    ] {
        assert!(text.contains(expected), "{expected} missing in\n{text}");
    }
    assert!(!text.contains("olli"), "no user data in metrics");
}

#[tokio::test]
async fn health_readiness_and_request_ids() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let health = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.headers()["x-request-id"].len(),
        36,
        "a UUID per request"
    );
    assert_eq!(
        reqwest::get(app.url("/readyz")).await.unwrap().status(),
        200
    );
    let given = reqwest::Client::new()
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        given.headers()["x-request-id"],
        "trace-me-123",
        "propagated"
    );
}

#[tokio::test]
async fn openapi_documents_every_route() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/session", "post"),
        ("/api/v1/session", "delete"),
        ("/api/v1/me", "get"),
        ("/api/v1/streams/{stream}/events", "get"),
        ("/api/v1/ws", "get"),
        ("/api/v1/public/chats", "post"),
        ("/api/v1/public/chats/{chat_id}/messages", "post"),
        ("/api/v1/chats", "get"),
        ("/api/v1/chats/{chat_id}/accept", "post"),
        ("/api/v1/chats/{chat_id}/messages", "post"),
        ("/api/v1/chats/{chat_id}/end", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} undocumented"
        );
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    // The chat client's token is a declared scheme, not a dangling name.
    assert_eq!(
        doc["components"]["securitySchemes"]["chat_token"]["scheme"],
        "bearer"
    );
}

/// Defaults < file < environment < flags, observed through which database file `migrate`
/// creates.
#[test]
fn settings_layer_file_under_environment_under_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("paivystys.toml"),
        "database_url = \"sqlite://from-file.db\"\n",
    )
    .unwrap();
    let migrate = |env: Option<&str>, flag: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_paivystys"));
        command.arg("migrate").current_dir(dir.path());
        command.env_remove("PAIVYSTYS_DATABASE_URL");
        if let Some(url) = env {
            command.env("PAIVYSTYS_DATABASE_URL", url);
        }
        if let Some(url) = flag {
            command.args(["--database", url]);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    migrate(None, None);
    assert!(dir.path().join("from-file.db").exists());
    migrate(Some("sqlite://from-env.db"), None);
    assert!(dir.path().join("from-env.db").exists());
    migrate(Some("sqlite://from-env.db"), Some("sqlite://from-flag.db"));
    assert!(dir.path().join("from-flag.db").exists());

    let bad = Command::new(env!("CARGO_BIN_EXE_paivystys"))
        .arg("migrate")
        .current_dir(dir.path())
        .env("PAIVYSTYS_DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("database_url"));
}

/// `paivystys backup --to DIR` while a worker keeps logging calls: the copy holds every
/// entry acknowledged before the backup began, and a server opened on it finds them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_write_load_restores_every_entry() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let worker = app.user("olli", Role::Oncall, None).await;
    let log_calls = |n: usize| {
        let worker = &worker;
        async move {
            let mut ids = Vec::new();
            for i in 0..n {
                let (status, entry) = worker
                    .send_json(
                        reqwest::Method::POST,
                        "/api/v1/entries",
                        serde_json::json!({
                            "channel": "phone_in", "category": "crisis", "urgency": "normal",
                            "summary": format!("Yöpuhelu {i}"),
                        }),
                    )
                    .await;
                assert_eq!(status, 201, "{entry}");
                ids.push(entry["id"].as_str().unwrap().to_owned());
            }
            ids
        }
    };
    let before = log_calls(40).await;
    let dir = app.db.dir.path().join("backup-1");
    let shelter = app.state.settings.effective_shelter_url();
    let run_backup = {
        let dir = dir.clone();
        let db = format!("sqlite://{}", app.db.location);
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_paivystys"))
                .args(["backup", "--to"])
                .arg(&dir)
                .env("PAIVYSTYS_DATABASE_URL", db)
                .env("PAIVYSTYS_SHELTER_DATABASE_URL", shelter)
                .output()
                .unwrap()
        })
    };
    // Writes keep coming while the copy is made.
    let (backup, during) = tokio::join!(run_backup, log_calls(40));
    let backup = backup.unwrap();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    let printed = String::from_utf8_lossy(&backup.stdout);
    assert!(printed.contains("paivystys.db") && printed.contains("paivystys-shelter.db"));

    let restored = paivystys::store::sqlite::SqliteStore::open(
        &format!("sqlite://{}", dir.join("paivystys.db").display()),
        paivystys::events::Hub::new(16, Default::default()),
    )
    .await
    .unwrap();
    use paivystys::store::Store;
    for id in &before {
        assert!(
            restored
                .get_entry(id.parse().unwrap())
                .await
                .unwrap()
                .is_some(),
            "entry {id} acknowledged before the backup is missing"
        );
    }
    let restored_count = restored
        .list_entries(&paivystys::domain::entry::EntryFilter {
            include_all: true,
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap()
        .len();
    // Of the writes made meanwhile, some are in the copy (whole), none beyond them.
    assert!(restored_count >= before.len(), "{restored_count}");
    assert!(
        restored_count <= before.len() + during.len(),
        "{restored_count}"
    );
    // The desk stream in the copy is gap-free up to its head.
    let head = restored.stream_head("desk").await.unwrap();
    let events = restored.events_since("desk", 0, 1000).await.unwrap();
    assert_eq!(events.len() as i64, head);
    assert!(
        events
            .iter()
            .enumerate()
            .all(|(i, e)| e.seq == i as i64 + 1)
    );

    // A second backup into the same directory is refused; PostgreSQL points to pg_dump.
    let again = Command::new(env!("CARGO_BIN_EXE_paivystys"))
        .args(["backup", "--to"])
        .arg(&dir)
        .env(
            "PAIVYSTYS_DATABASE_URL",
            format!("sqlite://{}", app.db.location),
        )
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    let pg = Command::new(env!("CARGO_BIN_EXE_paivystys"))
        .args(["backup", "--to"])
        .arg(app.db.dir.path().join("backup-pg"))
        .env(
            "PAIVYSTYS_DATABASE_URL",
            "postgres://postgres@127.0.0.1/none",
        )
        .output()
        .unwrap();
    assert!(!pg.status.success());
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"));
}
