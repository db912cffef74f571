//! The command line of DESIGN §5: `serve`, `migrate`, `user add`.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::AppState;
use crate::auth::password;
use crate::config::Settings;
use crate::domain::account::{NewUser, validate_password, validate_role_team, validate_username};
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::roles::Role;
use crate::error::{AppError, Result};
use crate::events::Hub;
use crate::store::{self, redact_url};

#[derive(Debug, Parser)]
#[command(
    name = "paivystys",
    version,
    about = "Päivystys: 24/7 on-call desk server"
)]
pub struct Cli {
    /// Settings file (TOML); `PAIVYSTYS_*` environment variables override it.
    #[arg(
        long,
        global = true,
        env = "PAIVYSTYS_CONFIG",
        default_value = "paivystys.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long)]
        database: Option<String>,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    pub bind: Option<SocketAddr>,
    /// Database URL: sqlite://FILE or postgres://…
    #[arg(long)]
    pub database: Option<String>,
    /// Seed the demo teams and accounts (printed at start).
    #[arg(long)]
    pub demo: bool,
    /// Allow --demo on an address reachable from other machines.
    #[arg(long, requires = "demo")]
    pub force_demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// oncall, supervisor, team, shelter or admin
        #[arg(long)]
        role: String,
        /// The team key of a `team` user.
        #[arg(long)]
        team: Option<String>,
        /// Name shown to colleagues (defaults to the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (never from the command line, where
        /// other users could see it in the process list).
        #[arg(long)]
        password_stdin: bool,
    },
}

impl Cli {
    pub fn load_settings(&self) -> Result<Settings> {
        Settings::load(Some(&self.config))
    }
}

pub async fn run(cli: Cli, mut settings: Settings) -> Result<()> {
    match cli.command {
        Command::Serve(args) => {
            if let Some(bind) = args.bind {
                settings.bind = bind;
            }
            if let Some(database) = args.database {
                settings.database_url = database;
            }
            serve(settings, args.demo, args.force_demo).await
        }
        Command::Migrate { database } => {
            let url = database.unwrap_or(settings.database_url);
            store::open(&url, Hub::new(1, Default::default())).await?;
            println!("migrations applied to {}", redact_url(&url));
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    team,
                    display_name,
                    password_stdin,
                },
        } => {
            if !password_stdin {
                return Err(AppError::validation(
                    "password",
                    "give the password on standard input with --password-stdin",
                ));
            }
            let password = read_password(std::io::stdin().lock())?;
            add_user(&settings, username, role, team, display_name, password).await
        }
    }
}

async fn serve(settings: Settings, demo: bool, force_demo: bool) -> Result<()> {
    if demo && !settings.bind.ip().is_loopback() && !force_demo {
        return Err(AppError::Config(format!(
            "refusing to seed demo accounts on {}, which other machines can reach; \
             bind to 127.0.0.1 or add --force-demo",
            settings.bind
        )));
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    tracing::info!(database = %redact_url(&settings.database_url), "opening database");
    let state = AppState::open(settings, clock).await?;
    if demo {
        let accounts = crate::demo::seed(state.store.as_ref(), state.clock.as_ref()).await?;
        crate::demo::print_accounts(&accounts);
        crate::demo::seed_entries(state.store.as_ref(), state.clock.as_ref()).await?;
    }
    let listener = tokio::net::TcpListener::bind(state.settings.bind).await?;
    let addr = listener.local_addr()?;
    println!("Päivystys listening on http://{addr}");
    tracing::info!(%addr, "listening");
    crate::serve_with_listener(state, listener, shutdown_signal()).await
}

async fn add_user(
    settings: &Settings,
    username: String,
    role: String,
    team: Option<String>,
    display_name: Option<String>,
    password: String,
) -> Result<()> {
    validate_username(&username)?;
    let role: Role = role.parse()?;
    validate_role_team(role, team.as_deref())?;
    validate_password(&password)?;
    let store = store::open(&settings.database_url, Hub::new(1, Default::default())).await?;
    if let Some(key) = &team {
        if store.get_team(key).await?.is_none() {
            let known: Vec<String> = store
                .list_teams()
                .await?
                .into_iter()
                .map(|t| t.key)
                .collect();
            return Err(AppError::validation(
                "team",
                format!("no team {key:?}; known teams: {}", known.join(", ")),
            ));
        }
    }
    let user = store
        .create_user(
            &NewUser {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                role,
                team,
                password_hash: password::hash(password).await?,
            },
            SystemClock.now(),
        )
        .await?;
    println!(
        "created user {} ({}) with id {}",
        user.username, user.role, user.id
    );
    Ok(())
}

/// One line of standard input, without its line ending.
fn read_password(input: impl BufRead) -> Result<String> {
    let mut line = String::new();
    // Bounded read: a password is short; anything longer is refused, not buffered.
    let mut limited = input.take(4096);
    limited.read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(AppError::validation("password", "standard input was empty"));
    }
    Ok(password)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_comes_from_the_first_line_only() {
        assert_eq!(
            read_password("secret password\r\nmore".as_bytes()).unwrap(),
            "secret password"
        );
        assert!(read_password("".as_bytes()).is_err());
        assert!(read_password("\n".as_bytes()).is_err());
    }
}
