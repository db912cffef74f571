//! The command line of DESIGN §5: `serve`, `migrate`, `user add`.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::AppState;
use crate::auth::password;
use crate::config::Settings;
use chrono_tz::Europe::Helsinki;

use crate::domain::account::{
    NewUser, validate_password_for, validate_role_team, validate_team_key, validate_username,
};
use crate::domain::calendar::{OfficeHours, Rule};
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
    /// Settings file (TOML); `PAIVYSTYS_*` environment variables override it. Default:
    /// `paivystys.toml` in the working directory, if there is one.
    #[arg(long, global = true, env = "PAIVYSTYS_CONFIG")]
    pub config: Option<PathBuf>,
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
    /// A consistent copy of the SQLite databases (the county's and the shelter register)
    /// while the server runs, into a new directory. PostgreSQL: use pg_dump
    /// (docs/OPERATIONS.md).
    Backup {
        /// The directory to create; it must not exist yet, or be empty.
        #[arg(long)]
        to: PathBuf,
    },
    /// The Finnish working-day calendar (Helsinki time).
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// The settings.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The access log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The phone system's side.
    Telephony {
        #[command(subcommand)]
        command: TelephonyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the access log's hash chain and report the first broken link (exit 1).
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum TelephonyCommand {
    /// Plays one call against a running server (signed with `telephony_secret`), to try
    /// the desk without a phone system: ringing, answered, ended.
    Simulate {
        /// The server's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// The calling number (the client's, for an incoming call).
        #[arg(long, default_value = "040 123 4567")]
        from: String,
        /// The called number (the desk's line, for an incoming call).
        #[arg(long, default_value = "0800 100 200")]
        to: String,
        /// The extension that answers (mapped to a worker by `telephony.extensions`).
        #[arg(long)]
        extension: Option<String>,
        /// A call the worker places (`phone_out`) instead of an incoming one.
        #[arg(long)]
        outgoing: bool,
        /// Seconds it rings before the answer.
        #[arg(long, default_value_t = 2)]
        ring_secs: u64,
        /// Seconds of talk.
        #[arg(long, default_value_t = 5)]
        talk_secs: u64,
        /// Nobody answers: the caller hangs up after ringing.
        #[arg(long)]
        unanswered: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective settings (secrets masked) and fail on anything unsafe for
    /// production: demo accounts, a public address without TLS, placeholders, weak secrets.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// The holidays and other closed days of a year (not plain weekends), one a line:
    /// `YYYY-MM-DD<TAB>name`.
    Holidays {
        year: i32,
        /// A team key (closed days are county-wide; the key is checked).
        #[arg(long)]
        team: Option<String>,
    },
    /// The due instant of a deadline rule, RFC 3339 with the Helsinki offset.
    Due {
        /// When the clock starts (RFC 3339, e.g. 2025-12-23T10:00:00+02:00).
        #[arg(long)]
        from: String,
        /// next-working-day, working-days:N or months:N
        #[arg(long)]
        rule: String,
        /// Use this team's office hours (default Monday–Friday 08:00–16:00).
        #[arg(long)]
        team: Option<String>,
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
    /// Serve only the shelter's register (its staff and the link a desk elsewhere calls
    /// with `shelter.link_secret`), for a shelter hosted by another organisation.
    #[arg(long)]
    pub shelter_only: bool,
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
        /// The team's lead: told when a handover stays unacknowledged past its due time.
        #[arg(long, requires = "team")]
        lead: bool,
        /// Read the password from standard input (never from the command line, where
        /// other users could see it in the process list).
        #[arg(long)]
        password_stdin: bool,
    },
}

impl Cli {
    pub fn load_settings(&self) -> Result<Settings> {
        Settings::load(self.config.as_deref())
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
            if args.shelter_only {
                if settings.shelter.remote_url.is_some() {
                    return Err(AppError::Config(
                        "--shelter-only hosts the register here; unset shelter.remote_url".into(),
                    ));
                }
                settings.shelter_only = true;
            }
            serve(settings, args.demo, args.force_demo).await
        }
        Command::Migrate { database } => {
            if let Some(url) = database {
                settings.database_url = url;
            }
            store::open(&settings.database_url, Hub::new(1, Default::default())).await?;
            println!(
                "migrations applied to {}",
                redact_url(&settings.database_url)
            );
            // The shelter register has migrations of its own, unless it is hosted elsewhere.
            if settings.shelter.remote_url.is_none() {
                crate::shelter::Shelter::open(&settings).await?;
                println!(
                    "migrations applied to the shelter register {}",
                    redact_url(&settings.effective_shelter_url())
                );
            }
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    team,
                    display_name,
                    lead,
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
            let account = Account {
                username,
                role,
                team,
                display_name,
                lead,
            };
            add_user(&settings, account, password).await
        }
        Command::Backup { to } => {
            for (file, url) in crate::backup::to_directory(&settings, &to).await? {
                println!("{}\t{}", file.display(), redact_url(&url));
            }
            Ok(())
        }
        Command::Calendar { command } => {
            for line in calendar_command(&settings, command)? {
                println!("{line}");
            }
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => config_check(&settings).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => audit_verify(&settings).await,
        Command::Telephony {
            command:
                TelephonyCommand::Simulate {
                    url,
                    from,
                    to,
                    extension,
                    outgoing,
                    ring_secs,
                    talk_secs,
                    unanswered,
                },
        } => {
            let secret = settings.telephony_secret.as_ref().ok_or_else(|| {
                AppError::Config("set telephony_secret (PAIVYSTYS_TELEPHONY_SECRET) first".into())
            })?;
            let plan = crate::telephony::Simulation {
                url,
                from,
                to,
                extension,
                direction: if outgoing {
                    crate::domain::call::Direction::Out
                } else {
                    crate::domain::call::Direction::In
                },
                ring_secs,
                talk_secs: (!unanswered).then_some(talk_secs),
            };
            crate::telephony::simulate(secret, &plan).await
        }
    }
}

/// Rows read per page while verifying: the log can be long, memory stays flat.
const AUDIT_PAGE: i64 = 5_000;

async fn audit_verify(settings: &Settings) -> Result<()> {
    use crate::domain::audit::{Verdict, Verifier};
    let store = store::open(&settings.database_url, Hub::new(1, Default::default())).await?;
    let mut verifier = Verifier::default();
    let mut after = 0;
    let verdict = loop {
        let page = store.access_chain_page(after, AUDIT_PAGE).await?;
        if let Some(broken) = verifier.check(&page) {
            break broken;
        }
        match page.last() {
            Some(last) => after = last.id,
            None => break verifier.finish(),
        }
    };
    match verdict {
        Verdict::Intact { chained, unchained } => {
            println!(
                "access log intact: {chained} chained rows verified{}",
                if unchained > 0 {
                    format!(", {unchained} earlier rows from before the chain")
                } else {
                    String::new()
                }
            );
            Ok(())
        }
        Verdict::Broken { id, at, why } => Err(AppError::Internal(format!(
            "access log broken at row {id} ({}): {why}",
            at.with_timezone(&Helsinki).to_rfc3339()
        ))),
    }
}

async fn config_check(settings: &Settings) -> Result<()> {
    println!("{:#?}", crate::config_check::masked(settings));
    let mut problems = crate::config_check::unsafe_settings(settings);
    // The accounts live in the database: opening it applies migrations, as `serve` would.
    let store = store::open(&settings.database_url, Hub::new(1, Default::default())).await?;
    problems.extend(crate::config_check::unsafe_accounts(store.as_ref()).await?);
    if problems.is_empty() {
        println!("config check: no unsafe settings found");
        return Ok(());
    }
    for problem in &problems {
        eprintln!("unsafe: {problem}");
    }
    Err(AppError::Config(format!(
        "{} unsafe setting(s) for production; see above",
        problems.len()
    )))
}

/// The lines `paivystys calendar …` prints.
fn calendar_command(settings: &Settings, command: CalendarCommand) -> Result<Vec<String>> {
    let calendar = settings.calendar.calendar();
    match command {
        CalendarCommand::Holidays { year, team } => {
            if let Some(key) = &team {
                validate_team_key(key)?;
            }
            if !(1583..=9999).contains(&year) {
                return Err(AppError::validation(
                    "year",
                    "a Gregorian year from 1583 to 9999",
                ));
            }
            Ok(calendar
                .holidays(year)
                .into_iter()
                .map(|h| format!("{}\t{}", h.date.format("%Y-%m-%d"), h.name_fi))
                .collect())
        }
        CalendarCommand::Due { from, rule, team } => {
            let from = chrono::DateTime::parse_from_rfc3339(&from)
                .map_err(|e| AppError::validation("from", format!("not RFC 3339: {e}")))?
                .with_timezone(&chrono::Utc);
            let rule: Rule = rule.parse().map_err(|e| AppError::validation("rule", e))?;
            let hours = match &team {
                Some(key) => {
                    validate_team_key(key)?;
                    settings.calendar.office_hours(key)
                }
                None => OfficeHours::standard(),
            };
            let due = calendar.due(rule, from, &hours).with_timezone(&Helsinki);
            Ok(vec![
                due.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            ])
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
        if let Some(shelter) = &state.shelter {
            crate::demo::seed_shelter(shelter, state.clock.as_ref()).await?;
        }
    }
    let listener = tokio::net::TcpListener::bind(state.settings.bind).await?;
    let addr = listener.local_addr()?;
    println!("Päivystys listening on http://{addr}");
    tracing::info!(%addr, "listening");
    crate::serve_with_listener(state, listener, shutdown_signal()).await
}

/// What `user add` was told about the new account.
struct Account {
    username: String,
    role: String,
    team: Option<String>,
    display_name: Option<String>,
    lead: bool,
}

async fn add_user(settings: &Settings, account: Account, password: String) -> Result<()> {
    let Account {
        username,
        role,
        team,
        display_name,
        lead,
    } = account;
    validate_username(&username)?;
    let role: Role = role.parse()?;
    validate_role_team(role, team.as_deref())?;
    validate_password_for(&username, &password)?;
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
                lead,
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

    fn run_calendar(command: CalendarCommand) -> Result<Vec<String>> {
        calendar_command(&Settings::default(), command)
    }

    fn due(from: &str, rule: &str) -> String {
        run_calendar(CalendarCommand::Due {
            from: from.into(),
            rule: rule.into(),
            team: None,
        })
        .unwrap()
        .remove(0)
    }

    #[test]
    fn calendar_due_prints_the_helsinki_instant() {
        // The THL handbook's child welfare examples (LsL § 26).
        assert_eq!(
            due("2025-12-23T10:00:00+02:00", "working-days:7"),
            "2026-01-08T23:59:59+02:00"
        );
        assert_eq!(
            due("2026-03-31T10:00:00+03:00", "working-days:7"),
            "2026-04-13T23:59:59+03:00"
        );
        // Friday evening → Monday at the end of office hours.
        assert_eq!(
            due("2026-11-20T21:00:00+02:00", "next-working-day"),
            "2026-11-23T16:00:00+02:00"
        );
        for (from, rule) in [
            ("yesterday", "next-working-day"),
            ("2026-11-20T21:00:00+02:00", "soon"),
            ("2026-11-20T21:00:00+02:00", "working-days:0"),
        ] {
            assert!(
                run_calendar(CalendarCommand::Due {
                    from: from.into(),
                    rule: rule.into(),
                    team: None
                })
                .is_err(),
                "{from} {rule}"
            );
        }
    }

    #[test]
    fn calendar_holidays_lists_closed_days_tab_separated() {
        let lines = run_calendar(CalendarCommand::Holidays {
            year: 2026,
            team: None,
        })
        .unwrap();
        assert_eq!(lines.first().unwrap(), "2026-01-01\tUudenvuodenpäivä");
        assert!(lines.contains(&"2026-06-19\tJuhannusaatto".to_owned()));
        assert!(lines.contains(&"2026-12-24\tJouluaatto".to_owned()));
        assert!(!lines.iter().any(|l| l.starts_with("2026-12-31")));
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted, "in date order");
        assert!(
            run_calendar(CalendarCommand::Holidays {
                year: 1200,
                team: None
            })
            .is_err()
        );
    }

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
