//! The command line, and the checks that run before any connection is opened: bad
//! arguments and non-loopback targets are refused with a message that says what to change.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use url::{Host, Url};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Open the sockets, hold them, report the server's memory per connection.
    Idle,
    /// `--workers` desk consoles, one writer of entries, latency to the last console.
    Fanout,
    /// `--chats` anonymous clients, each writing to and reading its own chat.
    Chat,
    /// `--workers` consoles ride out a server restart and resume with `since`.
    Resume,
}

/// Load generator for Päivystys' realtime endpoints (loopback targets only).
#[derive(Debug, Parser)]
#[command(name = "loadgen", version)]
pub struct Args {
    #[arg(long, value_enum)]
    pub mode: Mode,
    /// Server base URL, e.g. http://127.0.0.1:8080; repeat for several instances
    /// (connections and writes are spread round-robin). Loopback hosts only.
    #[arg(long = "target", required = true, value_name = "URL")]
    pub targets: Vec<String>,
    /// Worker consoles: websockets logged in as `--username`, following `desk`.
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Anonymous chat clients, each with its own chat and websocket.
    #[arg(long, default_value_t = 0)]
    pub chats: usize,
    /// The worker account (role oncall or supervisor) the consoles and the writer use.
    #[arg(long, default_value = "paivystaja")]
    pub username: String,
    #[arg(long, env = "LOADGEN_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Writes per second over all writers; 0 in chat mode means each client writes its
    /// next message as soon as the last is acknowledged.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Stop after this many writes (default: only `--duration` bounds the run).
    #[arg(long)]
    pub writes: Option<u64>,
    /// Seconds of writing (or of holding, in idle mode).
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    /// Seconds to wait after the last write for its deliveries.
    #[arg(long, default_value_t = 5.0)]
    pub settle: f64,
    /// Seconds allowed for opening every connection before the run is abandoned.
    #[arg(long, default_value_t = 300.0)]
    pub setup_timeout: f64,
    /// Connections being opened at the same time.
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// Writes awaiting their acknowledgement at most; beyond it the rate falls behind.
    #[arg(long, default_value_t = 512)]
    pub max_in_flight: usize,
    /// Loopback source addresses to spread client sockets over (127.0.0.2, 127.0.0.3, …),
    /// so that one source address does not run out of ephemeral ports.
    #[arg(long, default_value_t = 8)]
    pub source_addrs: u8,
    /// A server process whose resident memory is reported (repeatable).
    #[arg(long = "server-pid", value_name = "PID")]
    pub server_pids: Vec<u32>,
    /// Resume mode: shell command that restarts the server(s); without it the run waits
    /// for the server to close the sockets (code 1012) by itself.
    #[arg(long)]
    pub restart_cmd: Option<String>,
    /// Resume mode: seconds of writing before `--restart-cmd` runs.
    #[arg(long, default_value_t = 5.0)]
    pub restart_after: f64,
}

/// A server to talk to, checked to be on this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `http://host:port` without a trailing slash.
    pub base: String,
    /// `host:port` as the Host (and so the Origin) header carries it.
    pub authority: String,
    pub host: String,
    pub port: u16,
}

/// Everything the run needs, validated.
#[derive(Debug)]
pub struct Plan {
    pub mode: Mode,
    pub targets: Vec<Target>,
    pub workers: usize,
    pub chats: usize,
    pub username: String,
    pub password: Option<String>,
    pub rate: f64,
    pub writes: Option<u64>,
    pub duration: Duration,
    pub settle: Duration,
    pub setup_timeout: Duration,
    pub connect_concurrency: usize,
    pub max_in_flight: usize,
    pub source_addrs: Vec<IpAddr>,
    pub server_pids: Vec<u32>,
    pub restart_cmd: Option<String>,
    pub restart_after: Duration,
}

/// Accepts only `http://` URLs whose host is a loopback address: 127.0.0.0/8, ::1 or
/// `localhost`. This tool makes tens of thousands of connections; pointed anywhere else it
/// would be an attack, so there is no flag to turn the check off.
pub fn loopback_target(raw: &str) -> Result<Target, String> {
    let url = Url::parse(raw).map_err(|e| format!("--target {raw}: not a URL ({e})"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "--target {raw}: use an http:// URL (the websocket URL is derived from it)"
        ));
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if !loopback {
        return Err(format!(
            "--target {raw}: refused; loadgen only sends traffic to loopback addresses \
             (127.0.0.0/8, ::1, localhost)"
        ));
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() {
        return Err(format!(
            "--target {raw}: give only scheme, host and port (the paths are fixed)"
        ));
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    Ok(Target {
        base: format!("http://{authority}"),
        authority,
        host,
        port,
    })
}

fn seconds(flag: &str, value: f64, allow_zero: bool) -> Result<Duration, String> {
    if !value.is_finite() || value < 0.0 || (!allow_zero && value == 0.0) {
        let least = if allow_zero {
            "0 or more"
        } else {
            "more than 0"
        };
        return Err(format!("{flag} {value}: give {least} seconds"));
    }
    Ok(Duration::from_secs_f64(value))
}

impl Args {
    pub fn plan(self) -> Result<Plan, String> {
        let targets = self
            .targets
            .iter()
            .map(|t| loopback_target(t))
            .collect::<Result<Vec<_>, _>>()?;
        if !self.rate.is_finite() || self.rate < 0.0 {
            return Err(format!(
                "--rate {}: give writes per second, 0 or more",
                self.rate
            ));
        }
        if self.writes == Some(0) {
            return Err("--writes 0: give at least 1, or leave it out".into());
        }
        let duration = seconds("--duration", self.duration, false)?;
        let settle = seconds("--settle", self.settle, true)?;
        let setup_timeout = seconds("--setup-timeout", self.setup_timeout, false)?;
        let restart_after = seconds("--restart-after", self.restart_after, true)?;
        if self.connect_concurrency == 0 || self.max_in_flight == 0 {
            return Err("--connect-concurrency and --max-in-flight must be at least 1".into());
        }
        if self.source_addrs == 0 || self.source_addrs > 250 {
            return Err(format!(
                "--source-addrs {}: give 1 to 250 (127.0.0.2 onwards)",
                self.source_addrs
            ));
        }
        match self.mode {
            Mode::Idle if self.workers + self.chats == 0 => {
                return Err("idle mode needs --workers N and/or --chats M".into());
            }
            Mode::Fanout | Mode::Resume if self.workers == 0 => {
                return Err(format!("{:?} mode needs --workers N", self.mode).to_lowercase());
            }
            Mode::Fanout | Mode::Resume if self.rate == 0.0 => {
                return Err(
                    format!("{:?} mode needs --rate R (entries per second)", self.mode)
                        .to_lowercase(),
                );
            }
            Mode::Chat if self.chats == 0 => return Err("chat mode needs --chats M".into()),
            _ => {}
        }
        if self.restart_cmd.is_some() && self.mode != Mode::Resume {
            return Err("--restart-cmd belongs to resume mode".into());
        }
        let needs_login = self.workers > 0 || matches!(self.mode, Mode::Fanout | Mode::Resume);
        if needs_login && self.password.as_deref().unwrap_or_default().is_empty() {
            return Err(format!(
                "worker consoles log in as {}: give --password or LOADGEN_PASSWORD",
                self.username
            ));
        }
        // Source addresses only help when the target is an IPv4 loopback address; ::1 is
        // the only IPv6 loopback address, so sockets to it use the default.
        let source_addrs = (0..self.source_addrs)
            .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i)))
            .collect();
        Ok(Plan {
            mode: self.mode,
            targets,
            workers: self.workers,
            chats: self.chats,
            username: self.username,
            password: self.password,
            rate: self.rate,
            writes: self.writes,
            duration,
            settle,
            setup_timeout,
            connect_concurrency: self.connect_concurrency,
            max_in_flight: self.max_in_flight,
            source_addrs,
            server_pids: self.server_pids,
            restart_cmd: self.restart_cmd,
            restart_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> Result<Plan, String> {
        let args = Args::try_parse_from(std::iter::once("loadgen").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        args.plan()
    }

    #[test]
    fn only_loopback_targets_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.3.4.5:9000/",
            "http://localhost:8080",
            "http://LOCALHOST",
            "http://[::1]:8080",
            // 127.0.0.1 written as one number: the URL parser normalises it, and only
            // what it normalises to counts.
            "http://2130706433",
        ] {
            assert!(loopback_target(ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://10.0.0.1:8080",
            "http://192.168.1.2",
            "http://0.0.0.0:8080",
            "http://[::]:8080",
            "http://[::ffff:10.0.0.1]:8080",
            "http://example.com",
            "http://localhost.example.com",
            "http://127.0.0.1.example.com",
            "http://167772161",
        ] {
            let err = loopback_target(refused).unwrap_err();
            assert!(
                err.contains("only sends traffic to loopback"),
                "{refused}: {err}"
            );
        }
        assert!(
            loopback_target("https://127.0.0.1")
                .unwrap_err()
                .contains("http://")
        );
        assert!(loopback_target("127.0.0.1:8080").is_err());
        assert!(
            loopback_target("http://127.0.0.1/api")
                .unwrap_err()
                .contains("only scheme")
        );
    }

    #[test]
    fn targets_keep_their_authority_for_host_and_origin() {
        let t = loopback_target("http://localhost:8081/").unwrap();
        assert_eq!(
            (t.base.as_str(), t.authority.as_str()),
            ("http://localhost:8081", "localhost:8081")
        );
        assert_eq!((t.host.as_str(), t.port), ("localhost", 8081));
        let t = loopback_target("http://[::1]:8080").unwrap();
        assert_eq!(t.authority, "[::1]:8080");
    }

    #[test]
    fn a_remote_target_among_loopback_ones_refuses_the_run() {
        let err = plan(&[
            "--mode",
            "chat",
            "--chats",
            "1",
            "--target",
            "http://127.0.0.1:8080",
            "--target",
            "http://10.1.2.3:8080",
        ])
        .unwrap_err();
        assert!(err.contains("10.1.2.3"), "{err}");
    }

    #[test]
    fn arguments_are_checked_per_mode() {
        let t = ["--target", "http://127.0.0.1:8080"];
        let with = |rest: &[&str]| plan(&[&t[..], rest].concat());
        assert!(with(&["--mode", "idle"]).unwrap_err().contains("--workers"));
        assert!(
            with(&["--mode", "fanout", "--workers", "5", "--password", "x"])
                .unwrap_err()
                .contains("--rate")
        );
        assert!(
            with(&["--mode", "fanout", "--workers", "5", "--rate", "10"])
                .unwrap_err()
                .contains("LOADGEN_PASSWORD")
        );
        assert!(with(&["--mode", "chat"]).unwrap_err().contains("--chats"));
        assert!(
            with(&["--mode", "chat", "--chats", "2", "--rate=-1"])
                .unwrap_err()
                .contains("--rate")
        );
        assert!(
            with(&["--mode", "chat", "--chats", "2", "--duration", "0"])
                .unwrap_err()
                .contains("--duration")
        );
        assert!(
            with(&["--mode", "chat", "--chats", "2", "--writes", "0"])
                .unwrap_err()
                .contains("--writes")
        );
        assert!(
            with(&["--mode", "chat", "--chats", "2", "--source-addrs", "0"])
                .unwrap_err()
                .contains("--source-addrs")
        );
        assert!(
            with(&["--mode", "chat", "--chats", "2", "--restart-cmd", "true"])
                .unwrap_err()
                .contains("resume")
        );
        assert!(
            plan(&["--mode", "chat", "--chats", "2"])
                .unwrap_err()
                .contains("--target")
        );

        let ok = with(&[
            "--mode",
            "fanout",
            "--workers",
            "1000",
            "--rate",
            "50",
            "--password",
            "pw",
            "--source-addrs",
            "3",
        ])
        .unwrap();
        assert_eq!(ok.workers, 1000);
        assert_eq!(
            ok.source_addrs,
            ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
                .map(|a| a.parse::<IpAddr>().unwrap())
                .to_vec()
        );
        assert!(with(&["--mode", "chat", "--chats", "10"]).is_ok());
    }
}
