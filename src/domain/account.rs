//! Accounts and teams: the rules for names, passwords and team membership.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::roles::Role;
use crate::error::{AppError, Result};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A daytime team with its name in the three UI languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Team {
    pub key: String,
    pub name_fi: String,
    pub name_sv: String,
    pub name_en: String,
}

/// A user as the rest of the system sees it (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The daytime team of a `team` user; absent for every other role.
    pub team: Option<String>,
}

/// What the store needs to create an account; validated by `NewUser::new`.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub team: Option<String>,
    /// The team's lead, told when a handover stays unacknowledged (team users only).
    pub lead: bool,
    pub password_hash: String,
}

/// Usernames: 3–64 characters of a–z, 0–9, `.`, `_`, `-`, so they are safe in logs and URLs.
pub fn validate_username(username: &str) -> Result<()> {
    let ok_len = (3..=64).contains(&username.len());
    let ok_chars = username
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err(AppError::validation(
            "username",
            "3-64 characters: lowercase letters a-z, digits, '.', '_' or '-'",
        ))
    }
}

/// Team keys: 1–40 characters of a–z, 0–9 and `_`; they name streams (`team:<key>`).
pub fn validate_team_key(key: &str) -> Result<()> {
    let ok = (1..=40).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::validation(
            "team",
            "a team key is 1-40 characters of a-z, 0-9 and '_'",
        ))
    }
}

/// Passwords people choose although every attacker tries them first.
const COMMON_PASSWORDS: &str = include_str!("../auth/common-passwords.txt");

fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON_PASSWORDS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .any(|l| l == lower)
}

/// A password for `username`: long enough, not on the common-password list, not the
/// username itself, and not one character repeated.
pub fn validate_password_for(username: &str, password: &str) -> Result<()> {
    validate_password(password)?;
    let lower = password.to_lowercase();
    if is_common(password) {
        return Err(AppError::validation(
            "password",
            "this password is on the list of the most common ones; choose another",
        ));
    }
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err(AppError::validation(
            "password",
            "the password must not contain the username",
        ));
    }
    let mut chars = lower.chars();
    if let Some(first) = chars.next() {
        if chars.all(|c| c == first) {
            return Err(AppError::validation(
                "password",
                "one character repeated is not a password",
            ));
        }
    }
    Ok(())
}

pub fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::validation(
            "password",
            format!("at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::validation(
            "password",
            format!("at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// A `team` user belongs to exactly one team; no other role has one.
pub fn validate_role_team(role: Role, team: Option<&str>) -> Result<()> {
    match (role, team) {
        (Role::Team, Some(key)) => validate_team_key(key),
        (Role::Team, None) => Err(AppError::validation(
            "team",
            "a team user needs --team <key>",
        )),
        (_, Some(_)) => Err(AppError::validation(
            "team",
            "only a team user belongs to a team",
        )),
        (_, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_plain_and_bounded() {
        assert!(validate_username("paivystaja.1").is_ok());
        for bad in ["ab", "Päivystäjä", "a b", "x'; drop", &"a".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn passwords_need_length_but_not_too_much() {
        assert!(validate_password("short").is_err());
        assert!(validate_password("twelve chars").is_ok());
        assert!(validate_password(&"x".repeat(2000)).is_err());
        for weak in [
            "Salasana1234",
            "password1234",
            "aaaaaaaaaaaaaa",
            "anna-päivystys-anna",
        ] {
            assert!(validate_password_for("anna", weak).is_err(), "{weak}");
        }
        assert!(validate_password_for("anna", "Kolme kissaa ja kanteleet").is_ok());
    }

    #[test]
    fn only_team_users_have_a_team() {
        assert!(validate_role_team(Role::Team, Some("child_welfare")).is_ok());
        assert!(validate_role_team(Role::Team, None).is_err());
        assert!(validate_role_team(Role::Oncall, Some("adults")).is_err());
        assert!(validate_role_team(Role::Team, Some("Child Welfare")).is_err());
        assert!(validate_role_team(Role::Shelter, None).is_ok());
    }
}
