//! Stream names and who may read them.
//!
//! Every event belongs to one stream; a subscriber reads whole streams, so the stream is the
//! unit of access control (DESIGN §4.2). The server decides; the client is never trusted.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::domain::account::{User, validate_team_key};
use crate::domain::roles::Role;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StreamName {
    /// The shared live log of the on-call desk.
    Desk,
    /// One daytime team's inbox.
    Team(String),
    /// One client chat.
    Chat(Uuid),
    /// The shelter's board (never mixed with the desk).
    Shelter,
    /// What supervisors must look at: reads of client data outside one's own work.
    Supervision,
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamName::Desk => f.write_str("desk"),
            StreamName::Team(key) => write!(f, "team:{key}"),
            StreamName::Chat(id) => write!(f, "chat:{id}"),
            StreamName::Shelter => f.write_str("shelter"),
            StreamName::Supervision => f.write_str("supervision"),
        }
    }
}

impl FromStr for StreamName {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            AppError::validation(
                "stream",
                "unknown stream; expected desk, team:<key>, chat:<id>, shelter or supervision",
            )
        };
        if s.len() > 128 {
            return Err(invalid());
        }
        match s.split_once(':') {
            None if s == "desk" => Ok(StreamName::Desk),
            None if s == "shelter" => Ok(StreamName::Shelter),
            None if s == "supervision" => Ok(StreamName::Supervision),
            Some(("team", key)) => {
                validate_team_key(key).map_err(|_| invalid())?;
                Ok(StreamName::Team(key.to_owned()))
            }
            Some(("chat", id)) => {
                // Only the canonical hyphenated form, so one chat has exactly one stream name.
                let id = Uuid::parse_str(id).map_err(|_| invalid())?;
                Ok(StreamName::Chat(id))
            }
            _ => Err(invalid()),
        }
        .and_then(|name: StreamName| {
            if name.to_string() == s {
                Ok(name)
            } else {
                Err(invalid())
            }
        })
    }
}

impl StreamName {
    /// Whether a logged-in user may read this stream.
    ///
    /// On-call workers and supervisors see the desk and answer chats; a team member sees
    /// only their own team (supervisors see every team, to follow overdue handovers); only
    /// shelter staff see the shelter; administrators manage accounts and see no client data.
    pub fn readable_by(&self, user: &User) -> bool {
        match self {
            StreamName::Desk | StreamName::Chat(_) => {
                matches!(user.role, Role::Oncall | Role::Supervisor)
            }
            StreamName::Team(key) => match user.role {
                Role::Supervisor => true,
                Role::Team => user.team.as_deref() == Some(key.as_str()),
                _ => false,
            },
            StreamName::Shelter => user.role == Role::Shelter,
            StreamName::Supervision => matches!(user.role, Role::Supervisor | Role::Admin),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, team: Option<&str>) -> User {
        User {
            id: 1,
            username: "u".into(),
            display_name: "U".into(),
            role,
            team: team.map(str::to_owned),
        }
    }

    #[test]
    fn names_parse_only_in_canonical_form() {
        assert_eq!("desk".parse::<StreamName>().unwrap(), StreamName::Desk);
        assert_eq!(
            "team:child_welfare".parse::<StreamName>().unwrap(),
            StreamName::Team("child_welfare".into())
        );
        let id = Uuid::new_v4();
        assert_eq!(
            format!("chat:{id}").parse::<StreamName>().unwrap(),
            StreamName::Chat(id)
        );
        for bad in [
            "",
            "Desk",
            "desk:",
            "team:",
            "team:Child",
            "chat:nope",
            "shelter:x",
            "events",
            &format!("chat:{}", id.simple()),
            &format!("team:{}", "a".repeat(200)),
        ] {
            assert!(bad.parse::<StreamName>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn each_role_reads_only_its_streams() {
        let cw = StreamName::Team("child_welfare".into());
        let adults = StreamName::Team("adults".into());
        let chat = StreamName::Chat(Uuid::new_v4());
        let oncall = user(Role::Oncall, None);
        let sup = user(Role::Supervisor, None);
        let team = user(Role::Team, Some("child_welfare"));
        let shelter = user(Role::Shelter, None);
        let admin = user(Role::Admin, None);

        assert!(StreamName::Desk.readable_by(&oncall));
        assert!(StreamName::Desk.readable_by(&sup));
        assert!(!StreamName::Desk.readable_by(&team));
        assert!(!StreamName::Desk.readable_by(&shelter));
        assert!(!StreamName::Desk.readable_by(&admin));

        assert!(cw.readable_by(&team));
        assert!(!adults.readable_by(&team));
        assert!(cw.readable_by(&sup));
        assert!(!cw.readable_by(&oncall));

        assert!(chat.readable_by(&oncall));
        assert!(!chat.readable_by(&team));

        assert!(StreamName::Supervision.readable_by(&sup));
        assert!(StreamName::Supervision.readable_by(&admin));
        for u in [&oncall, &team, &shelter] {
            assert!(!StreamName::Supervision.readable_by(u), "{:?}", u.role);
        }

        assert!(StreamName::Shelter.readable_by(&shelter));
        for u in [&oncall, &sup, &team, &admin] {
            assert!(!StreamName::Shelter.readable_by(u), "{:?}", u.role);
        }
    }
}
