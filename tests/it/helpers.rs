//! Test harness: a fresh database per test on SQLite (a temp file) or PostgreSQL (a schema
//! of its own), a real server on port 0, logged-in HTTP clients and websocket clients.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use paivystys::config::Settings;
use paivystys::domain::account::NewUser;
use paivystys::domain::clock::ManualClock;
use paivystys::domain::roles::Role;
use paivystys::events::NewEvent;
use paivystys::store::Store;
use paivystys::store::postgres::PgStore;
use paivystys::store::sqlite::SqliteStore;
use paivystys::{AppState, Wiring, auth::password, shelter};
use serde_json::{Value, json};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for something it expects before failing.
pub const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn postgres_url() -> String {
    std::env::var("PAIVYSTYS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// In CI (or when asked) an unreachable PostgreSQL fails the test instead of skipping it.
fn postgres_required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
        || std::env::var("PAIVYSTYS_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A fresh, migrated database for one test.
pub struct TestDb {
    pub backend: Backend,
    pub store: Arc<dyn Store>,
    pub wiring: Option<Wiring>,
    pub dir: tempfile::TempDir,
    /// The SQLite file, or the PostgreSQL schema, for raw checks.
    pub location: String,
}

impl TestDb {
    /// `None` when the backend is PostgreSQL and no server is reachable outside CI.
    pub async fn new(backend: Backend) -> Option<TestDb> {
        Self::with_wiring(
            backend,
            Wiring::new(Settings::default().ws.live_buffer_events),
        )
        .await
    }

    pub async fn with_wiring(backend: Backend, wiring: Wiring) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, location): (Arc<dyn Store>, String) = match backend {
            Backend::Sqlite => {
                let path = dir.path().join("test.db");
                let url = format!("sqlite://{}", path.display());
                let store = SqliteStore::open(&url, wiring.hub.clone())
                    .await
                    .expect("open sqlite");
                (Arc::new(store), path.display().to_string())
            }
            Backend::Postgres => {
                let schema = create_schema().await?;
                // Named after the schema, so a test can find its own connections.
                let options = PgConnectOptions::from_str(&postgres_url())
                    .expect("postgres url")
                    .options([("search_path", schema.as_str())])
                    .application_name(&schema);
                let store = PgStore::open_with(options, wiring.hub.clone())
                    .await
                    .expect("open postgres");
                (Arc::new(store), schema)
            }
        };
        Some(TestDb {
            backend,
            store,
            wiring: Some(wiring),
            dir,
            location,
        })
    }

    /// Runs one SQL statement outside the store, as an intruder or an operator would.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn =
                    sqlx::SqliteConnection::connect(&format!("sqlite://{}", self.location)).await?;
                Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
            }
            Backend::Postgres => {
                let mut conn = PgConnection::connect(&postgres_url()).await?;
                sqlx::query(&format!("SET search_path TO {}", self.location))
                    .execute(&mut conn)
                    .await?;
                Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
            }
        }
    }

    /// Every byte the database holds as text: the SQLite file with its WAL, or every row
    /// of every table in the PostgreSQL schema. For "this never reaches the database".
    pub async fn all_text(&self) -> String {
        match self.backend {
            Backend::Sqlite => {
                let mut text = String::new();
                for suffix in ["", "-wal"] {
                    if let Ok(bytes) = std::fs::read(format!("{}{suffix}", self.location)) {
                        text.push_str(&String::from_utf8_lossy(&bytes));
                    }
                }
                text
            }
            Backend::Postgres => schema_text(&self.location).await,
        }
    }

    /// A team user who leads the team (told of escalations).
    pub async fn add_lead(&self, username: &str, team: &str) -> String {
        self.add_account(username, Role::Team, Some(team), true)
            .await
    }

    pub async fn add_user(&self, username: &str, role: Role, team: Option<&str>) -> String {
        self.add_account(username, role, team, false).await
    }

    async fn add_account(
        &self,
        username: &str,
        role: Role,
        team: Option<&str>,
        lead: bool,
    ) -> String {
        if let Some(key) = team {
            paivystys::demo::seed_teams(self.store.as_ref())
                .await
                .unwrap();
            assert!(
                self.store.get_team(key).await.unwrap().is_some(),
                "team {key}"
            );
        }
        let secret = format!("{username}-password-123");
        self.store
            .create_user(
                &NewUser {
                    username: username.into(),
                    display_name: username.into(),
                    role,
                    team: team.map(str::to_owned),
                    lead,
                    password_hash: password::hash_blocking(&secret).unwrap(),
                },
                Utc::now(),
            )
            .await
            .unwrap();
        secret
    }
}

async fn create_schema() -> Option<String> {
    let url = postgres_url();
    let mut conn = match PgConnection::connect(&url).await {
        Ok(conn) => conn,
        Err(err) if !postgres_required() => {
            eprintln!(
                "SKIPPED: PostgreSQL is not reachable at {url} ({err}); set CI=true to fail instead"
            );
            return None;
        }
        Err(err) => panic!("PostgreSQL is required but not reachable at {url}: {err}"),
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .expect("create schema");
    Some(schema)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.backend == Backend::Postgres {
            drop_schema(self.location.clone());
        }
    }
}

/// A fresh random register key (PostgreSQL registers have no key file).
fn test_shelter_key() -> secrecy::SecretString {
    use base64::Engine;
    let key: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
    secrecy::SecretString::from(base64::engine::general_purpose::STANDARD.encode(key))
}

/// Every row of every table in a PostgreSQL schema, as text.
pub async fn schema_text(schema: &str) -> String {
    let mut conn = PgConnection::connect(&postgres_url()).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
    )
    .bind(schema)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut text = String::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT t::text FROM {schema}.{table} t"))
                .fetch_all(&mut conn)
                .await
                .unwrap();
        text.push_str(&rows.join("\n"));
    }
    text
}

/// Best effort: a schema per test would otherwise pile up.
fn drop_schema(schema: String) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            if let Ok(mut conn) = PgConnection::connect(&postgres_url()).await {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&mut conn)
                    .await;
            }
        });
    })
    .join()
    .ok();
}

/// The shelter register's own schema in a PostgreSQL test (dropped with the test).
pub struct ShelterSchema(pub String);

impl Drop for ShelterSchema {
    fn drop(&mut self) {
        drop_schema(self.0.clone());
    }
}

/// A running server on a port-0 listener.
pub struct TestApp {
    pub db: TestDb,
    /// The shelter register's schema when the test runs on PostgreSQL.
    pub shelter_schema: Option<ShelterSchema>,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub base: String,
    running: Running,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tune: impl FnOnce(&mut Settings)) -> Option<TestApp> {
        let mut settings = Settings::default();
        tune(&mut settings);
        let wiring = Wiring::new(settings.ws.live_buffer_events);
        let mut db = TestDb::with_wiring(backend, wiring).await?;
        // The demo teams of DESIGN §5 exist in every test server.
        paivystys::demo::seed_teams(db.store.as_ref())
            .await
            .unwrap();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        // The shelter's register sits beside the test database, unless it is hosted by
        // another test server (`shelter.remote_url`).
        let mut shelter_schema = None;
        let register = if settings.shelter.remote_url.is_none() {
            settings.shelter_database_url = Some(match backend {
                Backend::Sqlite => {
                    format!("sqlite://{}", db.dir.path().join("shelter.db").display())
                }
                Backend::Postgres => {
                    // Its own schema, as production gives it its own schema and role.
                    let schema = create_schema().await?;
                    let mut url = url::Url::parse(&postgres_url()).unwrap();
                    url.query_pairs_mut()
                        .append_pair("options", &format!("-c search_path={schema}"));
                    settings.shelter.encryption_key = Some(test_shelter_key());
                    shelter_schema = Some(ShelterSchema(schema));
                    url.to_string()
                }
            });
            Some(Arc::new(shelter::Shelter::open(&settings).await.unwrap()))
        } else {
            None
        };
        let wiring = db.wiring.take().expect("wiring unused");
        let state = wiring
            .into_state(settings, db.store.clone(), register, clock.clone())
            .expect("valid settings");
        let running = Running::start(state.clone()).await;
        Some(TestApp {
            db,
            shelter_schema,
            state,
            clock,
            base: running.base.clone(),
            running,
        })
    }

    /// A second instance on this test's PostgreSQL schema (and shelter register), as a
    /// load balancer would put beside the first: its own hub, pool and listener.
    pub async fn spawn_peer(&self) -> Peer {
        assert_eq!(
            self.db.backend,
            Backend::Postgres,
            "instances share PostgreSQL"
        );
        let settings = self.state.settings.clone();
        let wiring = Wiring::new(settings.ws.live_buffer_events);
        let options = PgConnectOptions::from_str(&postgres_url())
            .expect("postgres url")
            .options([("search_path", self.db.location.as_str())])
            .application_name(&self.db.location);
        let store: Arc<dyn Store> = Arc::new(
            PgStore::open_with(options, wiring.hub.clone())
                .await
                .expect("open postgres"),
        );
        let register = Arc::new(shelter::Shelter::open(&settings).await.unwrap());
        let state = wiring
            .into_state(settings, store, Some(register), self.clock.clone())
            .expect("valid settings");
        let running = Running::start(state).await;
        Peer {
            base: running.base.clone(),
            running,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a user and logs in as them.
    pub async fn user(&self, username: &str, role: Role, team: Option<&str>) -> Client {
        let secret = self.db.add_user(username, role, team).await;
        self.login(username, &secret).await
    }

    pub async fn login(&self, username: &str, secret: &str) -> Client {
        login_at(&self.base, username, secret).await
    }

    /// Appends events the way a feature's write would (state change and events commit
    /// together, then the hub is woken).
    pub async fn append(&self, stream: &str, count: usize) -> Vec<i64> {
        let events: Vec<NewEvent> = (0..count)
            .map(|i| NewEvent::new(stream, "test.written", json!({ "n": i })))
            .collect();
        self.db
            .store
            .append_events(&events, Utc::now())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.seq)
            .collect()
    }

    /// Stops the server the way SIGTERM does and waits for it to finish.
    pub async fn shutdown(&mut self) {
        self.running.shutdown().await;
    }
}

/// Another instance beside a `TestApp`, on the same PostgreSQL schema.
pub struct Peer {
    pub base: String,
    running: Running,
}

impl Peer {
    pub async fn login(&self, username: &str, secret: &str) -> Client {
        login_at(&self.base, username, secret).await
    }

    pub async fn shutdown(&mut self) {
        self.running.shutdown().await;
    }
}

/// A server task on a port-0 listener, until `shutdown`.
struct Running {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    async fn start(state: AppState) -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            paivystys::serve_with_listener(state, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        Running {
            base: format!("http://{addr}"),
            stop: Some(stop),
            server: Some(server),
        }
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(WAIT, server)
                .await
                .expect("server stops in time")
                .unwrap();
        }
    }
}

/// Logs in at a server (in process, or a child process's `base()`) and keeps the session
/// cookie and CSRF token. Requests give up after 30 s, so a test against a server that was
/// killed fails instead of hanging.
pub async fn login_at(base: &str, username: &str, secret: &str) -> Client {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let http = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let response = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": username, "password": secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "login as {username}");
    let body: Value = response.json().await.unwrap();
    Client {
        http,
        jar,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        base: base.to_owned(),
    }
}

/// An HTTP client holding a session cookie and its CSRF token.
pub struct Client {
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    pub csrf: String,
    pub base: String,
}

impl Client {
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.base))
    }

    /// A write with the CSRF header, as the console sends it.
    pub fn write(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("X-CSRF-Token", &self.csrf)
    }

    /// A JSON write as the console sends it: the status and the JSON answer (`null` when
    /// the answer has no body).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let response = self.write(method, path).json(&body).send().await.unwrap();
        answer(response).await
    }

    /// A GET: the status and the JSON answer (`null` when it has no body).
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        answer(self.get(path).send().await.unwrap()).await
    }

    pub fn cookie_header(&self) -> String {
        use reqwest::cookie::CookieStore;
        let url = self.base.parse().unwrap();
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    pub async fn ws(&self) -> Ws {
        let url = format!("{}/api/v1/ws", self.base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("cookie", self.cookie_header().parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket connects");
        Ws { socket }
    }
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, body)
}

pub struct Ws {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    pub async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    pub async fn subscribe(&mut self, stream: &str, since: i64) {
        self.send(json!({"type": "subscribe", "stream": stream, "since": since}))
            .await;
    }

    /// The next JSON frame, skipping pings and presence; fails the test after `WAIT`.
    pub async fn next(&mut self) -> Value {
        loop {
            let frame = self.next_any().await;
            if frame["type"] != "presence" {
                return frame;
            }
        }
    }

    /// The next presence frame (who is on shift).
    pub async fn next_presence(&mut self) -> Value {
        loop {
            let frame = self.next_any().await;
            if frame["type"] == "presence" {
                return frame;
            }
        }
    }

    /// The next JSON frame of any type, skipping pings.
    pub async fn next_any(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a frame arrives in time")
                .expect("socket open")
                .expect("frame readable");
            match message {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// The next frame that is an event; returns its sequence number.
    pub async fn next_event_seq(&mut self) -> i64 {
        let frame = self.next().await;
        assert_eq!(frame["type"], "event", "{frame}");
        frame["seq"].as_i64().unwrap()
    }

    /// Waits for the server to end the connection: `Some(code)` of its close frame, or
    /// `None` when the connection was reset (as when the server stops reading mid-frame).
    pub async fn closed_with(&mut self) -> Option<u16> {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("the connection ends in time");
            match message {
                Some(Ok(Message::Close(Some(frame)))) => return Some(frame.code.into()),
                Some(Ok(Message::Close(None))) | None => return Some(1005),
                Some(Ok(_)) => continue,
                Some(Err(_)) => return None,
            }
        }
    }
}

/// Generates a `sqlite` and a `postgres` test for each named async fn taking the backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            }
        )*
    };
}
