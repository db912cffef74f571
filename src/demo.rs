//! `serve --demo`: the demo teams and one account per role, so a newcomer can log in at
//! once. Idempotent: teams are upserted; existing demo accounts keep their row and get a
//! fresh password, printed once at start (the previous run's output may be long gone).

use crate::auth::password;
use crate::auth::session::random_token;
use crate::domain::account::{NewUser, Team};
use crate::domain::clock::Clock;
use crate::domain::roles::Role;
use crate::error::Result;
use crate::store::Store;

/// The demo teams of DESIGN §5 with their names in Finnish, Swedish and English.
pub const TEAMS: [(&str, &str, &str, &str); 7] = [
    (
        "child_welfare",
        "Lastensuojelu",
        "Barnskydd",
        "Child welfare",
    ),
    (
        "families",
        "Lapsiperheiden palvelut",
        "Tjänster för barnfamiljer",
        "Services for families with children",
    ),
    (
        "adults",
        "Aikuissosiaalityö",
        "Socialt arbete för vuxna",
        "Adult social work",
    ),
    (
        "older_people",
        "Ikääntyneiden palvelut",
        "Äldreomsorg",
        "Services for older people",
    ),
    (
        "disability",
        "Vammaispalvelut",
        "Handikappservice",
        "Disability services",
    ),
    (
        "mental_health",
        "Mielenterveys- ja päihdepalvelut",
        "Mentalvårds- och missbrukartjänster",
        "Mental health and substance use services",
    ),
    (
        "family_law",
        "Perheoikeudelliset palvelut",
        "Familjerättsliga tjänster",
        "Family law services",
    ),
];

/// One demo account per role: (username, display name, role, team).
const ACCOUNTS: [(&str, &str, Role, Option<&str>); 5] = [
    ("paivystaja", "Päivystäjä (demo)", Role::Oncall, None),
    (
        "vuoropaallikko",
        "Vuoropäällikkö (demo)",
        Role::Supervisor,
        None,
    ),
    (
        "lastensuojelu",
        "Lastensuojelun tiimi (demo)",
        Role::Team,
        Some("child_welfare"),
    ),
    (
        "turvakoti",
        "Turvakodin ohjaaja (demo)",
        Role::Shelter,
        None,
    ),
    ("yllapito", "Ylläpitäjä (demo)", Role::Admin, None),
];

pub struct DemoAccount {
    pub username: &'static str,
    pub role: Role,
    pub password: String,
}

pub async fn seed_teams(store: &dyn Store) -> Result<()> {
    for (key, fi, sv, en) in TEAMS {
        store
            .upsert_team(&Team {
                key: key.into(),
                name_fi: fi.into(),
                name_sv: sv.into(),
                name_en: en.into(),
            })
            .await?;
    }
    Ok(())
}

pub async fn seed(store: &dyn Store, clock: &dyn Clock) -> Result<Vec<DemoAccount>> {
    seed_teams(store).await?;
    let mut accounts = Vec::new();
    for (username, display_name, role, team) in ACCOUNTS {
        let secret: String = random_token().chars().take(16).collect();
        let hash = password::hash(secret.clone()).await?;
        if !store.set_password(username, &hash).await? {
            store
                .create_user(
                    &NewUser {
                        username: username.into(),
                        display_name: display_name.into(),
                        role,
                        team: team.map(str::to_owned),
                        password_hash: hash,
                    },
                    clock.now(),
                )
                .await?;
        }
        accounts.push(DemoAccount {
            username,
            role,
            password: secret,
        });
    }
    Ok(accounts)
}

pub fn print_accounts(accounts: &[DemoAccount]) {
    println!("Demo accounts (new passwords at every start with --demo):");
    println!("  {:<12} {:<16} password", "role", "username");
    for a in accounts {
        println!(
            "  {:<12} {:<16} {}",
            a.role.as_str(),
            a.username,
            a.password
        );
    }
}
