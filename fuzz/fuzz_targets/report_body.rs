//! `POST /api/v1/public/reports` bodies (no login: the most exposed input):
//! `serde_json::from_slice` into `NewReport`, then `NewReport::validated(today)`, then
//! `report::receive` and `report::received_events` as `reports::submit` does. The same
//! bytes, as text, also go through `normalise_reference` / `normalise_secret` (the codes a
//! reporter types back to add information).
//!
//! Holds: no panic; an accepted report has a trimmed description of 1-10 000 characters, an
//! empty honeypot, consent exactly for a contact, a professional reporter's name,
//! organisation and phone, every optional text trimmed, non-empty and within its bound, a
//! birth date in 1900..=today and an age of at most 130; validating it again changes
//! nothing; what it becomes is a `web_report` entry whose summary is the form's title and the
//! reference (never the reporter's words), a pending handover due after it was received,
//! and events whose handover carries no note. A normalised code
//! normalises to itself.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use chrono::Datelike;
use libfuzzer_sys::fuzz_target;
use paivystys::domain::calendar::{Calendar, OfficeHours};
use paivystys::domain::entry::{Channel, Person};
use paivystys::domain::handover::{HandoverState, LegalBasis};
use paivystys::domain::report::{
    self, MAX_DESCRIPTION, MAX_GUARDIANS, MAX_SHORT, NewReport, ReportKind, Routing,
};

fn check_codes(text: &str) {
    if let Some(code) = report::normalise_reference(text) {
        assert_eq!(code.len(), 9, "{code}");
        assert_eq!(
            report::normalise_reference(&code).as_deref(),
            Some(code.as_str())
        );
    }
    if let Some(code) = report::normalise_secret(text) {
        assert_eq!(code.len(), 23, "{code}");
        assert_eq!(
            report::normalise_secret(&code).as_deref(),
            Some(code.as_str())
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check_codes(text);
    }
    let Ok(request) = serde_json::from_slice::<NewReport>(data) else {
        return;
    };
    let today = common::today();
    let Ok(valid) = request.validated(today) else {
        return;
    };

    common::trace("report accepted");
    common::assert_required("description", &valid.description, MAX_DESCRIPTION);
    assert_eq!(valid.website, None, "the honeypot is cleared");
    match valid.kind {
        ReportKind::Contact => assert_eq!(valid.consent, Some(true), "a contact needs consent"),
        _ => assert_eq!(valid.consent, None),
    }
    let r = &valid.reporter;
    if r.professional {
        assert!(r.name.is_some() && r.organisation.is_some() && r.phone.is_some());
    }
    common::assert_optional("reporter.name", &r.name, MAX_SHORT);
    common::assert_optional("reporter.organisation", &r.organisation, MAX_SHORT);
    common::assert_optional("reporter.phone", &r.phone, MAX_SHORT);
    common::assert_optional("reporter.email", &r.email, MAX_SHORT);
    if let Some(email) = &r.email {
        assert!(email.contains('@'), "an email has an @: {email:?}");
    }
    let s = &valid.subject;
    common::assert_optional("subject.name", &s.name, MAX_SHORT);
    common::assert_optional("subject.municipality", &s.municipality, MAX_SHORT);
    common::assert_optional("subject.guardians", &s.guardians, MAX_GUARDIANS);
    if let Some(born) = s.birth_date {
        assert!(born <= today && born.year() >= 1900, "birth date {born}");
    }
    assert!(s.age.is_none_or(|age| age <= 130));

    // Validation is idempotent: what it returns is accepted again unchanged.
    let again = valid
        .clone()
        .validated(today)
        .expect("a validated report validates again");
    assert_eq!(again.description, valid.description);
    assert_eq!(again.subject, valid.subject);
    assert_eq!(again.reporter, valid.reporter);
    assert_eq!(again.consent, valid.consent);

    // What the server makes of it (`reports::submit`), with the default routing.
    let now = common::now();
    let calendar = Calendar::finnish();
    let hours = OfficeHours::standard();
    let routing = Routing {
        team: "families",
        calendar: &calendar,
        hours: &hours,
    };
    let author = Person {
        id: 1,
        name: "web-form".into(),
    };
    let reference = "K7M3-Q9XP".to_owned();
    let received = report::receive(valid.clone(), reference.clone(), author, &routing, now);
    assert_eq!(received.entry.channel, Channel::WebReport);
    assert!(received.entry.summary.ends_with(&reference));
    assert_eq!(
        received.entry.summary,
        format!("{} {reference}", valid.kind.title()),
        "the summary never carries the reporter's words"
    );
    assert_eq!(received.handover.state, HandoverState::Pending);
    assert_eq!(received.handover.note, valid.description);
    assert!(received.handover.due_at > now, "due before it was received");
    if valid.kind == ReportKind::ChildWelfare {
        assert_eq!(
            received.handover.legal_basis,
            Some(LegalBasis::ChildWelfareReport)
        );
        assert!(received.handover.legal_due_at.is_some_and(|t| t > now));
    }
    assert_eq!(received.report.reference, reference);
    let events = report::received_events(&received);
    assert!(events.len() >= 3, "entry, desk and team handover events");
    for event in &events {
        if let Some(handover) = event.data.get("handover") {
            assert!(
                handover.get("note").is_none(),
                "a stream carries the report's text"
            );
        }
    }
});
