//! The shelter's (turvakoti) register: stays, referral codes, capacity and THL's yearly
//! statistics. People may come anonymously (Act 1354/2014 § 3): a stay needs only an alias
//! chosen with the client and counts; identity fields exist but are optional.
//!
//! Days of stay are nights in Helsinki time: a stay from the evening of 30 December to the
//! morning of 2 January is three days, two in the first year and one in the next; a stay
//! that begins and ends on the same day counts as one.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Helsinki;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{AppError, Result};

key_enum!(
    /// Forms of violence, as THL's shelter statistics count them.
    Violence {
        Physical = "physical",
        Psychological = "psychological",
        Sexual = "sexual",
        Economic = "economic",
        Neglect = "neglect",
        Stalking = "stalking",
        HonourRelated = "honour_related",
        Other = "other",
    }
);

key_enum!(
    /// Who sent the client.
    ReferralSource {
        OncallReferral = "oncall_referral",
        SelfReferred = "self",
        Police = "police",
        HealthCare = "health_care",
        SocialServices = "social_services",
        Other = "other",
    }
);

key_enum!(
    /// What the desk may know of a referral: nothing more than this.
    ReferralStatus {
        Issued = "issued",
        Arrived = "arrived",
        Expired = "expired",
    }
);

pub const MAX_ALIAS: usize = 100;
pub const MAX_NOTES: usize = 20_000;
/// More people than any family place holds: a typing error, not a family.
pub const MAX_PERSONS: i64 = 30;

/// Children by age band.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Children {
    #[serde(rename = "0_6")]
    pub age_0_6: i64,
    #[serde(rename = "7_12")]
    pub age_7_12: i64,
    #[serde(rename = "13_17")]
    pub age_13_17: i64,
}

impl Children {
    pub fn total(&self) -> i64 {
        self.age_0_6 + self.age_7_12 + self.age_13_17
    }
}

/// The persons of a stay by sex; "unknown" is a real answer (THL counts it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Sexes {
    pub female: i64,
    pub male: i64,
    pub other: i64,
    pub unknown: i64,
}

impl Sexes {
    pub fn total(&self) -> i64 {
        self.female + self.male + self.other + self.unknown
    }
}

/// Optional identity fields; encrypted at rest, hidden by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Identity {
    pub name: String,
    pub birth_dates: String,
    pub identity_number: String,
}

impl Identity {
    fn is_empty(&self) -> bool {
        self.name.trim().is_empty()
            && self.birth_dates.trim().is_empty()
            && self.identity_number.trim().is_empty()
    }
}

/// A stay as the shelter staff see it. `notes` and `identity` are only filled when one
/// stay is opened (they are stored encrypted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Stay {
    pub id: Uuid,
    pub version: i64,
    pub alias: String,
    pub adults: i64,
    pub children: Children,
    pub sexes: Sexes,
    pub arrived_at: DateTime<Utc>,
    pub departed_at: Option<DateTime<Utc>>,
    pub violence: Vec<Violence>,
    pub referral_source: ReferralSource,
    /// Arrived with a referral code from the on-call desk.
    pub referred_by_code: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

impl Stay {
    pub fn persons(&self) -> i64 {
        self.adults + self.children.total()
    }

    /// What lists show: no notes, no identity.
    pub fn listed(mut self) -> Stay {
        self.notes = None;
        self.identity = None;
        self
    }

    fn validate(&self, now: DateTime<Utc>) -> Result<()> {
        let alias = self.alias.trim();
        if alias.is_empty() {
            return Err(AppError::validation(
                "alias",
                "choose an alias with the client",
            ));
        }
        if alias.chars().count() > MAX_ALIAS {
            return Err(AppError::validation(
                "alias",
                format!("at most {MAX_ALIAS} characters"),
            ));
        }
        let counts = [
            ("adults", self.adults),
            ("children.0_6", self.children.age_0_6),
            ("children.7_12", self.children.age_7_12),
            ("children.13_17", self.children.age_13_17),
            ("sexes.female", self.sexes.female),
            ("sexes.male", self.sexes.male),
            ("sexes.other", self.sexes.other),
            ("sexes.unknown", self.sexes.unknown),
        ];
        for (field, n) in counts {
            if !(0..=MAX_PERSONS).contains(&n) {
                return Err(AppError::validation(
                    field,
                    format!("must be 0-{MAX_PERSONS}"),
                ));
            }
        }
        if self.persons() < 1 {
            return Err(AppError::validation(
                "adults",
                "a stay has at least one person",
            ));
        }
        if self.persons() > MAX_PERSONS {
            return Err(AppError::validation(
                "adults",
                format!("at most {MAX_PERSONS} persons in one stay"),
            ));
        }
        if self.sexes.total() != self.persons() {
            return Err(AppError::validation(
                "sexes",
                format!(
                    "the sexes must add up to the {} persons (use \"unknown\")",
                    self.persons()
                ),
            ));
        }
        if self
            .notes
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTES)
        {
            return Err(AppError::validation(
                "notes",
                format!("at most {MAX_NOTES} characters"),
            ));
        }
        if self.arrived_at > now + chrono::Duration::minutes(5) {
            return Err(AppError::validation(
                "arrived_at",
                "must not be in the future",
            ));
        }
        if let Some(left) = self.departed_at {
            if left < self.arrived_at {
                return Err(AppError::validation(
                    "departed_at",
                    "must not be before the arrival",
                ));
            }
        }
        Ok(())
    }
}

/// A new arrival.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStay {
    pub alias: String,
    #[serde(default)]
    pub adults: i64,
    #[serde(default)]
    pub children: Children,
    #[serde(default)]
    pub sexes: Sexes,
    /// Default now.
    pub arrived_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub violence: Vec<String>,
    pub referral_source: Option<String>,
    #[serde(default)]
    pub notes: String,
    pub identity: Option<Identity>,
    /// The one-time code from the on-call desk, if the client has one.
    pub referral_code: Option<String>,
}

fn violence_of(keys: &[String]) -> Result<Vec<Violence>> {
    let mut forms = Vec::new();
    for key in keys {
        let form = Violence::parse_field(key, "violence")?;
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms.sort_by_key(|v| v.as_str());
    Ok(forms)
}

fn identity_of(identity: Option<Identity>) -> Option<Identity> {
    identity.filter(|i| !i.is_empty())
}

impl NewStay {
    /// Version 1 of the stay; `by_code` when a valid referral code came with it.
    pub fn into_stay(self, by_code: bool, now: DateTime<Utc>) -> Result<Stay> {
        let source = match (&self.referral_source, by_code) {
            (_, true) => ReferralSource::OncallReferral,
            (Some(s), false) if !s.is_empty() => ReferralSource::parse_field(s, "referral_source")?,
            _ => {
                return Err(AppError::validation(
                    "referral_source",
                    "say who referred the client (or enter the desk's referral code)",
                ));
            }
        };
        let stay = Stay {
            id: Uuid::new_v4(),
            version: 1,
            alias: self.alias.trim().to_owned(),
            adults: self.adults,
            children: self.children,
            sexes: self.sexes,
            arrived_at: self.arrived_at.unwrap_or(now),
            departed_at: None,
            violence: violence_of(&self.violence)?,
            referral_source: source,
            referred_by_code: by_code,
            notes: Some(self.notes),
            identity: identity_of(self.identity),
        };
        stay.validate(now)?;
        Ok(stay)
    }
}

/// A change to a stay; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StayPatch {
    pub alias: Option<String>,
    pub adults: Option<i64>,
    pub children: Option<Children>,
    pub sexes: Option<Sexes>,
    pub violence: Option<Vec<String>>,
    pub referral_source: Option<String>,
    pub notes: Option<String>,
    /// `null` removes the identity fields.
    #[serde(default, with = "crate::domain::entry::double_option")]
    #[schema(value_type = Option<Identity>)]
    pub identity: Option<Option<Identity>>,
}

impl StayPatch {
    /// The next version (`current` must hold its notes and identity).
    pub fn apply(self, current: &Stay, now: DateTime<Utc>) -> Result<Stay> {
        let mut next = current.clone();
        if let Some(v) = self.alias {
            next.alias = v.trim().to_owned();
        }
        if let Some(v) = self.adults {
            next.adults = v;
        }
        if let Some(v) = self.children {
            next.children = v;
        }
        if let Some(v) = self.sexes {
            next.sexes = v;
        }
        if let Some(v) = self.violence {
            next.violence = violence_of(&v)?;
        }
        if let Some(v) = self.referral_source {
            next.referral_source = ReferralSource::parse_field(&v, "referral_source")?;
        }
        if let Some(v) = self.notes {
            next.notes = Some(v);
        }
        if let Some(v) = self.identity {
            next.identity = identity_of(v);
        }
        next.version += 1;
        next.validate(now)?;
        Ok(next)
    }
}

/// The stay has ended.
pub fn depart(current: &Stay, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Stay> {
    if current.departed_at.is_some() {
        return Err(AppError::Conflict("the stay has already ended".into()));
    }
    if at > now + chrono::Duration::minutes(5) {
        return Err(AppError::validation("at", "must not be in the future"));
    }
    let mut next = current.clone();
    next.departed_at = Some(at);
    next.version += 1;
    next.validate(now)?;
    Ok(next)
}

/// Free family places and beds: all the desk ever learns of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Capacity {
    pub family_places: i64,
    pub beds: i64,
    pub family_places_free: i64,
    pub beds_free: i64,
}

impl Capacity {
    /// Each current stay takes one family place and a bed per person.
    pub fn of(family_places: i64, beds: i64, current: &[Stay]) -> Capacity {
        let used_beds: i64 = current.iter().map(Stay::persons).sum();
        Capacity {
            family_places,
            beds,
            family_places_free: (family_places - current.len() as i64).max(0),
            beds_free: (beds - used_beds).max(0),
        }
    }
}

/// Referral codes are eight digits: easy to say on the phone and to type at the door
/// ("4821 5739"); with a lifetime of hours and a limit on attempts they cannot be guessed.
pub const CODE_DIGITS: usize = 8;

/// The digits of a code as typed or said ("4821 5739", "4821-5739"); `None` when it cannot
/// be a code at all.
pub fn normalise_code(typed: &str) -> Option<String> {
    let digits: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == CODE_DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

/// The desk's own record of a referral it issued: never the stay, never the alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeskReferral {
    pub code: String,
    /// The live-log entry it was made from, if any (the shelter never sees it).
    pub entry_id: Option<Uuid>,
    pub issued_by: crate::domain::entry::Person,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub status: ReferralStatus,
    /// When the desk learned the current status.
    pub status_at: DateTime<Utc>,
}

/// People turned away for lack of space on one day (counts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TurnedAway {
    pub date: NaiveDate,
    pub adults: i64,
    pub children: i64,
}

/// THL's yearly aggregates: counts only, never a stay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Statistics {
    pub year: i32,
    pub clients: ClientCounts,
    /// Days of stay within the year (Helsinki nights; see the module comment).
    pub days_of_stay: i64,
    /// Stays that had at least one day in the year.
    pub stays: i64,
    /// Stays by their whole length, keys `1_7`, `8_30`, `31_90`, `91_`.
    pub stays_by_length: BTreeMap<String, i64>,
    pub violence: BTreeMap<String, i64>,
    pub turned_away: TurnedAwayCounts,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClientCounts {
    pub adults: i64,
    pub children: i64,
    pub by_sex: Sexes,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct TurnedAwayCounts {
    pub adults: i64,
    pub children: i64,
}

fn local_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Helsinki).date_naive()
}

/// Days of a stay, and how many fall in `year`: nights from the arrival date to the
/// departure date (still open: to `now`), at least one.
pub fn days_of_stay(stay: &Stay, year: i32, now: DateTime<Utc>) -> (i64, i64) {
    let first = local_date(stay.arrived_at);
    let end = local_date(stay.departed_at.unwrap_or(now));
    // The nights are the dates first ..= end-1; a same-day stay counts its one date.
    let last = if end > first {
        end.pred_opt().unwrap_or(end)
    } else {
        first
    };
    let total = (last - first).num_days() + 1;
    let year_first = NaiveDate::from_ymd_opt(year, 1, 1).expect("a valid year");
    let year_last = NaiveDate::from_ymd_opt(year, 12, 31).expect("a valid year");
    let from = first.max(year_first);
    let to = last.min(year_last);
    let in_year = if to >= from {
        (to - from).num_days() + 1
    } else {
        0
    };
    (total, in_year)
}

/// The aggregates of `year` over the stays that touch it and the turned-away records.
pub fn statistics(
    year: i32,
    stays: &[Stay],
    turned_away: &[TurnedAway],
    now: DateTime<Utc>,
) -> Statistics {
    let mut stats = Statistics {
        year,
        ..Statistics::default()
    };
    for bucket in ["1_7", "8_30", "31_90", "91_"] {
        stats.stays_by_length.insert(bucket.into(), 0);
    }
    for form in Violence::ALL {
        stats.violence.insert(form.as_str().into(), 0);
    }
    for stay in stays {
        let (total, in_year) = days_of_stay(stay, year, now);
        if in_year == 0 {
            continue;
        }
        stats.stays += 1;
        stats.days_of_stay += in_year;
        stats.clients.adults += stay.adults;
        stats.clients.children += stay.children.total();
        stats.clients.by_sex.female += stay.sexes.female;
        stats.clients.by_sex.male += stay.sexes.male;
        stats.clients.by_sex.other += stay.sexes.other;
        stats.clients.by_sex.unknown += stay.sexes.unknown;
        let bucket = match total {
            ..=7 => "1_7",
            8..=30 => "8_30",
            31..=90 => "31_90",
            _ => "91_",
        };
        *stats.stays_by_length.entry(bucket.into()).or_default() += 1;
        for form in &stay.violence {
            *stats.violence.entry(form.as_str().into()).or_default() += 1;
        }
    }
    for day in turned_away.iter().filter(|t| t.date.year() == year) {
        stats.turned_away.adults += day.adults;
        stats.turned_away.children += day.children;
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn helsinki(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Helsinki
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn stay(arrived: DateTime<Utc>, departed: Option<DateTime<Utc>>) -> Stay {
        NewStay {
            alias: "Äiti ja kaksi lasta".into(),
            adults: 1,
            children: Children {
                age_0_6: 1,
                age_7_12: 1,
                age_13_17: 0,
            },
            sexes: Sexes {
                female: 2,
                male: 0,
                other: 0,
                unknown: 1,
            },
            arrived_at: Some(arrived),
            violence: vec!["physical".into(), "psychological".into()],
            referral_source: Some("police".into()),
            notes: String::new(),
            identity: None,
            referral_code: None,
        }
        .into_stay(false, helsinki(2030, 1, 1, 0))
        .map(|mut s| {
            s.departed_at = departed;
            s
        })
        .unwrap()
    }

    #[test]
    fn days_of_stay_across_a_year_boundary() {
        // Evening of 30.12.2025 to the morning of 2.1.2026: nights 30, 31 and 1.
        let s = stay(helsinki(2025, 12, 30, 21), Some(helsinki(2026, 1, 2, 9)));
        let now = helsinki(2026, 11, 22, 12);
        assert_eq!(days_of_stay(&s, 2025, now), (3, 2));
        assert_eq!(days_of_stay(&s, 2026, now), (3, 1));
        assert_eq!(days_of_stay(&s, 2024, now), (3, 0));
        // 23:30 UTC on 31 December is already 1 January in Helsinki.
        let late = stay(
            Utc.with_ymd_and_hms(2025, 12, 31, 23, 30, 0).unwrap(),
            Some(helsinki(2026, 1, 3, 10)),
        );
        assert_eq!(days_of_stay(&late, 2025, now), (2, 0));
        assert_eq!(days_of_stay(&late, 2026, now), (2, 2));
        // Same day in and out: one day.
        let brief = stay(helsinki(2026, 3, 5, 1), Some(helsinki(2026, 3, 5, 15)));
        assert_eq!(days_of_stay(&brief, 2026, now), (1, 1));
        // Still staying: counted up to today.
        let open = stay(helsinki(2026, 11, 20, 22), None);
        assert_eq!(days_of_stay(&open, 2026, now), (2, 2));
    }

    #[test]
    fn the_yearly_statistics_count_people_days_and_forms() {
        let now = helsinki(2027, 2, 1, 12);
        let stays = vec![
            stay(helsinki(2025, 12, 30, 21), Some(helsinki(2026, 1, 2, 9))),
            stay(helsinki(2026, 6, 1, 12), Some(helsinki(2026, 7, 11, 12))),
            stay(helsinki(2027, 1, 5, 12), None),
        ];
        let turned = vec![
            TurnedAway {
                date: NaiveDate::from_ymd_opt(2026, 2, 3).unwrap(),
                adults: 1,
                children: 2,
            },
            TurnedAway {
                date: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
                adults: 1,
                children: 0,
            },
        ];
        let s = statistics(2026, &stays, &turned, now);
        assert_eq!(s.stays, 2);
        assert_eq!(s.days_of_stay, 1 + 40);
        assert_eq!((s.clients.adults, s.clients.children), (2, 4));
        assert_eq!(s.clients.by_sex.unknown, 2);
        assert_eq!(s.stays_by_length["1_7"], 1);
        assert_eq!(s.stays_by_length["31_90"], 1);
        assert_eq!(s.violence["physical"], 2);
        assert_eq!(s.violence["sexual"], 0);
        assert_eq!((s.turned_away.adults, s.turned_away.children), (1, 2));
    }

    #[test]
    fn a_stay_is_counted_and_checked() {
        let now = helsinki(2026, 11, 22, 12);
        let base = || NewStay {
            alias: "Perhe K".into(),
            adults: 1,
            children: Children::default(),
            sexes: Sexes {
                unknown: 1,
                ..Sexes::default()
            },
            arrived_at: None,
            violence: vec![],
            referral_source: Some("self".into()),
            notes: String::new(),
            identity: Some(Identity::default()),
            referral_code: None,
        };
        let ok = base().into_stay(true, now).unwrap();
        assert_eq!(ok.referral_source, ReferralSource::OncallReferral);
        assert_eq!(
            serde_json::to_value(ReferralSource::SelfReferred).unwrap(),
            "self",
            "the wire key, not the variant's name"
        );
        let cleared: StayPatch = serde_json::from_str(r#"{"identity": null}"#).unwrap();
        let with_identity = Stay {
            identity: Some(Identity {
                name: "N".into(),
                ..Identity::default()
            }),
            ..ok.clone()
        };
        assert_eq!(cleared.apply(&with_identity, now).unwrap().identity, None);
        assert_eq!(ok.identity, None, "empty identity fields are none");
        for (broken, field) in [
            (
                NewStay {
                    alias: " ".into(),
                    ..base()
                },
                "alias",
            ),
            (
                NewStay {
                    adults: 0,
                    ..base()
                },
                "adults",
            ),
            (
                NewStay {
                    adults: -1,
                    ..base()
                },
                "adults",
            ),
            (
                NewStay {
                    adults: 2,
                    ..base()
                },
                "sexes",
            ),
            (
                NewStay {
                    violence: vec!["bad".into()],
                    ..base()
                },
                "violence",
            ),
            (
                NewStay {
                    arrived_at: Some(now + chrono::Duration::hours(2)),
                    ..base()
                },
                "arrived_at",
            ),
        ] {
            match broken.into_stay(false, now) {
                Err(AppError::Validation { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn capacity_counts_places_and_beds() {
        let now = helsinki(2026, 11, 22, 12);
        let current = vec![stay(now, None), stay(now, None)];
        assert_eq!(
            Capacity::of(6, 18, &current),
            Capacity {
                family_places: 6,
                beds: 18,
                family_places_free: 4,
                beds_free: 12
            }
        );
        assert_eq!(Capacity::of(1, 2, &current).family_places_free, 0);
    }

    #[test]
    fn codes_are_eight_digits_however_typed() {
        assert_eq!(normalise_code("4821 5739").as_deref(), Some("48215739"));
        assert_eq!(normalise_code(" 4821-5739 ").as_deref(), Some("48215739"));
        for bad in ["4821573", "482157390", "4821 573a", "", "٤٨٢١٥٧٣٩"] {
            assert_eq!(normalise_code(bad), None, "{bad}");
        }
    }
}
