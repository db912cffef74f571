//! What several targets share: a fixed clock, a desk user, and small checks.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use paivystys::domain::account::User;
use paivystys::domain::roles::Role;

/// A fixed "now" (a Sunday night, 03:12 in Helsinki), so every run is reproducible.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 1, 12, 0).unwrap()
}

/// The Helsinki date of `now()`; the report form's `today`.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

/// The worker on shift who sends the request.
pub fn oncall() -> User {
    User {
        id: 7,
        username: "paivystaja.7".into(),
        display_name: "Päivystäjä Seitsemän".into(),
        role: Role::Oncall,
        team: None,
    }
}

pub fn supervisor() -> User {
    User {
        id: 9,
        username: "esihenkilo".into(),
        display_name: "Esihenkilö".into(),
        role: Role::Supervisor,
        team: None,
    }
}

pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Trimmed, non-empty, and at most `max` characters.
pub fn assert_required(field: &str, text: &str, max: usize) {
    assert!(!text.is_empty(), "{field}: accepted empty");
    assert_eq!(text, text.trim(), "{field}: accepted untrimmed");
    assert!(
        chars(text) <= max,
        "{field}: {} > {max} characters",
        chars(text)
    );
}

/// `None`, or trimmed, non-empty and at most `max` characters.
pub fn assert_optional(field: &str, text: &Option<String>, max: usize) {
    if let Some(t) = text {
        assert_required(field, t, max);
    }
}

/// A value survives a trip through JSON unchanged (what the store and the API rely on).
pub fn assert_json_round_trip<T>(what: &str, value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_string(value).unwrap_or_else(|e| panic!("{what}: serialize: {e}"));
    let back: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{what}: does not read back its own JSON: {e}\n{text}"));
    assert_eq!(&back, value, "{what}: changed on a JSON round trip\n{text}");
}

/// With `FUZZ_TRACE=1`, says how far an input got (to check that the seeds reach the
/// accepted paths: `FUZZ_TRACE=1 target/.../<target> -runs=0 seeds/<target>`).
pub fn trace(what: &str) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some()) {
        eprintln!("trace: {what}");
    }
}
