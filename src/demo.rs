//! `serve --demo`: the demo teams and one account per role, so a newcomer can log in at
//! once. Idempotent: teams are upserted; existing demo accounts keep their row and get a
//! fresh password, printed once at start (the previous run's output may be long gone).

use chrono::Duration;
use serde_json::json;

use crate::auth::password;
use crate::auth::session::random_token;
use crate::domain::account::{NewUser, Team};
use crate::domain::clock::Clock;
use crate::domain::entry::{Change, NewEntry, desk_event};
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

/// The demo accounts' usernames (`config check` refuses a database where they are active).
pub fn usernames() -> impl Iterator<Item = &'static str> {
    ACCOUNTS.iter().map(|(username, ..)| *username)
}

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
                        // The demo team account leads its team, so escalations have a reader.
                        lead: role == Role::Team,
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

/// A realistic night on the desk: (fixed id, minutes ago, logged by, entry JSON). All
/// anonymous and invented. Fixed ids make re-seeding a no-op.
fn sample_night() -> Vec<(&'static str, i64, &'static str, serde_json::Value)> {
    vec![
        (
            "0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000001",
            395,
            "paivystaja",
            json!({
                "channel": "phone_in", "category": "child_welfare", "urgency": "urgent",
                "summary": "Naapuri huolissaan: pienet lapset yksin kotona",
                "subject": {"anonymous": true, "alias": "Perhe, Koivukuja"},
                "notes": "Naapuri kuullut itkua klo 21 lähtien, aikuista ei ole näkynyt. Äiti vastannut puhelimeen klo 22.40: tulossa kotiin bussilla.",
                "actions": "Soitettu äidille, sovittu takaisinsoitto klo 23.30. Kotikäynti jos ei tavoiteta.",
                "follow_up": true
            }),
        ),
        (
            "0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000002",
            340,
            "vuoropaallikko",
            json!({
                "channel": "police_request", "category": "domestic_violence", "urgency": "immediate",
                "summary": "Virka-apupyyntö: kotihälytys, lapsi paikalla",
                "subject": {"anonymous": true, "alias": "Äiti ja 7-v. lapsi"},
                "police": {"unit": "Itä-Uudenmaan poliisi, partio 4231", "outcome": "Lapsi sijoitettu kiireellisesti sukulaisille yön ajaksi."},
                "notes": "Poliisi pyysi sosiaalipäivystäjää paikalle. Äidillä ruhjeita, puoliso otettu kiinni.",
                "actions": "Päivystäjä paikalla klo 00.20–01.45. Turvakotipaikka tarkistettu.",
                "risk": {"violence_thoughts": true, "violence_plan": false, "violence_means": false, "timeframe": "puolison vapautuessa"},
                "follow_up": true
            }),
        ),
        (
            "0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000003",
            250,
            "paivystaja",
            json!({
                "channel": "phone_in", "category": "mental_health", "urgency": "immediate",
                "summary": "Nuori aikuinen, itsetuhoisia ajatuksia",
                "subject": {"anonymous": true, "alias": "Soittaja \"Aino\""},
                "notes": "Soittaja kertoo ajatelleensa itsemurhaa, suunnitelmaa ei ole. Asuu yksin.",
                "actions": "Keskusteltu 40 min, sovittu yhteydenotto aamulla. Ohjattu 112:een jos tilanne pahenee.",
                "risk": {"suicide_thoughts": true, "suicide_plan": false, "suicide_means": false, "timeframe": "ei välitöntä"},
                "follow_up": true
            }),
        ),
        (
            "0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000004",
            190,
            "paivystaja",
            json!({
                "channel": "phone_in", "category": "older_person", "urgency": "urgent",
                "summary": "Muistisairas ikäihminen eksynyt, löytyi rappukäytävästä",
                "subject": {"anonymous": true, "alias": "Ikämies, Tikkurila"},
                "notes": "Kotihoidon asiakas. Ensihoito tarkistanut, ei vammoja.",
                "actions": "Saatettu kotiin, kotihoidon yöpartio käy klo 06.",
                "follow_up": true
            }),
        ),
        (
            "0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000005",
            120,
            "vuoropaallikko",
            json!({
                "channel": "walk_in", "category": "adult", "urgency": "normal",
                "summary": "Asunnoton asiakas tarvitsee yöpaikan",
                "subject": {"anonymous": true, "alias": "Mies n. 40 v."},
                "notes": "Tullut päivystykseen klo 01.30. Ei päihtynyt.",
                "actions": "Ohjattu hätämajoitukseen, taksi tilattu."
            }),
        ),
        (
            "0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000006",
            75,
            "paivystaja",
            json!({
                "channel": "phone_out", "category": "child_family", "urgency": "normal",
                "summary": "Takaisinsoitto perheelle, tilanne rauhoittunut",
                "subject": {"anonymous": true, "alias": "Perhe, Koivukuja"},
                "notes": "Äiti kotona, lapset nukkumassa.",
                "actions": "Ilmoitus päivän lastensuojelulle aamulla."
            }),
        ),
        (
            "0b7d5c1e-6f0a-4c1e-9d3a-5a1f00000007",
            30,
            "paivystaja",
            json!({
                "channel": "phone_in", "category": "crisis", "urgency": "urgent",
                "summary": "Äkillinen kuolema perheessä, omaiset tarvitsevat tukea",
                "subject": {"anonymous": true, "alias": "Omaiset, Myyrmäki"},
                "notes": "Poliisi ilmoittanut kuolemasta omaisille klo 03.50.",
                "actions": "Kriisityöntekijä lähtee paikalle."
            }),
        ),
    ]
}

/// Seeds the sample night (idempotent: the fixed ids make a second run change nothing).
pub async fn seed_entries(store: &dyn Store, clock: &dyn Clock) -> Result<usize> {
    let now = clock.now();
    let mut created = 0;
    for (id, minutes_ago, username, mut body) in sample_night() {
        let Some((author, _)) = store.find_credentials(username).await? else {
            continue;
        };
        body["id"] = json!(id);
        body["occurred_at"] = json!(now - Duration::minutes(minutes_ago));
        let request: NewEntry = serde_json::from_value(body)?;
        let entry = request.into_entry(&author, now)?;
        let inserted = store
            .insert_entry(&entry, &[desk_event(&entry, Change::Created)])
            .await?;
        if matches!(inserted, crate::store::Inserted::Created) {
            created += 1;
        }
    }
    Ok(created)
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

/// Two families staying at the demo shelter, so its console and the desk's free places show
/// something real. Only into an empty register, so a restart adds nothing.
pub async fn seed_shelter(shelter: &crate::shelter::Shelter, clock: &dyn Clock) -> Result<usize> {
    use crate::shelter::register::StayFilter;
    if !shelter.stays(StayFilter::All).await?.is_empty() {
        return Ok(0);
    }
    let now = clock.now();
    let families = [
        (
            "Sinikello",
            json!({"adults": 1, "children": {"0_6": 2}, "sexes": {"female": 2, "male": 1},
                "violence": ["physical", "psychological"], "referral_source": "police",
                "notes": "Saapui poliisin saattamana yöllä. Lapset 2 ja 5 v."}),
            Duration::days(3),
        ),
        (
            "Kielo",
            json!({"adults": 1, "sexes": {"unknown": 1},
                "violence": ["psychological", "economic", "stalking"], "referral_source": "self",
                "notes": "Haluaa pysyä täysin nimettömänä."}),
            Duration::hours(20),
        ),
    ];
    let count = families.len();
    for (alias, mut body, ago) in families {
        body["alias"] = json!(alias);
        body["arrived_at"] = json!(now - ago);
        let request: crate::domain::shelter::NewStay = serde_json::from_value(body)?;
        shelter.admit(request, 0, now).await?;
    }
    Ok(count)
}
