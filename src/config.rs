//! Settings: built-in defaults < TOML file < `PAIVYSTYS_*` environment < command-line flags.
//!
//! Nested settings are reached from the environment with a double underscore, e.g.
//! `PAIVYSTYS_WS__HEARTBEAT_SECS=15`. Secrets are held as `SecretString`, whose `Debug`
//! output is redacted, so printing the settings never prints a secret.

use std::collections::HashMap;
use std::net::SocketAddr;

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::calendar::{Calendar, ExtraClosedDay, OfficeHours};
use crate::error::{AppError, Result};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://paivystys.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The settings file read when no `--config` names one (and only if it exists).
pub const DEFAULT_CONFIG_FILE: &str = "paivystys.toml";
/// The placeholder on-call number: a production server must show the county's real one.
pub const PLACEHOLDER_ONCALL_PHONE: &str = "0800 000 000";

/// The top-level keys of `Settings`. `PAIVYSTYS_*` variables whose name starts with anything
/// else (e.g. `PAIVYSTYS_CONFIG`, or a test harness's own) are not settings and are left
/// alone; a settings *file* with an unknown key is refused, so a typo cannot silently fall
/// back to a default.
const TOP_LEVEL_KEYS: [&str; 17] = [
    "bind",
    "database_url",
    "shelter_database_url",
    "session_ttl_minutes",
    "body_limit_bytes",
    "cookie_secure",
    "log_format",
    "ws",
    "calendar",
    "chat",
    "public",
    "reports",
    "shelter",
    "telephony_secret",
    "telephony",
    "audit",
    "retention",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// `sqlite://…` (default, embedded) or `postgres://…`.
    pub database_url: String,
    /// The shelter's own register; defaults to `paivystys-shelter.db` beside the main file.
    pub shelter_database_url: Option<String>,
    /// Absolute lifetime of a login session; a night shift plus margin by default.
    pub session_ttl_minutes: u32,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Mark the session cookie `Secure`; turn on whenever the server is reached over TLS.
    pub cookie_secure: bool,
    /// `text` (default) or `json` log lines.
    pub log_format: LogFormat,
    pub ws: WsSettings,
    pub calendar: CalendarSettings,
    pub chat: ChatSettings,
    pub public: PublicSettings,
    pub reports: ReportSettings,
    pub shelter: ShelterSettings,
    /// Serve the shelter's register alone (`serve --shelter-only`), for a shelter hosted
    /// by another organisation; set from the command line only.
    #[serde(skip)]
    pub shelter_only: bool,
    /// Shared secret of the telephony webhook.
    pub telephony_secret: Option<SecretString>,
    pub telephony: TelephonySettings,
    pub audit: AuditSettings,
    pub retention: RetentionSettings,
}

/// How long each kind of record keeps what it holds, and how often the purge job looks.
/// (Chat message bodies have their own `chat.retention_days`; the access log is never
/// purged by the server, see docs/SECURITY.md.)
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// The free text of a closed entry about an anonymous client (summary, alias, notes,
    /// actions, the risk's timeframe, a police request's outcome) is removed this many days
    /// after the entry's last change. Three months: the desk still recognises a repeat
    /// caller and a supervisor can review the quarter's work; after that the words serve
    /// nobody, and the counts stay.
    pub anonymous_entry_text_days: u32,
    /// The entry text purge runs at most this often.
    pub anonymous_entry_text_every_hours: u32,
    /// Expired sessions are deleted this often (each is refused from the moment it expires;
    /// the row holds only the token's hash).
    pub sessions_every_minutes: u32,
    /// How often the job looks whether a purge is due. Its first look after a start is at
    /// once, so a purge missed while the server was down runs then.
    pub check_minutes: u32,
}

/// Shorter than this would take the words while the entry is still being worked on: an
/// entry may be logged up to 7 days after the contact, and closed entries are reviewed
/// the following week.
pub const MIN_ANONYMOUS_ENTRY_TEXT_DAYS: u32 = 7;

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            anonymous_entry_text_days: 90,
            anonymous_entry_text_every_hours: 24,
            sessions_every_minutes: 60,
            check_minutes: 10,
        }
    }
}

impl RetentionSettings {
    fn validate(&self) -> Result<()> {
        if self.anonymous_entry_text_days < MIN_ANONYMOUS_ENTRY_TEXT_DAYS {
            return Err(AppError::Config(format!(
                "retention.anonymous_entry_text_days must be at least \
                 {MIN_ANONYMOUS_ENTRY_TEXT_DAYS}: entries are still worked on for a week"
            )));
        }
        if self.anonymous_entry_text_every_hours == 0
            || self.sessions_every_minutes == 0
            || self.check_minutes == 0
        {
            return Err(AppError::Config(
                "retention.anonymous_entry_text_every_hours, retention.sessions_every_minutes \
                 and retention.check_minutes must be positive"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// The access log's rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// An on-call worker's own work: entries they logged or hold, and any entry touched
    /// within this many hours (a shift). A named client's entry beyond that opens only
    /// with a stated reason.
    pub shift_hours: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { shift_hours: 16 }
    }
}

/// The phone system's webhook: who sits at which extension, what each line is called,
/// and how strict the replay guard is.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelephonySettings {
    /// Extension → username of the worker at that phone, e.g. `[telephony.extensions]
    /// 201 = "paivystaja"`: an answered call's entry is claimed for them. Unmapped: the
    /// worker claims it with one click.
    pub extensions: HashMap<String, String>,
    /// The desk's own numbers → the name the consoles show, e.g. `"0800 100 200" =
    /// "child_welfare"` ("incoming on the child welfare line").
    pub lines: HashMap<String, String>,
    /// How far an event's `at` may be from this server's clock; older ones are refused as
    /// replays.
    pub max_skew_secs: u64,
    /// How far back a repeat caller is recognised.
    pub repeat_days: u32,
}

impl Default for TelephonySettings {
    fn default() -> Self {
        TelephonySettings {
            extensions: HashMap::new(),
            lines: HashMap::new(),
            max_skew_secs: 300,
            repeat_days: 30,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WsSettings {
    /// Largest accepted websocket message (client frames are small JSON objects).
    pub max_message_bytes: usize,
    /// tungstenite's read buffer per socket; its default (128 KiB) is far too large for
    /// tens of thousands of idle consoles.
    pub read_buffer_bytes: usize,
    /// How often the server pings each socket.
    pub heartbeat_secs: u64,
    /// A socket silent for this long (no frame, no pong) is considered dead and closed.
    pub idle_timeout_secs: u64,
    /// Streams one socket may follow at once.
    pub max_subscriptions: usize,
    /// Frames queued for one socket before its subscriptions wait (and later resync).
    pub outbound_queue: usize,
    /// Events a live subscriber may fall behind before it is resynchronised from the table.
    pub live_buffer_events: usize,
    /// PostgreSQL with several instances: how often each instance compares the heads of
    /// the streams it has subscribers on with the table, to deliver what a lost
    /// notification did not announce (an instance that died between commit and NOTIFY).
    pub catch_up_secs: u64,
}

/// The anonymous client chat: lifetimes, limits, retention and the risk phrase lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatSettings {
    /// How long a client's chat token is valid after opening (a long night's talk).
    pub token_ttl_minutes: u32,
    /// How long after its end a client may still read its chat (to see the last words).
    pub read_after_end_minutes: u32,
    /// An active chat where nobody has written for this long ends with a notice.
    pub idle_minutes: u32,
    /// Message bodies of ended chats are removed after this many days; the statistics stay.
    pub retention_days: u32,
    /// Longest message, in characters.
    pub max_message_chars: usize,
    /// Chats one source (address, held only as a keyed hash) may open per hour.
    pub opens_per_hour_per_source: u32,
    /// Chats all sources together may open per minute (a flood guard).
    pub opens_per_minute_total: u32,
    /// Messages one chat may send per minute (either side).
    pub messages_per_minute: u32,
    /// How often the chat timers run.
    pub check_secs: u64,
    /// Replaces the built-in phrase lists when set, e.g. `[[chat.risk_phrases]] signal =
    /// "violence"`, `level = "high"`, `phrases = ["lyö", "slår mig", "hits me"]`.
    pub risk_phrases: Vec<crate::domain::risk::PhraseGroup>,
}

impl Default for ChatSettings {
    fn default() -> Self {
        ChatSettings {
            token_ttl_minutes: 8 * 60,
            read_after_end_minutes: 30,
            idle_minutes: 30,
            retention_days: 30,
            max_message_chars: crate::domain::chat::MAX_MESSAGE_CHARS,
            opens_per_hour_per_source: 10,
            opens_per_minute_total: 120,
            messages_per_minute: 30,
            check_secs: 30,
            risk_phrases: Vec::new(),
        }
    }
}

/// The public online reports: where each kind goes and how much one source may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// The team that receives each kind (`contact`, `concern`, `child_welfare`,
    /// `older_person`); kinds not named keep their default team.
    pub teams: HashMap<String, String>,
    /// Reports one source (address, hashed in memory only) may send per hour.
    pub per_hour_per_source: u32,
    /// Reports everyone together may send per minute (a flood guard).
    pub per_minute_total: u32,
    /// Attempts to add information (right or wrong secret) per source per hour.
    pub additions_per_hour_per_source: u32,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            teams: HashMap::new(),
            per_hour_per_source: 5,
            per_minute_total: 60,
            additions_per_hour_per_source: 20,
        }
    }
}

impl ReportSettings {
    /// The team a report of `kind` goes to.
    pub fn team_for(&self, kind: crate::domain::report::ReportKind) -> String {
        use crate::domain::report::ReportKind;
        self.teams.get(kind.as_str()).cloned().unwrap_or_else(|| {
            match kind {
                ReportKind::ChildWelfare => "child_welfare",
                ReportKind::OlderPerson => "older_people",
                ReportKind::Contact | ReportKind::Concern => "adults",
            }
            .to_owned()
        })
    }
}

/// The shelter register (turvakoti) and the desk's link to it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShelterSettings {
    /// Family places (rooms); each current stay takes one.
    pub family_places: i64,
    /// Beds; each person of a current stay takes one.
    pub beds: i64,
    /// How long a referral code is valid.
    pub referral_valid_hours: u32,
    /// 32 random bytes, base64, sealing notes and identity fields. Unset with a SQLite
    /// register: a key file `paivystys-shelter.key` beside it is made and used.
    pub encryption_key: Option<SecretString>,
    /// The desk side of a shelter hosted elsewhere (`serve --shelter-only` there): its base
    /// URL. Unset: the register runs in this process.
    pub remote_url: Option<String>,
    /// The secret both sides share for the link (`/api/v1/shelter-link/…`).
    pub link_secret: Option<SecretString>,
    /// How often the desk asks the shelter for free places and referral statuses.
    pub watch_secs: u64,
}

impl Default for ShelterSettings {
    fn default() -> Self {
        ShelterSettings {
            family_places: 6,
            beds: 18,
            referral_valid_hours: 24,
            encryption_key: None,
            remote_url: None,
            link_secret: None,
            watch_secs: 5,
        }
    }
}

/// What the public pages show and how they find a client's source for rate limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PublicSettings {
    /// The address people reach the service at, e.g. `https://paivystys.example.fi`
    /// (`config check` requires https).
    pub url: Option<String>,
    /// The on-call phone number shown first on every public page (next to 112).
    pub oncall_phone: String,
    /// Behind a reverse proxy, the header holding the client's address (e.g.
    /// `X-Real-IP`). Only for rate limits, hashed, never stored. Unset: the peer address.
    pub client_ip_header: Option<String>,
}

impl Default for PublicSettings {
    fn default() -> Self {
        PublicSettings {
            url: None,
            oncall_phone: PLACEHOLDER_ONCALL_PHONE.to_owned(),
            client_ip_header: None,
        }
    }
}

/// The county's working-day calendar: extra closed days and each team's office hours.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarSettings {
    /// Days the county's offices are closed beyond the public holidays, e.g.
    /// `[{ date = "2026-01-02", name = "Loppiaisen välipäivä" }]`.
    pub extra_closed_days: Vec<ExtraClosedDay>,
    /// Office hours per team key, e.g. `[calendar.office_hours.families] fri =
    /// "08:00-13:00"` (`mon`…`fri`, `"HH:MM-HH:MM"` or `"closed"`); days not named keep
    /// 08:00–16:00, and teams not named keep Monday–Friday 08:00–16:00.
    pub office_hours: HashMap<String, OfficeHours>,
    /// How often the overdue timer looks for unacknowledged handovers.
    pub overdue_check_secs: Option<u64>,
    /// How long a handover may stay overdue before the team's lead is told (default 120).
    pub escalate_after_minutes: Option<u32>,
}

impl CalendarSettings {
    pub fn calendar(&self) -> Calendar {
        Calendar::new(self.extra_closed_days.clone())
    }

    /// A team's office hours (the standard ones unless configured).
    pub fn office_hours(&self, team: &str) -> OfficeHours {
        self.office_hours.get(team).cloned().unwrap_or_default()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: DEFAULT_BIND.parse().expect("default bind address is valid"),
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            shelter_database_url: None,
            session_ttl_minutes: 12 * 60,
            body_limit_bytes: 1024 * 1024,
            cookie_secure: false,
            log_format: LogFormat::Text,
            ws: WsSettings::default(),
            calendar: CalendarSettings::default(),
            chat: ChatSettings::default(),
            public: PublicSettings::default(),
            reports: ReportSettings::default(),
            shelter: ShelterSettings::default(),
            shelter_only: false,
            telephony_secret: None,
            telephony: TelephonySettings::default(),
            audit: AuditSettings::default(),
            retention: RetentionSettings::default(),
        }
    }
}

impl Default for WsSettings {
    fn default() -> Self {
        WsSettings {
            max_message_bytes: 64 * 1024,
            read_buffer_bytes: 4 * 1024,
            heartbeat_secs: 20,
            idle_timeout_secs: 60,
            max_subscriptions: 64,
            outbound_queue: 256,
            live_buffer_events: 1024,
            catch_up_secs: 5,
        }
    }
}

impl Settings {
    /// Loads the layered settings from `file`, which must exist when given; without one,
    /// from `paivystys.toml` in the working directory if there is one.
    pub fn load(file: Option<&Path>) -> Result<Settings> {
        let mut figment = Figment::new();
        match file {
            Some(path) if !path.is_file() => {
                return Err(AppError::Config(format!(
                    "the settings file {} does not exist",
                    path.display()
                )));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        let env = Env::prefixed("PAIVYSTYS_").split("__").filter(|key| {
            let top = key.as_str().split('.').next().unwrap_or_default();
            TOP_LEVEL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(top))
        });
        let settings: Settings = figment.merge(env).extract()?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<()> {
        let scheme_ok = |url: &str| url.starts_with("sqlite:") || url.starts_with("postgres");
        if !scheme_ok(&self.database_url) {
            return Err(AppError::Config(
                "database_url must start with sqlite: or postgres://".into(),
            ));
        }
        if let Some(url) = &self.shelter_database_url {
            if !scheme_ok(url) {
                return Err(AppError::Config(
                    "shelter_database_url must start with sqlite: or postgres://".into(),
                ));
            }
        }
        if self.session_ttl_minutes == 0 || self.body_limit_bytes < 1024 {
            return Err(AppError::Config(
                "session_ttl_minutes must be positive and body_limit_bytes at least 1024".into(),
            ));
        }
        if self.ws.catch_up_secs == 0 {
            return Err(AppError::Config("ws.catch_up_secs must be positive".into()));
        }
        if self.ws.heartbeat_secs == 0 || self.ws.idle_timeout_secs <= self.ws.heartbeat_secs {
            return Err(AppError::Config(
                "ws.idle_timeout_secs must exceed ws.heartbeat_secs (> 0)".into(),
            ));
        }
        if self.calendar.overdue_check_secs == Some(0) {
            return Err(AppError::Config(
                "calendar.overdue_check_secs must be positive".into(),
            ));
        }
        let chat = &self.chat;
        if chat.token_ttl_minutes == 0
            || chat.idle_minutes == 0
            || chat.retention_days == 0
            || chat.max_message_chars == 0
            || chat.opens_per_hour_per_source == 0
            || chat.opens_per_minute_total == 0
            || chat.messages_per_minute == 0
            || chat.check_secs == 0
        {
            return Err(AppError::Config(
                "chat lifetimes, limits and retention must all be positive".into(),
            ));
        }
        crate::domain::risk::Lexicon::new(&chat.risk_phrases)?;
        let shelter = &self.shelter;
        if shelter.family_places < 1
            || shelter.beds < 1
            || shelter.referral_valid_hours == 0
            || shelter.watch_secs == 0
        {
            return Err(AppError::Config(
                "shelter places, beds, code lifetime and watch interval must be positive".into(),
            ));
        }
        if shelter.remote_url.is_some() && shelter.link_secret.is_none() {
            return Err(AppError::Config(
                "shelter.remote_url needs shelter.link_secret, shared with the shelter".into(),
            ));
        }
        for kind in self.reports.teams.keys() {
            crate::domain::report::ReportKind::parse_field(kind, "reports.teams")
                .map_err(|e| AppError::Config(e.to_string()))?;
        }
        if self.audit.shift_hours == 0 {
            return Err(AppError::Config(
                "audit.shift_hours must be positive".into(),
            ));
        }
        if self.telephony.max_skew_secs == 0 || self.telephony.repeat_days == 0 {
            return Err(AppError::Config(
                "telephony.max_skew_secs and telephony.repeat_days must be positive".into(),
            ));
        }
        self.retention.validate()?;
        if self.public.oncall_phone.trim().is_empty() {
            return Err(AppError::Config(
                "public.oncall_phone must name the on-call number".into(),
            ));
        }
        Ok(())
    }

    /// The shelter register's URL: configured, or a SQLite file beside the main SQLite file.
    pub fn effective_shelter_url(&self) -> String {
        if let Some(url) = &self.shelter_database_url {
            return url.clone();
        }
        match beside_sqlite_file(&self.database_url, "paivystys-shelter.db") {
            Some(path) => format!("sqlite://{}", path.display()),
            None => "sqlite://paivystys-shelter.db".to_owned(),
        }
    }
}

/// The file a `sqlite:` URL names (without its `?options`); `None` for other schemes.
pub fn sqlite_file(url: &str) -> Option<&Path> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|p| Path::new(p.split('?').next().unwrap_or(p)))
}

/// A file called `name` in the directory of the SQLite file `url` names.
pub fn beside_sqlite_file(url: &str, name: &str) -> Option<std::path::PathBuf> {
    let file = sqlite_file(url)?;
    Some(match file.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => dir.join(name),
        None => Path::new(name).to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shelter_file_sits_beside_the_main_file() {
        let mut s = Settings {
            database_url: "sqlite:///var/lib/paivystys/main.db".into(),
            ..Settings::default()
        };
        assert_eq!(
            s.effective_shelter_url(),
            "sqlite:///var/lib/paivystys/paivystys-shelter.db"
        );
        s.database_url = "sqlite://paivystys.db".into();
        assert_eq!(s.effective_shelter_url(), "sqlite://paivystys-shelter.db");
        s.database_url = "postgres://db/paivystys".into();
        assert_eq!(s.effective_shelter_url(), "sqlite://paivystys-shelter.db");
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let s = Settings {
            telephony_secret: Some(SecretString::from("hunter2-very-secret")),
            ..Settings::default()
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn team_office_hours_come_from_the_settings_file() {
        let dir = std::env::temp_dir().join(format!("paivystys-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("short-fridays.toml");
        std::fs::write(
            &file,
            "[calendar.office_hours.families]\nfri = \"08:00-13:00\"\n\n\
             [[calendar.extra_closed_days]]\ndate = \"2026-01-02\"\nname = \"Välipäivä\"\n",
        )
        .unwrap();
        let s = Settings::load(Some(&file)).unwrap();
        let friday = chrono::Weekday::Fri;
        let short = s.calendar.office_hours("families");
        assert_eq!(
            short.hours_on(friday).map(|(_, close)| close.to_string()),
            Some("13:00:00".to_owned())
        );
        assert_eq!(s.calendar.office_hours("adults"), OfficeHours::standard());
        let jan2 = chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap();
        assert!(!s.calendar.calendar().is_working_day(jan2));

        std::fs::write(
            &file,
            "[calendar.office_hours.adults]\nfri = \"16:00-08:00\"\n",
        )
        .unwrap();
        assert!(
            Settings::load(Some(&file)).is_err(),
            "closing before opening"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn unsafe_values_are_refused() {
        let s = Settings {
            database_url: "mysql://x".into(),
            ..Settings::default()
        };
        assert!(s.validate().is_err());
        let mut s = Settings::default();
        s.ws.idle_timeout_secs = s.ws.heartbeat_secs;
        assert!(s.validate().is_err());
        let mut s = Settings::default();
        s.ws.catch_up_secs = 0;
        assert!(
            s.validate().is_err(),
            "a zero interval would spin the catch-up from the table"
        );
        let mut s = Settings::default();
        s.calendar.overdue_check_secs = Some(0);
        assert!(
            s.validate().is_err(),
            "a zero interval would stop the overdue timer"
        );
        let mut s = Settings::default();
        s.shelter.remote_url = Some("https://turvakoti.example".into());
        assert!(
            s.validate().is_err(),
            "a remote shelter needs the link secret"
        );
        let mut s = Settings::default();
        s.retention.anonymous_entry_text_days = MIN_ANONYMOUS_ENTRY_TEXT_DAYS - 1;
        assert!(s.validate().is_err(), "words of entries still worked on");
        s.retention.anonymous_entry_text_days = MIN_ANONYMOUS_ENTRY_TEXT_DAYS;
        assert!(s.validate().is_ok());
        s.retention.check_minutes = 0;
        assert!(
            s.validate().is_err(),
            "a zero interval would stop the purge"
        );
    }
}
