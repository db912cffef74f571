//! The shelter's register: `POST /api/v1/shelter/stays` and `PATCH /api/v1/shelter/stays/{id}`
//! bodies, `serde_json::from_slice` into `NewStay` / `StayPatch` (every input is tried as
//! both), then what `Shelter::admit` and `Shelter::change` do without the database: the
//! referral code's `normalise_code`, `NewStay::into_stay`, `StayPatch::apply`; and on an
//! accepted stay what the register computes from it later: `days_of_stay`, THL's
//! `statistics`, `Capacity::of`, `depart`.
//!
//! Holds: no panic; an accepted stay has a trimmed alias of 1-100 characters, every count
//! in 0-30, 1-30 persons whose sexes add up to them, notes within 20 000 characters, no
//! arrival in the future, unique sorted forms of violence, the desk's referral as its
//! source whenever a code came with it; it survives a JSON round trip (the register
//! keeps stays as JSON); a stay lasts at least one day, of which at most all fall in one
//! year; a patch bumps the version by one.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Europe::Helsinki;
use libfuzzer_sys::fuzz_target;
use paivystys::domain::shelter::{
    self, Capacity, MAX_ALIAS, MAX_NOTES, MAX_PERSONS, NewStay, ReferralSource, Stay, StayPatch,
};

fn assert_valid(stay: &Stay, now: DateTime<Utc>) {
    common::assert_required("alias", &stay.alias, MAX_ALIAS);
    let counts = [
        stay.adults,
        stay.children.age_0_6,
        stay.children.age_7_12,
        stay.children.age_13_17,
        stay.sexes.female,
        stay.sexes.male,
        stay.sexes.other,
        stay.sexes.unknown,
    ];
    assert!(
        counts.iter().all(|n| (0..=MAX_PERSONS).contains(n)),
        "{counts:?}"
    );
    assert!((1..=MAX_PERSONS).contains(&stay.persons()));
    assert_eq!(stay.sexes.total(), stay.persons());
    if let Some(notes) = &stay.notes {
        assert!(common::chars(notes) <= MAX_NOTES);
    }
    assert!(
        stay.arrived_at <= now + Duration::minutes(5),
        "arrived in the future"
    );
    if let Some(left) = stay.departed_at {
        assert!(left >= stay.arrived_at);
    }
    let mut forms = stay.violence.clone();
    forms.sort_by_key(|v| v.as_str());
    forms.dedup();
    assert_eq!(forms, stay.violence, "forms of violence sorted and unique");
    common::assert_json_round_trip("stay", stay);
    common::assert_json_round_trip("listed stay", &stay.clone().listed());

    // What the register computes from stored stays.
    let arrival_year = stay.arrived_at.with_timezone(&Helsinki).year();
    for year in [now.year(), arrival_year] {
        let (total, in_year) = shelter::days_of_stay(stay, year, now);
        assert!(total >= 1, "a stay lasts at least one day");
        assert!(
            (0..=total).contains(&in_year),
            "{in_year} of {total} days in {year}"
        );
        let stats = shelter::statistics(year, std::slice::from_ref(stay), &[], now);
        assert_eq!(stats.days_of_stay, in_year);
    }
    let capacity = Capacity::of(8, 24, std::slice::from_ref(stay));
    assert!(capacity.beds_free >= 0 && capacity.family_places_free >= 0);
    if stay.departed_at.is_none() {
        let _ = shelter::depart(stay, now, now);
    }
}

/// The stay a patch is applied to.
fn base(now: DateTime<Utc>) -> Stay {
    let new: NewStay = serde_json::from_value(serde_json::json!({
        "alias": "Mother with two children",
        "adults": 1,
        "children": {"0_6": 1, "7_12": 1},
        "sexes": {"female": 2, "male": 1},
        "arrived_at": "2026-11-20T22:05:00Z",
        "violence": ["psychological", "physical"],
        "referral_source": "police",
        "notes": "Came by taxi at night.",
        "identity": {"name": "", "birth_dates": "", "identity_number": ""}
    }))
    .unwrap();
    new.into_stay(false, now).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let now = common::now();

    if let Ok(new) = serde_json::from_slice::<NewStay>(data) {
        // `Shelter::admit`: a code that cannot be one is refused before the stay is built;
        // one that can is taken as valid here (the register's lookup is not fuzzed).
        let code = match new.referral_code.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(typed) => shelter::normalise_code(typed).map(Some),
        };
        if let Some(code) = code {
            if let Some(c) = &code {
                assert_eq!(c.len(), shelter::CODE_DIGITS);
                assert!(c.bytes().all(|b| b.is_ascii_digit()));
                assert_eq!(shelter::normalise_code(c).as_ref(), Some(c));
            }
            let by_code = code.is_some();
            if let Ok(stay) = new.into_stay(by_code, now) {
                common::trace("stay admitted");
                assert_eq!(stay.version, 1);
                assert_eq!(stay.departed_at, None);
                assert_eq!(stay.referred_by_code, by_code);
                if by_code {
                    assert_eq!(stay.referral_source, ReferralSource::OncallReferral);
                }
                assert_valid(&stay, now);
            }
        }
    }

    if let Ok(patch) = serde_json::from_slice::<StayPatch>(data) {
        let current = base(now);
        let later = now + Duration::minutes(30);
        if let Ok(next) = patch.apply(&current, later) {
            common::trace("stay patched");
            assert_eq!(next.version, current.version + 1);
            assert_eq!((next.id, next.arrived_at), (current.id, current.arrived_at));
            assert_valid(&next, later);
        }
    }
});
