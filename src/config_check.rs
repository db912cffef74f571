//! `paivystys config check`: the effective settings with every secret masked, and the
//! settings that are fine on a laptop but unsafe in production (demo accounts, a public
//! address without TLS, placeholder values and weak secrets).

use secrecy::{ExposeSecret, SecretString};

use crate::config::{PLACEHOLDER_ONCALL_PHONE, Settings};
use crate::error::Result;
use crate::store::{Store, redact_url};

/// Shared secrets shorter than this are refused: they guard webhooks and the shelter link,
/// where a guessed secret lets anyone post calls or read referral statuses.
const MIN_SECRET_CHARS: usize = 32;

/// The settings with database passwords replaced, for printing (`SecretString` fields
/// print as `[REDACTED]` by themselves).
pub fn masked(settings: &Settings) -> Settings {
    let mut copy = settings.clone();
    copy.database_url = redact_url(&copy.database_url);
    copy.shelter_database_url = copy.shelter_database_url.as_deref().map(redact_url);
    copy
}

fn weak(secret: &SecretString) -> bool {
    let text = secret.expose_secret();
    let lower = text.to_lowercase();
    text.chars().count() < MIN_SECRET_CHARS
        || ["change", "example", "secret", "put-it-in", "password"]
            .iter()
            .any(|w| lower.contains(w))
}

/// A PostgreSQL URL whose connection is not required to use TLS, to a host other than
/// this machine (a Unix socket or loopback needs none).
fn plaintext_remote_postgres(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return false;
    }
    let local = match parsed.host_str() {
        None | Some("") | Some("localhost") => true,
        Some(host) => host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
    };
    let tls = parsed.query_pairs().any(|(k, v)| {
        k == "sslmode" && matches!(v.as_ref(), "require" | "verify-ca" | "verify-full")
    });
    !local && !tls
}

/// Everything in the settings alone that production must not run with.
pub fn unsafe_settings(settings: &Settings) -> Vec<String> {
    let mut problems = Vec::new();
    match settings.public.url.as_deref() {
        None => problems.push(
            "public.url is not set: name the https:// address people reach the service at".into(),
        ),
        Some(url) if !url.starts_with("https://") => problems.push(format!(
            "public.url {url:?} is not https: sessions, chats and reports would cross the network unencrypted"
        )),
        Some(_) => {}
    }
    if !settings.cookie_secure {
        problems
            .push("cookie_secure is off: the session cookie would also be sent without TLS".into());
    }
    if settings.public.oncall_phone.trim() == PLACEHOLDER_ONCALL_PHONE {
        problems.push(format!(
            "public.oncall_phone is still the placeholder {PLACEHOLDER_ONCALL_PHONE}: public pages would show a number nobody answers"
        ));
    }
    for (name, secret) in [
        ("telephony_secret", settings.telephony_secret.as_ref()),
        ("shelter.link_secret", settings.shelter.link_secret.as_ref()),
    ] {
        if secret.is_some_and(weak) {
            problems.push(format!(
                "{name} is weak: use at least {MIN_SECRET_CHARS} random characters (e.g. openssl rand -base64 32)"
            ));
        }
    }
    for (name, url) in [
        ("database_url", Some(settings.database_url.as_str())),
        (
            "shelter_database_url",
            settings.shelter_database_url.as_deref(),
        ),
    ] {
        if url.is_some_and(plaintext_remote_postgres) {
            problems.push(format!(
                "{name} reaches a remote PostgreSQL without TLS: add ?sslmode=verify-full (or require)"
            ));
        }
    }
    problems
}

/// What the database adds: demo accounts that can still log in.
pub async fn unsafe_accounts(store: &dyn Store) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for username in crate::demo::usernames() {
        if store.find_credentials(username).await?.is_some() {
            problems.push(format!(
                "the demo account {username:?} is active: its password was printed on a console"
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> Settings {
        let mut s = Settings {
            cookie_secure: true,
            database_url: "postgres://paivystys:pw@db.internal/paivystys?sslmode=verify-full"
                .into(),
            ..Settings::default()
        };
        s.public.url = Some("https://paivystys.example.fi".into());
        s.public.oncall_phone = "029 123 4567".into();
        s.telephony_secret = Some(SecretString::from("kY3v9Qm2Lr8Tz1Wx6Pn4Hs7Jd0Fb5Ca2"));
        s
    }

    #[test]
    fn a_production_configuration_passes() {
        assert_eq!(unsafe_settings(&production()), Vec::<String>::new());
    }

    #[test]
    fn each_unsafe_setting_is_named() {
        type Spoil = fn(&mut Settings);
        let cases: [(&str, Spoil); 6] = [
            ("public.url is not set", |s| s.public.url = None),
            ("is not https", |s| {
                s.public.url = Some("http://paivystys.example.fi".into())
            }),
            ("cookie_secure", |s| s.cookie_secure = false),
            ("placeholder", |s| {
                s.public.oncall_phone = PLACEHOLDER_ONCALL_PHONE.into()
            }),
            ("telephony_secret is weak", |s| {
                s.telephony_secret =
                    Some(SecretString::from("put-it-in-/etc/paivystys/env-instead"))
            }),
            ("without TLS", |s| {
                s.database_url = "postgres://paivystys:pw@10.0.0.5/paivystys".into()
            }),
        ];
        for (expected, spoil) in cases {
            let mut s = production();
            spoil(&mut s);
            let problems = unsafe_settings(&s);
            assert_eq!(problems.len(), 1, "{expected}: {problems:?}");
            assert!(problems[0].contains(expected), "{expected}: {problems:?}");
        }
    }

    #[test]
    fn a_local_database_needs_no_tls_and_passwords_never_print() {
        let mut s = production();
        s.database_url = "postgres://paivystys:hunter2@127.0.0.1/paivystys".into();
        assert!(unsafe_settings(&s).is_empty());
        let printed = format!("{:?}", masked(&s));
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("kY3v9Qm2"), "{printed}");
    }
}
