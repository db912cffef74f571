//! The roles of DESIGN §5. A role decides which streams and endpoints a user reaches.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Night and weekend on-call worker (päivystäjä).
    Oncall,
    /// Shift supervisor: everything on-call sees, plus the access log.
    Supervisor,
    /// Member of one daytime team.
    Team,
    /// Shelter (turvakoti) staff: the shelter register only.
    Shelter,
    /// Account administration; no client data.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Oncall,
        Role::Supervisor,
        Role::Team,
        Role::Shelter,
        Role::Admin,
    ];

    /// On-call workers and supervisors: the desk that keeps the live log and answers chats.
    pub fn is_desk(self) -> bool {
        matches!(self, Role::Oncall | Role::Supervisor)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Oncall => "oncall",
            Role::Supervisor => "supervisor",
            Role::Team => "team",
            Role::Shelter => "shelter",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                AppError::validation(
                    "role",
                    format!(
                        "unknown role {s:?}; expected one of oncall, supervisor, team, shelter, admin"
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_key() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(
                serde_json::to_string(&role).unwrap(),
                format!("\"{}\"", role.as_str())
            );
        }
        assert!("root".parse::<Role>().is_err());
        assert!("Oncall".parse::<Role>().is_err());
    }
}
