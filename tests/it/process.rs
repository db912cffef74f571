//! The real `paivystys` binary as a child process, for what an in-process `TestApp` cannot
//! show: `kill -9` and restart (crash safety), several instances on one PostgreSQL schema.
//!
//! ```ignore
//! let Some(dbs) = ProcessDb::new(Backend::Postgres).await else { return };
//! let secret = dbs.add_user("anna", Role::Oncall).await;
//! let mut a = dbs.start(&[("PAIVYSTYS_CHAT__MESSAGES_PER_MINUTE", "1000")]).await;
//! let b = dbs.start(&[]).await; // a second instance on the same databases
//! let anna = helpers::login_at(a.base(), "anna", &secret).await;
//! a.kill9().await; // SIGKILL, reaped
//! a.restart().await; // same databases, same address when it is still free
//! ```
//!
//! `ServerProcess::start(database_url, shelter_url, extra_env)` is the general form: any
//! database URL the binary accepts, the shelter register's URL (`None`: the binary's
//! default, a SQLite file beside a SQLite database) and settings as `PAIVYSTYS_*`
//! variables. The child inherits no `PAIVYSTYS_*` variable from the test's environment
//! (no `PAIVYSTYS_CONFIG`), runs in a temporary directory (no `paivystys.toml` is picked up)
//! and is killed when dropped. Keep a `ServerProcess` declared after the `ProcessDb` it runs
//! on, so the server dies before its PostgreSQL schema is dropped.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use paivystys::domain::roles::Role;
use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{Backend, Client, ShelterSchema, TestDb, postgres_url};

/// How long a server may take to migrate, bind and answer `/healthz` (a loaded CI machine
/// building and running other tests at the same time).
pub const START_WAIT: Duration = Duration::from_secs(30);

/// Lines of the child's stderr kept for failure messages.
const LOG_LINES: usize = 200;

/// A `paivystys serve` child process.
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    base: String,
    database_url: String,
    shelter_url: Option<String>,
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
    log: Arc<Mutex<VecDeque<String>>>,
}

impl ServerProcess {
    /// Starts `paivystys serve --bind 127.0.0.1:0` on `database_url` (and `shelter_url`,
    /// when given, for the shelter register) with `extra_env` set, and returns once
    /// `GET /healthz` answers 200. Panics with the server's log if it does not within
    /// `START_WAIT`. `RUST_LOG` defaults to `warn`; pass it in `extra_env` to see more.
    pub async fn start(
        database_url: &str,
        shelter_url: Option<&str>,
        extra_env: &[(&str, &str)],
    ) -> ServerProcess {
        let dir = tempfile::tempdir().expect("working directory for the server");
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let env: Vec<(String, String)> = extra_env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let any_port: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let (child, addr) = spawn(any_port, database_url, shelter_url, &env, dir.path(), &log)
            .await
            .unwrap_or_else(|why| panic!("the server did not start: {why}\n{}", tail(&log)));
        let server = ServerProcess {
            child,
            addr,
            base: format!("http://{addr}"),
            database_url: database_url.to_owned(),
            shelter_url: shelter_url.map(str::to_owned),
            env,
            dir,
            log,
        };
        server.wait_healthy().await;
        server
    }

    /// `http://127.0.0.1:PORT`, current after a restart.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The last lines the server wrote to stderr, for failure messages.
    pub fn log(&self) -> String {
        tail(&self.log)
    }

    /// `kill -9`: the server gets no chance to flush, close or say goodbye. Waits until the
    /// process is gone and checks that it was the signal that ended it (not a crash before).
    pub async fn kill9(&mut self) {
        use std::os::unix::process::ExitStatusExt;
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "the server had already exited ({status}) before kill -9\n{}",
                self.log()
            );
        }
        self.child.kill().await.expect("SIGKILL the server");
        let status = self.child.wait().await.expect("reap the server");
        assert_eq!(status.signal(), Some(9), "ended by SIGKILL: {status}");
    }

    /// SIGTERM, as systemd stops the service: waits for the process to end on its own and
    /// checks that it exited cleanly.
    pub async fn terminate(&mut self) {
        let pid = self.child.id().expect("the server still runs");
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .expect("run kill");
        assert!(sent.success(), "SIGTERM sent");
        let status = tokio::time::timeout(START_WAIT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the server did not stop on SIGTERM\n{}", self.log()))
            .expect("reap the server");
        assert!(status.success(), "a clean exit: {status}\n{}", self.log());
    }

    /// Starts the server again on the same databases with the same settings, on the same
    /// address if it can be bound again (else on a new port: read `base()` again). The
    /// previous process must be gone (`kill9`).
    pub async fn restart(&mut self) {
        assert!(
            matches!(self.child.try_wait(), Ok(Some(_))),
            "restart follows kill9 or terminate: the old server still runs"
        );
        self.log.lock().unwrap().push_back("--- restart ---".into());
        let spawned = |bind: SocketAddr| {
            spawn(
                bind,
                &self.database_url,
                self.shelter_url.as_deref(),
                &self.env,
                self.dir.path(),
                &self.log,
            )
        };
        let (child, addr) = match spawned(self.addr).await {
            Ok(started) => started,
            // Another process took the port meanwhile.
            Err(_) => spawned("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap_or_else(|why| {
                    panic!("the server did not start again: {why}\n{}", self.log())
                }),
        };
        self.child = child;
        self.addr = addr;
        self.base = format!("http://{addr}");
        self.wait_healthy().await;
    }

    /// Polls `GET /healthz` until 200, for at most `START_WAIT`.
    async fn wait_healthy(&self) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let deadline = Instant::now() + START_WAIT;
        loop {
            match http.get(self.url("/healthz")).send().await {
                Ok(response) if response.status() == 200 => return,
                outcome if Instant::now() >= deadline => panic!(
                    "GET /healthz did not answer 200 within {START_WAIT:?} (last: {outcome:?})\n{}",
                    self.log()
                ),
                _ => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
    }
}

/// Spawns `serve --bind bind` and waits for the line that tells the bound address (the
/// server prints it once migrations have run and the socket is listening). `Err` when the
/// process exits first or stays silent for `START_WAIT`.
async fn spawn(
    bind: SocketAddr,
    database_url: &str,
    shelter_url: Option<&str>,
    env: &[(String, String)],
    dir: &std::path::Path,
    log: &Arc<Mutex<VecDeque<String>>>,
) -> Result<(Child, SocketAddr), String> {
    let mut command = paivystys(database_url, dir);
    command
        .args(["serve", "--bind", &bind.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(url) = shelter_url {
        command.env("PAIVYSTYS_SHELTER_DATABASE_URL", url);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run the binary: {e}"))?;

    let stderr = child.stderr.take().expect("piped stderr");
    let keep = log.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut log = keep.lock().unwrap();
            if log.len() == LOG_LINES {
                log.pop_front();
            }
            log.push_back(line);
        }
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let (told, address) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        let mut told = Some(told);
        // Keep draining after the address, so the server never blocks on a full pipe.
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some((_, addr)) = line.split_once("listening on http://") {
                if let (Some(told), Ok(addr)) = (told.take(), addr.trim().parse()) {
                    let _ = told.send(addr);
                }
            }
        }
    });
    let addr = tokio::select! {
        addr = address => addr.map_err(|_| "the server closed stdout without an address".to_owned())?,
        status = child.wait() => return Err(format!("the server exited: {status:?}")),
        () = tokio::time::sleep(START_WAIT) => {
            return Err(format!("no address printed within {START_WAIT:?}"));
        }
    };
    Ok((child, addr))
}

/// The binary on `database_url`, run in `dir`, with none of the test's own `PAIVYSTYS_*`
/// variables (no `PAIVYSTYS_CONFIG`) and quiet logs.
fn paivystys(database_url: &str, dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_paivystys"));
    command.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PAIVYSTYS_") {
            command.env_remove(key);
        }
    }
    command
        .env("RUST_LOG", "warn")
        .env("PAIVYSTYS_DATABASE_URL", database_url);
    command
}

fn tail(log: &Mutex<VecDeque<String>>) -> String {
    let lines = log.lock().unwrap();
    let mut text = String::from("server log (last lines):\n");
    for line in lines.iter() {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// The databases server processes run on: the county's and the shelter register's. On
/// PostgreSQL each is a fresh schema of its own, dropped at the end; on SQLite they are
/// files in a temporary directory. Every `start` on one `ProcessDb` shares them, so two or
/// three processes are instances behind one load balancer.
///
/// On SQLite nothing in the test process holds the file open (accounts are made with the
/// `user add` command), so a restart after `kill -9` recovers the WAL as it does in
/// production, where the server is the file's only user.
pub struct ProcessDb {
    /// The county database's URL as the binary takes it.
    pub database_url: String,
    /// `None` on SQLite: the register sits beside the database file.
    pub shelter_url: Option<String>,
    /// Settings every instance on these databases needs (the PostgreSQL register's key).
    pub env: Vec<(String, String)>,
    /// PostgreSQL only: the county schema (migrated; no teams seeded).
    _db: Option<TestDb>,
    _shelter_schema: Option<ShelterSchema>,
    dir: tempfile::TempDir,
}

impl ProcessDb {
    /// `None` when PostgreSQL is asked for but not reachable outside CI (as `TestDb::new`).
    pub async fn new(backend: Backend) -> Option<ProcessDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        Some(match backend {
            Backend::Sqlite => ProcessDb {
                database_url: format!("sqlite://{}", dir.path().join("paivystys.db").display()),
                shelter_url: None,
                env: Vec::new(),
                _db: None,
                _shelter_schema: None,
                dir,
            },
            Backend::Postgres => {
                let db = TestDb::new(backend).await?;
                // TestDb::new succeeded, so PostgreSQL is there.
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&postgres_url())
                    .await
                    .expect("PostgreSQL reachable");
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&mut conn)
                    .await
                    .expect("create the register's schema");
                let key: [u8; 32] = rand::random();
                ProcessDb {
                    database_url: schema_url(&db.location),
                    shelter_url: Some(schema_url(&schema)),
                    env: vec![(
                        "PAIVYSTYS_SHELTER__ENCRYPTION_KEY".into(),
                        base64::engine::general_purpose::STANDARD.encode(key),
                    )],
                    _db: Some(db),
                    _shelter_schema: Some(ShelterSchema(schema)),
                    dir,
                }
            }
        })
    }

    /// A server process on these databases; `extra_env` comes on top of `self.env`.
    pub async fn start(&self, extra_env: &[(&str, &str)]) -> ServerProcess {
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.extend_from_slice(extra_env);
        ServerProcess::start(&self.database_url, self.shelter_url.as_deref(), &env).await
    }

    /// `paivystys user add` (which migrates first): an account that can log in to any
    /// instance. Returns its password.
    pub async fn add_user(&self, username: &str, role: Role) -> String {
        let secret = uuid::Uuid::new_v4().to_string();
        let mut child = paivystys(&self.database_url, self.dir.path())
            .args([
                "user",
                "add",
                "--username",
                username,
                "--role",
                role.as_str(),
            ])
            .arg("--password-stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run paivystys user add");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(secret.as_bytes()).await.unwrap();
        drop(stdin);
        let out = child.wait_with_output().await.unwrap();
        assert!(
            out.status.success(),
            "user add {username}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        secret
    }
}

/// The PostgreSQL test server's URL with `schema` as the search path, as the binary takes it.
pub fn schema_url(schema: &str) -> String {
    let mut url = url::Url::parse(&postgres_url()).expect("PostgreSQL URL");
    url.query_pairs_mut()
        .append_pair("options", &format!("-c search_path={schema}"));
    url.to_string()
}

/// The same session against another address (a restarted or another instance): cookies do
/// not depend on the port.
pub fn rebase(client: &Client, base: &str) -> Client {
    Client {
        http: client.http.clone(),
        jar: client.jar.clone(),
        csrf: client.csrf.clone(),
        base: base.to_owned(),
    }
}
