//! Online reports from the public, sent without logging in: a contact with the person's
//! consent (Sosiaalihuoltolaki § 35), a report of a person's need for social care, a child
//! welfare report (Lastensuojelulaki § 25) and a report about an older person
//! (Vanhuspalvelulaki § 25). Each becomes a `web_report` entry and a handover due by the
//! next working day; the reporter gets a reference and a secret to add information later,
//! never to read the report back (it may hold other people's data).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Helsinki;
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::calendar::{Calendar, OfficeHours};
use crate::domain::chat::Language;
use crate::domain::entry::{
    Category, Channel, Entry, IdentifiedSubject, Person, RiskChecklist, Status, Subject, Urgency,
};
use crate::domain::handover::{self, Handing, Handover, LegalBasis};
use crate::domain::stream::StreamName;
use crate::error::{AppError, Result};
use crate::events::NewEvent;

pub const MAX_DESCRIPTION: usize = 10_000;
pub const MAX_ADDITION: usize = 10_000;
pub const MAX_SHORT: usize = 200;
pub const MAX_GUARDIANS: usize = 1_000;
/// Additions one report takes; beyond this the reporter should call.
pub const MAX_ADDITIONS: i64 = 50;

/// Letters and digits that cannot be mistaken for each other when read aloud or copied by
/// hand (no 0/O, 1/I).
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

key_enum!(
    ReportKind {
        /// Yhteydenotto (SHL § 35): with the person's consent.
        Contact = "contact",
        /// A person who cannot look after themselves (no consent needed).
        Concern = "concern",
        /// Lastensuojeluilmoitus (LsL § 25).
        ChildWelfare = "child_welfare",
        /// About an older person's need for services (VPL § 25).
        OlderPerson = "older_person",
    }
);

impl ReportKind {
    /// The report's name in the county's two official languages, for the live log.
    pub fn title(self) -> &'static str {
        match self {
            ReportKind::Contact => "Yhteydenotto / Kontakt",
            ReportKind::Concern => "Huoli-ilmoitus / Anmälan om oro",
            ReportKind::ChildWelfare => "Lastensuojeluilmoitus / Barnskyddsanmälan",
            ReportKind::OlderPerson => "Ilmoitus iäkkäästä / Anmälan om äldre person",
        }
    }

    pub fn category(self) -> Category {
        match self {
            ReportKind::Contact | ReportKind::Concern => Category::Adult,
            ReportKind::ChildWelfare => Category::ChildWelfare,
            ReportKind::OlderPerson => Category::OlderPerson,
        }
    }
}

/// Whom the report is about; every field optional but encouraged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSubject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// When the birth date is not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    /// For a child: the parents or guardians and how to reach them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardians: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reporter {
    /// Reporting in an official capacity (health care, school, police, …): obliged to
    /// report, so name, organisation and phone are required.
    pub professional: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `POST /api/v1/public/reports`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// Client-generated: a retry after a lost answer returns the same report (with a new
    /// secret, since the first was never seen) instead of making a second one.
    pub client_id: Option<Uuid>,
    pub kind: ReportKind,
    /// The reporter thinks it cannot wait: the desk is alerted at once.
    #[serde(default)]
    pub urgent: bool,
    /// The form's language (default `fi`).
    pub language: Option<Language>,
    /// For a contact: the person knows and agrees.
    pub consent: Option<bool>,
    pub description: String,
    #[serde(default)]
    pub subject: ReportSubject,
    pub reporter: Reporter,
    /// A field people never see and robots fill in: must be absent or empty.
    #[serde(default)]
    pub website: Option<String>,
}

/// A report as received, without anything that would trace its sender's device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Report {
    pub reference: String,
    pub kind: ReportKind,
    pub urgent: bool,
    pub language: Language,
    pub received_at: DateTime<Utc>,
    /// Recorded for a contact; `null` for the other kinds.
    pub consent: Option<bool>,
    pub subject: ReportSubject,
    pub reporter: Reporter,
    pub description: String,
    pub entry_id: Uuid,
    pub handover_id: Uuid,
    pub team: String,
}

/// Information the reporter added later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Addition {
    pub at: DateTime<Utc>,
    pub text: String,
}

/// Trims, and turns an empty string into nothing.
fn given(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

fn at_most(field: &str, text: &Option<String>, max: usize) -> Result<()> {
    match text {
        Some(t) if t.chars().count() > max => Err(AppError::validation(
            field,
            format!("at most {max} characters"),
        )),
        _ => Ok(()),
    }
}

/// Required free text of at most `max` characters, trimmed.
pub fn required_text(field: &str, text: &str, max: usize) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::validation(field, "must not be empty"));
    }
    at_most(field, &Some(text.to_owned()), max)?;
    Ok(text.to_owned())
}

impl NewReport {
    /// The report's content checked and tidied, or the first thing wrong with it.
    pub fn validated(self, today: NaiveDate) -> Result<NewReport> {
        if given(self.website.clone()).is_some() {
            return Err(AppError::validation(
                "website",
                "this field must be left empty",
            ));
        }
        let description = required_text("description", &self.description, MAX_DESCRIPTION)?;
        if self.kind == ReportKind::Contact && self.consent != Some(true) {
            return Err(AppError::validation(
                "consent",
                "a contact needs the person's consent; without it, send a concern report",
            ));
        }
        let reporter = Reporter {
            professional: self.reporter.professional,
            name: given(self.reporter.name),
            organisation: given(self.reporter.organisation),
            phone: given(self.reporter.phone),
            email: given(self.reporter.email),
        };
        if reporter.professional {
            let missing: Vec<String> = [
                ("reporter.name", &reporter.name),
                ("reporter.organisation", &reporter.organisation),
                ("reporter.phone", &reporter.phone),
            ]
            .into_iter()
            .filter(|(_, value)| value.is_none())
            .map(|(field, _)| field.to_owned())
            .collect();
            if !missing.is_empty() {
                return Err(AppError::MissingFields {
                    fields: missing,
                    why: "a professional reporter must give name, organisation and phone".into(),
                });
            }
        }
        if reporter
            .email
            .as_deref()
            .is_some_and(|e| !plausible_email(e))
        {
            return Err(AppError::validation(
                "reporter.email",
                "not an email address",
            ));
        }
        for (field, value) in [
            ("reporter.name", &reporter.name),
            ("reporter.organisation", &reporter.organisation),
            ("reporter.phone", &reporter.phone),
            ("reporter.email", &reporter.email),
        ] {
            at_most(field, value, MAX_SHORT)?;
        }
        let subject = ReportSubject {
            name: given(self.subject.name),
            municipality: given(self.subject.municipality),
            guardians: given(self.subject.guardians),
            ..self.subject
        };
        at_most("subject.name", &subject.name, MAX_SHORT)?;
        at_most("subject.municipality", &subject.municipality, MAX_SHORT)?;
        at_most("subject.guardians", &subject.guardians, MAX_GUARDIANS)?;
        if let Some(born) = subject.birth_date {
            if born > today || born.year() < 1900 {
                return Err(AppError::validation(
                    "subject.birth_date",
                    "must be a real date in the past",
                ));
            }
        }
        if subject.age.is_some_and(|age| age > 130) {
            return Err(AppError::validation(
                "subject.age",
                "must be between 0 and 130",
            ));
        }
        Ok(NewReport {
            description,
            reporter,
            subject,
            consent: (self.kind == ReportKind::Contact).then_some(true),
            website: None,
            ..self
        })
    }
}

/// One `@` with something on both sides and a dot in the domain: enough to catch a phone
/// number typed into the wrong field, without pretending to validate deliverability.
fn plausible_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}

impl ReportSubject {
    /// The age in whole years on `today`, from the birth date or as given.
    pub fn age_on(&self, today: NaiveDate) -> Option<u32> {
        self.birth_date
            .and_then(|born| today.years_since(born))
            .or(self.age.map(u32::from))
    }
}

/// The legal clock a report starts: LsL § 26 for a child welfare report (7 working days to
/// decide on a service-need assessment), and SHL § 36 for an older person known to be 75
/// or more (the assessment starts by the 7th working day).
pub fn legal_basis(
    kind: ReportKind,
    subject: &ReportSubject,
    today: NaiveDate,
) -> Option<LegalBasis> {
    match kind {
        ReportKind::ChildWelfare => Some(LegalBasis::ChildWelfareReport),
        ReportKind::OlderPerson if subject.age_on(today).is_some_and(|age| age >= 75) => {
            Some(LegalBasis::ServiceNeed75)
        }
        _ => None,
    }
}

fn random_code(groups: &[usize]) -> String {
    let mut rng = rand::rng();
    groups
        .iter()
        .map(|&len| {
            (0..len)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A new reference, e.g. `K7M3-Q9XP` (40 bits; unique in the table).
pub fn new_reference() -> String {
    random_code(&[4, 4])
}

/// A new secret, e.g. `ABCDE-FGHJK-LMNPQ-RSTUV` (100 bits), shown to the reporter once.
pub fn new_secret() -> String {
    random_code(&[5, 5, 5, 5])
}

/// A code as typed back by a person: upper case, without spaces and dashes, then grouped
/// as issued. `None` when it cannot be one of ours.
pub fn normalise_code(typed: &str, groups: &[usize]) -> Option<String> {
    let bare: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{a0}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let total: usize = groups.iter().sum();
    if bare.len() != total || !bare.bytes().all(|b| ALPHABET.contains(&b)) {
        return None;
    }
    let mut rest = bare.as_str();
    let mut parts = Vec::with_capacity(groups.len());
    for &len in groups {
        let (part, tail) = rest.split_at(len);
        parts.push(part);
        rest = tail;
    }
    Some(parts.join("-"))
}

pub fn normalise_reference(typed: &str) -> Option<String> {
    normalise_code(typed, &[4, 4])
}

pub fn normalise_secret(typed: &str) -> Option<String> {
    normalise_code(typed, &[5, 5, 5, 5])
}

/// What a received report becomes on the county's side.
pub struct Received {
    pub report: Report,
    pub entry: Entry,
    pub handover: Handover,
}

/// Where a report goes and how its clocks run.
pub struct Routing<'a> {
    pub team: &'a str,
    pub calendar: &'a Calendar,
    pub hours: &'a OfficeHours,
}

/// Builds the report, its `web_report` entry and its handover, received at `now` and
/// written in by `author` (the web form's system account).
pub fn receive(
    valid: NewReport,
    reference: String,
    author: Person,
    routing: &Routing<'_>,
    now: DateTime<Utc>,
) -> Received {
    let today = now.with_timezone(&Helsinki).date_naive();
    let subject = match &valid.subject.name {
        Some(name) => Subject::Identified(IdentifiedSubject {
            anonymous: false,
            name: name.clone(),
            birth_date: valid.subject.birth_date,
            municipality: valid.subject.municipality.clone(),
        }),
        None => Subject::anonymous(reference.clone()),
    };
    let entry = Entry {
        id: Uuid::new_v4(),
        version: 1,
        channel: Channel::WebReport,
        category: valid.kind.category(),
        urgency: if valid.urgent {
            Urgency::Urgent
        } else {
            Urgency::Normal
        },
        status: Status::Open,
        // Never the reporter's words: the summary travels in desk events and on the board,
        // and the description may name other people.
        summary: format!("{} {reference}", valid.kind.title()),
        subject,
        notes: String::new(),
        actions: String::new(),
        risk: RiskChecklist::default(),
        follow_up: true,
        police: None,
        occurred_at: now,
        created_at: now,
        updated_at: now,
        created_by: author.clone(),
        claimed_by: None,
        chat: None,
        call: None,
    };
    let handing = Handing {
        id: Uuid::new_v4(),
        team: routing.team.to_owned(),
        note: valid.description.clone(),
        urgent: valid.urgent,
        legal_basis: legal_basis(valid.kind, &valid.subject, today),
    };
    let handover = handover::pending(
        handing,
        &entry,
        author,
        routing.calendar,
        routing.hours,
        now,
    );
    let report = Report {
        reference,
        kind: valid.kind,
        urgent: valid.urgent,
        language: valid.language.unwrap_or(Language::Fi),
        received_at: now,
        consent: valid.consent,
        subject: valid.subject,
        reporter: valid.reporter,
        description: valid.description,
        entry_id: entry.id,
        handover_id: handover.id,
        team: routing.team.to_owned(),
    };
    Received {
        report,
        entry,
        handover,
    }
}

impl Report {
    /// What events say about a report: never its text or anyone's name.
    fn pointer(&self) -> serde_json::Value {
        serde_json::json!({
            "reference": self.reference,
            "kind": self.kind,
            "entry_id": self.entry_id,
            "handover_id": self.handover_id,
            "team": self.team,
            "received_at": self.received_at,
        })
    }
}

/// The events of a received report: the entry and the handover as any other, and for an
/// urgent one an alert on the desk so the worker on shift sees it at once.
pub fn received_events(received: &Received) -> Vec<NewEvent> {
    let mut events = vec![crate::domain::entry::desk_event(
        &received.entry,
        crate::domain::entry::Change::Created,
    )];
    events.extend(handover::events(&received.handover, "handover.created"));
    if received.report.urgent {
        events.push(NewEvent::new(
            StreamName::Desk,
            "report.urgent",
            serde_json::json!({ "report": received.report.pointer() }),
        ));
    }
    events
}

/// The events of information added: to the desk and the team that has the handover.
pub fn added_events(report: &Report, additions: i64, at: DateTime<Utc>) -> Vec<NewEvent> {
    let mut pointer = report.pointer();
    pointer["additions"] = additions.into();
    pointer["at"] = serde_json::to_value(at).unwrap_or_default();
    let data = serde_json::json!({ "report": pointer });
    vec![
        NewEvent::new(StreamName::Desk, "report.added", data.clone()),
        NewEvent::new(StreamName::Team(report.team.clone()), "report.added", data),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn helsinki(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Helsinki
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn report(kind: ReportKind) -> NewReport {
        NewReport {
            client_id: None,
            kind,
            urgent: false,
            language: None,
            consent: None,
            description: "  Naapurin lapset ovat yksin.  ".into(),
            subject: ReportSubject::default(),
            reporter: Reporter::default(),
            website: None,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn received(kind: ReportKind, subject: ReportSubject, at: DateTime<Utc>) -> Received {
        let valid = NewReport {
            subject,
            consent: Some(true),
            ..report(kind)
        }
        .validated(at.date_naive())
        .unwrap();
        let calendar = Calendar::finnish();
        let hours = OfficeHours::standard();
        let routing = Routing {
            team: "child_welfare",
            calendar: &calendar,
            hours: &hours,
        };
        let author = Person {
            id: 1,
            name: "web".into(),
        };
        receive(valid, new_reference(), author, &routing, at)
    }

    #[test]
    fn a_professional_must_name_themselves_and_every_missing_field_is_named() {
        let mut r = report(ReportKind::ChildWelfare);
        r.reporter = Reporter {
            professional: true,
            name: Some("Terveydenhoitaja Aino".into()),
            organisation: Some("   ".into()),
            ..Reporter::default()
        };
        match r.validated(today()) {
            Err(AppError::MissingFields { fields, .. }) => {
                assert_eq!(fields, ["reporter.organisation", "reporter.phone"])
            }
            other => panic!("expected missing fields, got {other:?}"),
        }
    }

    #[test]
    fn a_private_person_may_stay_anonymous_and_text_is_trimmed() {
        let valid = report(ReportKind::Concern).validated(today()).unwrap();
        assert_eq!(valid.description, "Naapurin lapset ovat yksin.");
        assert_eq!(valid.reporter.name, None);
        assert_eq!(valid.consent, None);
    }

    #[test]
    fn a_contact_needs_consent_and_the_honeypot_must_stay_empty() {
        let err = report(ReportKind::Contact).validated(today()).unwrap_err();
        assert!(matches!(&err, AppError::Validation { field, .. } if field == "consent"));
        let mut bot = report(ReportKind::Concern);
        bot.website = Some("http://spam.example".into());
        let err = bot.validated(today()).unwrap_err();
        assert!(matches!(&err, AppError::Validation { field, .. } if field == "website"));
    }

    #[test]
    fn an_email_must_look_like_one() {
        for (email, ok) in [
            ("aino.aalto@porvoo.fi", true),
            ("040 123 4567", false),
            ("aino@", false),
            ("aino@localhost", false),
            ("a b@porvoo.fi", false),
        ] {
            let mut r = report(ReportKind::Concern);
            r.reporter.email = Some(email.into());
            assert_eq!(r.validated(today()).is_ok(), ok, "{email}");
        }
    }

    #[test]
    fn garbage_in_the_subject_is_refused_by_field() {
        let mut r = report(ReportKind::OlderPerson);
        r.subject.birth_date = NaiveDate::from_ymd_opt(2030, 1, 1);
        let err = r.validated(today()).unwrap_err();
        assert!(
            matches!(&err, AppError::Validation { field, .. } if field == "subject.birth_date")
        );
        let mut r = report(ReportKind::OlderPerson);
        r.subject.age = Some(200);
        let err = r.validated(today()).unwrap_err();
        assert!(matches!(&err, AppError::Validation { field, .. } if field == "subject.age"));
        let mut r = report(ReportKind::OlderPerson);
        r.description = "x".repeat(MAX_DESCRIPTION + 1);
        let err = r.validated(today()).unwrap_err();
        assert!(matches!(&err, AppError::Validation { field, .. } if field == "description"));
    }

    #[test]
    fn codes_are_read_back_however_they_are_typed() {
        let reference = new_reference();
        assert_eq!(reference.len(), 9);
        let typed = reference.to_lowercase().replace('-', " ");
        assert_eq!(normalise_reference(&typed), Some(reference));
        let secret = new_secret();
        assert_eq!(normalise_secret(&secret.replace('-', "")), Some(secret));
        assert_eq!(
            normalise_reference("K7M3-Q9X0"),
            None,
            "0 is not in the alphabet"
        );
        assert_eq!(normalise_reference("K7M3-Q9X"), None);
        assert_eq!(normalise_reference("ÄÄÄÄ-ÄÄÄÄ"), None);
    }

    #[test]
    fn a_friday_night_report_is_due_at_monday_close_and_starts_the_child_welfare_clock() {
        // Friday 20.11.2026 at 22:00: due Monday 23.11. at 16:00; LsL § 26: 7 working days
        // after the day of receipt is Tuesday 1.12. at the end of the day.
        let r = received(
            ReportKind::ChildWelfare,
            ReportSubject::default(),
            helsinki(2026, 11, 20, 22, 0),
        );
        assert_eq!(r.handover.due_at, helsinki(2026, 11, 23, 16, 0));
        assert_eq!(r.handover.legal_basis, Some(LegalBasis::ChildWelfareReport));
        assert_eq!(
            r.handover.legal_due_at,
            Some(
                Helsinki
                    .with_ymd_and_hms(2026, 12, 1, 23, 59, 59)
                    .unwrap()
                    .with_timezone(&Utc)
            )
        );
        assert_eq!(r.entry.channel, Channel::WebReport);
        assert_eq!(r.entry.category, Category::ChildWelfare);
        assert!(!r.entry.subject.is_identified());
    }

    #[test]
    fn an_older_person_of_75_or_more_starts_the_service_need_clock() {
        let at = helsinki(2026, 11, 24, 10, 0);
        let born_1950 = ReportSubject {
            name: Some("Eino Esimerkki".into()),
            birth_date: NaiveDate::from_ymd_opt(1950, 3, 1),
            ..ReportSubject::default()
        };
        let r = received(ReportKind::OlderPerson, born_1950, at);
        assert_eq!(r.handover.legal_basis, Some(LegalBasis::ServiceNeed75));
        assert!(r.entry.subject.is_identified());
        let seventy = ReportSubject {
            age: Some(70),
            ..ReportSubject::default()
        };
        let r = received(ReportKind::OlderPerson, seventy, at);
        assert_eq!(r.handover.legal_basis, None);
    }
}
