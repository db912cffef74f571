//! The Finnish working-day calendar and the deadline rules built on it.
//!
//! Everything is decided in `Europe/Helsinki` wall time, while inputs and outputs are UTC
//! instants. Non-working days follow the Act on the Computation of Statutory Time Limits
//! (150/1930 § 5): Saturdays, Sundays and the fifteen holidays below, computed by rule for any
//! year, plus a county's own extra closed days. The current rules are applied to every year
//! (the 1973–1991 moves of Epiphany and Ascension Day to Saturdays are not modelled).
//!
//! Deadline rules (DESIGN § 3 and § 5):
//! - `next-working-day`: due at the end of office hours on the first working day whose office
//!   hours begin strictly after the moment of receipt;
//! - `working-days:N`: due at 23:59:59 local on the Nth working day after the local day of
//!   receipt (that day itself never counts);
//! - `months:N`: calendar months (Act 150/1930 § 3), moved forward to a working day, due at
//!   23:59:59 local.
//!
//! Local wall times are turned into instants without ever panicking: a wall time inside the
//! spring-forward gap becomes the first instant after the gap, and an ambiguous autumn wall
//! time becomes its first (earlier) occurrence.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Europe::Helsinki;
use serde::{Deserialize, Serialize};

/// A closed day of a year, named in Finnish, Swedish and English. A county's extra closed day
/// carries its one configured name in all three fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name_fi: String,
    pub name_sv: String,
    pub name_en: String,
}

/// Per-county extra closed days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraClosedDay {
    pub date: NaiveDate,
    pub name: String,
}

/// One day's office hours: opening and closing in Helsinki wall time, `open < close`.
pub type DayHours = (NaiveTime, NaiveTime);

/// A team's office hours per weekday (Mon..=Fri); default Mon–Fri 08:00–16:00.
///
/// Office time is the half-open span `[open, close)`. Saturdays and Sundays are never working
/// days, so hours set for them are kept but never used.
///
/// From configuration it reads as a map of `mon`..`fri` to `"HH:MM-HH:MM"` or `"closed"`; a
/// weekday left out keeps the standard 08:00–16:00, e.g. `{ fri = "08:00-13:00" }` is a team
/// with short Fridays. Closing time before opening, unknown keys and a week with no office
/// hours at all are refused with an error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "OfficeHoursConfig")]
pub struct OfficeHours {
    /// Indexed by `Weekday::num_days_from_monday`.
    days: [Option<DayHours>; 7],
}

const fn time(hour: u32, minute: u32, second: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, second) {
        Some(t) => t,
        None => panic!("invalid constant time"),
    }
}

const STANDARD_OPEN: NaiveTime = time(8, 0, 0);
const STANDARD_CLOSE: NaiveTime = time(16, 0, 0);
/// Deadlines that run to the end of a day end at this local wall time.
const END_OF_DAY: NaiveTime = time(23, 59, 59);

impl OfficeHours {
    /// Monday to Friday 08:00–16:00.
    pub fn standard() -> Self {
        let day = Some((STANDARD_OPEN, STANDARD_CLOSE));
        OfficeHours {
            days: [day, day, day, day, day, None, None],
        }
    }

    /// Sets one weekday's hours. A `close` not after `open` leaves the day closed (the
    /// configuration reader refuses such a span with an error instead).
    pub fn with_day(mut self, weekday: Weekday, open: NaiveTime, close: NaiveTime) -> Self {
        self.days[weekday.num_days_from_monday() as usize] =
            (open < close).then_some((open, close));
        self
    }

    /// Closes the office on one weekday.
    pub fn closed_on(mut self, weekday: Weekday) -> Self {
        self.days[weekday.num_days_from_monday() as usize] = None;
        self
    }

    /// The hours set for a weekday, `None` when closed.
    pub fn hours_on(&self, weekday: Weekday) -> Option<DayHours> {
        self.days[weekday.num_days_from_monday() as usize]
    }

    /// Whether the office is open on at least one weekday from Monday to Friday.
    fn any_working_weekday(&self) -> bool {
        self.days[..5].iter().any(Option::is_some)
    }

    /// The hours the rules use: a week with no office hours at all (only reachable through the
    /// builder) counts as the standard week, so the rules always find an opening.
    fn effective(&self) -> OfficeHours {
        if self.any_working_weekday() {
            self.clone()
        } else {
            OfficeHours::standard()
        }
    }
}

impl Default for OfficeHours {
    fn default() -> Self {
        OfficeHours::standard()
    }
}

/// The configuration form of [`OfficeHours`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficeHoursConfig {
    mon: Option<String>,
    tue: Option<String>,
    wed: Option<String>,
    thu: Option<String>,
    fri: Option<String>,
}

impl TryFrom<OfficeHoursConfig> for OfficeHours {
    type Error = String;

    fn try_from(config: OfficeHoursConfig) -> Result<Self, String> {
        let mut hours = OfficeHours::standard();
        let given = [
            (Weekday::Mon, "mon", config.mon),
            (Weekday::Tue, "tue", config.tue),
            (Weekday::Wed, "wed", config.wed),
            (Weekday::Thu, "thu", config.thu),
            (Weekday::Fri, "fri", config.fri),
        ];
        for (weekday, key, value) in given {
            if let Some(value) = value {
                hours.days[weekday.num_days_from_monday() as usize] =
                    parse_day_hours(&value).map_err(|e| format!("office hours `{key}`: {e}"))?;
            }
        }
        if !hours.any_working_weekday() {
            return Err("office hours: the office must be open on at least one weekday".into());
        }
        Ok(hours)
    }
}

/// Parses `"HH:MM-HH:MM"` or `"closed"`.
fn parse_day_hours(value: &str) -> Result<Option<DayHours>, String> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("closed") {
        return Ok(None);
    }
    let expected = || format!("{value:?} is not \"HH:MM-HH:MM\" or \"closed\"");
    let (open, close) = value.split_once('-').ok_or_else(expected)?;
    let parse = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| expected());
    let (open, close) = (parse(open)?, parse(close)?);
    if open >= close {
        return Err(format!("{value:?} closes before it opens"));
    }
    Ok(Some((open, close)))
}

/// Gregorian Easter Sunday of a year (the anonymous Gregorian algorithm, as given by Meeus),
/// `None` only outside chrono's date range.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    // month is 3 or 4 and day 1..=31, so the casts cannot truncate.
    NaiveDate::from_ymd_opt(year, (n / 31) as u32, (n % 31 + 1) as u32)
}

/// Names of the statutory closed days: Finnish, Swedish, English.
type Names = (&'static str, &'static str, &'static str);

const NEW_YEAR: Names = ("Uudenvuodenpäivä", "Nyårsdagen", "New Year's Day");
const EPIPHANY: Names = ("Loppiainen", "Trettondagen", "Epiphany");
const GOOD_FRIDAY: Names = ("Pitkäperjantai", "Långfredagen", "Good Friday");
const EASTER_SUNDAY: Names = ("Pääsiäispäivä", "Påskdagen", "Easter Sunday");
const EASTER_MONDAY: Names = ("2. pääsiäispäivä", "Annandag påsk", "Easter Monday");
const MAY_DAY: Names = ("Vappu", "Första maj", "May Day");
const ASCENSION: Names = ("Helatorstai", "Kristi himmelsfärdsdag", "Ascension Day");
const PENTECOST: Names = ("Helluntaipäivä", "Pingstdagen", "Pentecost");
const MIDSUMMER_EVE: Names = ("Juhannusaatto", "Midsommarafton", "Midsummer Eve");
const MIDSUMMER_DAY: Names = ("Juhannuspäivä", "Midsommardagen", "Midsummer Day");
const ALL_SAINTS: Names = ("Pyhäinpäivä", "Alla helgons dag", "All Saints' Day");
const INDEPENDENCE: Names = (
    "Itsenäisyyspäivä",
    "Självständighetsdagen",
    "Independence Day",
);
const CHRISTMAS_EVE: Names = ("Jouluaatto", "Julafton", "Christmas Eve");
const CHRISTMAS_DAY: Names = ("Joulupäivä", "Juldagen", "Christmas Day");
const ST_STEPHEN: Names = ("Tapaninpäivä", "Annandag jul", "St Stephen's Day");

/// The first `weekday` on or after `date`.
fn on_or_after(date: NaiveDate, weekday: Weekday) -> Option<NaiveDate> {
    let ahead = (i64::from(weekday.num_days_from_monday())
        - i64::from(date.weekday().num_days_from_monday()))
    .rem_euclid(7);
    date.checked_add_signed(TimeDelta::days(ahead))
}

/// The statutory closed days of a year (Act 150/1930 § 5), in date order. Two can share a
/// date (May Day and Ascension Day when Easter is on 23 March, as in 2008).
fn statutory_days(year: i32) -> Vec<(NaiveDate, Names)> {
    let ymd = |month, day| NaiveDate::from_ymd_opt(year, month, day);
    let easter = easter_sunday(year);
    let from_easter = |days: i64| easter.and_then(|e| e.checked_add_signed(TimeDelta::days(days)));
    let candidates = [
        (ymd(1, 1), NEW_YEAR),
        (ymd(1, 6), EPIPHANY),
        (from_easter(-2), GOOD_FRIDAY),
        (easter, EASTER_SUNDAY),
        (from_easter(1), EASTER_MONDAY),
        (ymd(5, 1), MAY_DAY),
        (from_easter(39), ASCENSION),
        (from_easter(49), PENTECOST),
        (
            ymd(6, 19).and_then(|d| on_or_after(d, Weekday::Fri)),
            MIDSUMMER_EVE,
        ),
        (
            ymd(6, 20).and_then(|d| on_or_after(d, Weekday::Sat)),
            MIDSUMMER_DAY,
        ),
        (
            ymd(10, 31).and_then(|d| on_or_after(d, Weekday::Sat)),
            ALL_SAINTS,
        ),
        (ymd(12, 6), INDEPENDENCE),
        (ymd(12, 24), CHRISTMAS_EVE),
        (ymd(12, 25), CHRISTMAS_DAY),
        (ymd(12, 26), ST_STEPHEN),
    ];
    let mut days: Vec<(NaiveDate, Names)> = candidates
        .into_iter()
        .filter_map(|(date, names)| date.map(|d| (d, names)))
        .collect();
    days.sort_by_key(|(date, _)| *date);
    days
}

fn is_statutory_holiday(date: NaiveDate) -> bool {
    statutory_days(date.year()).iter().any(|(d, _)| *d == date)
}

/// The Helsinki wall time of an instant; `None` only past the end of chrono's range.
fn local_wall(at: DateTime<Utc>) -> Option<NaiveDateTime> {
    let utc = at.naive_utc();
    utc.checked_add_offset(Helsinki.offset_from_utc_datetime(&utc).fix())
}

/// The Helsinki calendar day an instant falls on; `None` only past the end of chrono's range.
fn local_date(at: DateTime<Utc>) -> Option<NaiveDate> {
    local_wall(at).map(|wall| wall.date())
}

/// The instant of a Helsinki wall time. A wall time skipped by the spring-forward switch
/// becomes the first instant after the gap; a wall time repeated in autumn becomes its first
/// occurrence. Never panics; saturates at the ends of chrono's range.
fn local_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    match Helsinki.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => first.min(second).with_timezone(&Utc),
        LocalResult::None => first_instant_at_or_after(local),
    }
}

/// The earliest whole-second instant whose Helsinki wall time is at or after `local`: for a
/// wall time in a gap, the moment the clocks jump (gaps start and end on whole seconds).
fn first_instant_at_or_after(local: NaiveDateTime) -> DateTime<Utc> {
    // Offsets stay within ±15 hours, so the answer lies in this window.
    const WINDOW: i64 = 15 * 3600;
    let centre = local.and_utc().timestamp();
    let wall = |secs: i64| DateTime::from_timestamp(secs, 0).and_then(local_wall);
    let (mut lo, mut hi) = (centre - WINDOW, centre + WINDOW);
    match (wall(lo), wall(hi)) {
        (Some(_), Some(_)) => {}
        (None, _) => return DateTime::<Utc>::MIN_UTC,
        (_, None) => return DateTime::<Utc>::MAX_UTC,
    }
    // Invariant: wall(lo) < local <= wall(hi).
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if wall(mid).is_some_and(|w| w >= local) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn at_local(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    local_to_utc(date.and_time(time))
}

/// 23:59:59 Helsinki time on `date`.
fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    at_local(date, END_OF_DAY)
}

/// The working-day calendar of one county: the statutory Finnish closed days plus the
/// county's extra closed days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    extra: BTreeMap<NaiveDate, String>,
}

impl Calendar {
    /// A calendar with extra closed days; of two extra days on one date the first is kept.
    pub fn new(extra: Vec<ExtraClosedDay>) -> Calendar {
        let mut days = BTreeMap::new();
        for day in extra {
            days.entry(day.date).or_insert(day.name);
        }
        Calendar { extra: days }
    }

    /// The statutory calendar without extra closed days.
    pub fn finnish() -> Calendar {
        Calendar::default()
    }

    /// Holidays and extra closed days of a year (NOT plain Saturdays/Sundays), in date order.
    /// Each date is listed once: where an extra day falls on a holiday the holiday's names are
    /// kept, and two holidays on one date (May Day and Ascension Day in 2008) are joined as
    /// "Vappu / Helatorstai".
    pub fn holidays(&self, year: i32) -> Vec<Holiday> {
        let mut out: Vec<Holiday> = Vec::new();
        for (date, (fi, sv, en)) in statutory_days(year) {
            match out.last_mut() {
                Some(last) if last.date == date => {
                    for (name, more) in [
                        (&mut last.name_fi, fi),
                        (&mut last.name_sv, sv),
                        (&mut last.name_en, en),
                    ] {
                        name.push_str(" / ");
                        name.push_str(more);
                    }
                }
                _ => out.push(Holiday {
                    date,
                    name_fi: fi.into(),
                    name_sv: sv.into(),
                    name_en: en.into(),
                }),
            }
        }
        for (date, name) in self.extra.iter().filter(|(d, _)| d.year() == year) {
            if !out.iter().any(|h| h.date == *date) {
                out.push(Holiday {
                    date: *date,
                    name_fi: name.clone(),
                    name_sv: name.clone(),
                    name_en: name.clone(),
                });
            }
        }
        out.sort_by_key(|h| h.date);
        out
    }

    /// Monday to Friday, and neither a holiday nor an extra closed day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
            && !self.extra.contains_key(&date)
            && !is_statutory_holiday(date)
    }

    /// A working day's office hours, `None` on a closed day or a weekday without hours.
    fn office_hours_on(&self, date: NaiveDate, hours: &OfficeHours) -> Option<DayHours> {
        if self.is_working_day(date) {
            hours.hours_on(date.weekday())
        } else {
            None
        }
    }

    /// The first day on or after `start` for which `pick` gives an answer; saturates at the
    /// end of chrono's range instead of running past it.
    fn scan_days(
        start: NaiveDate,
        mut pick: impl FnMut(NaiveDate) -> Option<DateTime<Utc>>,
    ) -> DateTime<Utc> {
        let mut day = start;
        loop {
            if let Some(found) = pick(day) {
                return found;
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => return DateTime::<Utc>::MAX_UTC,
            }
        }
    }

    /// DESIGN: `next-working-day` = due at the end of office hours on the first working day
    /// whose office hours BEGIN after `from`. "After" is strict: a handover at exactly 08:00
    /// on a working day is due at the end of the next working day, since that day's hours did
    /// not begin after it. Working days on which the team has no hours are skipped; a week
    /// with no office hours at all counts as the standard week.
    pub fn next_working_day(&self, from: DateTime<Utc>, hours: &OfficeHours) -> DateTime<Utc> {
        let hours = hours.effective();
        let Some(start) = local_date(from) else {
            return DateTime::<Utc>::MAX_UTC;
        };
        Self::scan_days(start, |day| {
            let (open, close) = self.office_hours_on(day, &hours)?;
            (at_local(day, open) > from).then(|| at_local(day, close))
        })
    }

    /// DESIGN: `working-days:N` = due at 23:59:59 local on the Nth working day after the
    /// (Helsinki-local) day of `from` (that day itself never counted, even if it is a working
    /// day). `n == 0` gives the end of `from`'s own local day.
    pub fn working_days(&self, from: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let Some(mut day) = local_date(from) else {
            return DateTime::<Utc>::MAX_UTC;
        };
        let mut left = n;
        while left > 0 {
            match day.succ_opt() {
                Some(next) => day = next,
                None => return DateTime::<Utc>::MAX_UTC,
            }
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        end_of_day(day)
    }

    /// The start of the next office opening at or after `from` (for urgent handovers: "due at
    /// the next office opening"). If `from` is inside office hours of a working day, that is
    /// `from` itself.
    pub fn next_opening(&self, from: DateTime<Utc>, hours: &OfficeHours) -> DateTime<Utc> {
        let hours = hours.effective();
        if self.is_office_time(from, &hours) {
            return from;
        }
        let Some(start) = local_date(from) else {
            return DateTime::<Utc>::MAX_UTC;
        };
        Self::scan_days(start, |day| {
            let (open, _) = self.office_hours_on(day, &hours)?;
            let opening = at_local(day, open);
            (opening >= from).then_some(opening)
        })
    }

    /// Whether `at` falls within office hours of a working day: opening time included,
    /// closing time excluded.
    pub fn is_office_time(&self, at: DateTime<Utc>, hours: &OfficeHours) -> bool {
        let Some(day) = local_date(at) else {
            return false;
        };
        self.office_hours_on(day, hours)
            .is_some_and(|(open, close)| at_local(day, open) <= at && at < at_local(day, close))
    }

    /// Calendar months (Act 150/1930 § 3): the day with the same date number N months after
    /// the local day of `from`, or that month's last day if it has no such date; moved forward
    /// to the next working day if closed; due at 23:59:59 local that day.
    pub fn months(&self, from: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let Some(target) = local_date(from).and_then(|d| d.checked_add_months(Months::new(n)))
        else {
            return DateTime::<Utc>::MAX_UTC;
        };
        Self::scan_days(target, |day| {
            self.is_working_day(day).then(|| end_of_day(day))
        })
    }

    /// The due instant of a deadline rule received at `from`.
    pub fn due(&self, rule: Rule, from: DateTime<Utc>, hours: &OfficeHours) -> DateTime<Utc> {
        match rule {
            Rule::NextWorkingDay => self.next_working_day(from, hours),
            Rule::WorkingDays(n) => self.working_days(from, n),
            Rule::Months(n) => self.months(from, n),
        }
    }
}

/// A deadline rule: `next-working-day`, `working-days:N` (N 1..=365) or `months:N` (N 1..=24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    NextWorkingDay,
    WorkingDays(u32),
    Months(u32),
}

const RULE_FORMS: &str =
    "expected next-working-day, working-days:N (N from 1 to 365) or months:N (N from 1 to 24)";

impl FromStr for Rule {
    type Err = String;

    /// Parses a rule string exactly (no surrounding spaces, lower case).
    fn from_str(s: &str) -> Result<Rule, String> {
        if s == "next-working-day" {
            return Ok(Rule::NextWorkingDay);
        }
        let (name, count) = match s.split_once(':') {
            Some((name, count)) => (name, Some(count)),
            None => (s, None),
        };
        let (max, make): (u32, fn(u32) -> Rule) = match name {
            "working-days" => (365, Rule::WorkingDays),
            "months" => (24, Rule::Months),
            "next-working-day" => {
                return Err(format!("rule {s:?}: next-working-day takes no count"));
            }
            "" if s.is_empty() => return Err(format!("empty rule; {RULE_FORMS}")),
            _ => return Err(format!("unknown rule {s:?}; {RULE_FORMS}")),
        };
        let Some(count) = count else {
            return Err(format!(
                "rule {s:?} needs a count: {name}:N with N from 1 to {max}"
            ));
        };
        let in_range = || format!("rule {s:?}: the count must be a whole number from 1 to {max}");
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(in_range());
        }
        match count.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(make(n)),
            _ => Err(in_range()),
        }
    }
}

impl fmt::Display for Rule {
    /// The same string form that `FromStr` reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::NextWorkingDay => f.write_str("next-working-day"),
            Rule::WorkingDays(n) => write!(f, "working-days:{n}"),
            Rule::Months(n) => write!(f, "months:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// An instant from RFC 3339 text with its offset, e.g. "2026-01-19T16:00:00+02:00".
    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// An instant as the CLI prints it: RFC 3339 with the Helsinki offset.
    fn shown(instant: DateTime<Utc>) -> String {
        instant.with_timezone(&Helsinki).to_rfc3339()
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn fi_list(cal: &Calendar, year: i32) -> Vec<(NaiveDate, String)> {
        cal.holidays(year)
            .into_iter()
            .map(|h| (h.date, h.name_fi))
            .collect()
    }

    fn expect_list(year: i32, days: &[(u32, u32, &str)]) -> Vec<(NaiveDate, String)> {
        days.iter()
            .map(|&(m, d, name)| (date(year, m, d), name.to_string()))
            .collect()
    }

    fn closed_dates(year: i32) -> Vec<NaiveDate> {
        Calendar::finnish()
            .holidays(year)
            .into_iter()
            .map(|h| h.date)
            .collect()
    }

    // ---- Easter ----

    #[test]
    fn easter_known_dates() {
        let known = [
            (1818, 3, 22),
            (1943, 4, 25),
            (2000, 4, 23),
            (2001, 4, 15),
            (2002, 3, 31),
            (2003, 4, 20),
            (2004, 4, 11),
            (2005, 3, 27),
            (2006, 4, 16),
            (2007, 4, 8),
            (2008, 3, 23),
            (2009, 4, 12),
            (2010, 4, 4),
            (2011, 4, 24),
            (2012, 4, 8),
            (2013, 3, 31),
            (2014, 4, 20),
            (2015, 4, 5),
            (2016, 3, 27),
            (2017, 4, 16),
            (2018, 4, 1),
            (2019, 4, 21),
            (2020, 4, 12),
            (2021, 4, 4),
            (2022, 4, 17),
            (2023, 4, 9),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2029, 4, 1),
            (2030, 4, 21),
            (2031, 4, 13),
            (2032, 3, 28),
            (2033, 4, 17),
            (2034, 4, 9),
            (2035, 3, 25),
            (2036, 4, 13),
            (2037, 4, 5),
            (2038, 4, 25),
            (2039, 4, 10),
            (2040, 4, 1),
            (2285, 3, 22),
        ];
        for (y, m, d) in known {
            assert_eq!(easter_sunday(y), Some(date(y, m, d)), "Easter {y}");
        }
    }

    /// Lichtenberg's form of Gauss's Easter formula, an independent check of the Meeus one.
    fn easter_gauss(x: i32) -> NaiveDate {
        let k = x / 100;
        let m = 15 + (3 * k + 3) / 4 - (8 * k + 13) / 25;
        let s = 2 - (3 * k + 3) / 4;
        let a = x % 19;
        let d = (19 * a + m) % 30;
        let r = (d + a / 11) / 29;
        let og = 21 + d - r;
        let sz = 7 - (x + x / 4 + s) % 7;
        let oe = 7 - (og - sz) % 7;
        let os = og + oe; // day of March, may run into April
        date(x, 3, 1) + TimeDelta::days(i64::from(os - 1))
    }

    #[test]
    fn easter_matches_gauss_and_stays_in_range_1583_to_9999() {
        for y in 1583..=9999 {
            let easter = easter_sunday(y).unwrap();
            assert_eq!(easter, easter_gauss(y), "Easter {y}");
            assert_eq!(easter.weekday(), Weekday::Sun, "Easter {y}");
            assert!(date(y, 3, 22) <= easter && easter <= date(y, 4, 25), "{y}");
        }
    }

    // ---- closed days ----

    #[test]
    fn holidays_2025_exactly() {
        let expected = expect_list(
            2025,
            &[
                (1, 1, "Uudenvuodenpäivä"),
                (1, 6, "Loppiainen"),
                (4, 18, "Pitkäperjantai"),
                (4, 20, "Pääsiäispäivä"),
                (4, 21, "2. pääsiäispäivä"),
                (5, 1, "Vappu"),
                (5, 29, "Helatorstai"),
                (6, 8, "Helluntaipäivä"),
                (6, 20, "Juhannusaatto"),
                (6, 21, "Juhannuspäivä"),
                (11, 1, "Pyhäinpäivä"),
                (12, 6, "Itsenäisyyspäivä"),
                (12, 24, "Jouluaatto"),
                (12, 25, "Joulupäivä"),
                (12, 26, "Tapaninpäivä"),
            ],
        );
        assert_eq!(fi_list(&Calendar::finnish(), 2025), expected);
    }

    #[test]
    fn holidays_2026_exactly() {
        let expected = expect_list(
            2026,
            &[
                (1, 1, "Uudenvuodenpäivä"),
                (1, 6, "Loppiainen"),
                (4, 3, "Pitkäperjantai"),
                (4, 5, "Pääsiäispäivä"),
                (4, 6, "2. pääsiäispäivä"),
                (5, 1, "Vappu"),
                (5, 14, "Helatorstai"),
                (5, 24, "Helluntaipäivä"),
                (6, 19, "Juhannusaatto"),
                (6, 20, "Juhannuspäivä"),
                (10, 31, "Pyhäinpäivä"),
                (12, 6, "Itsenäisyyspäivä"),
                (12, 24, "Jouluaatto"),
                (12, 25, "Joulupäivä"),
                (12, 26, "Tapaninpäivä"),
            ],
        );
        assert_eq!(fi_list(&Calendar::finnish(), 2026), expected);
    }

    #[test]
    fn holidays_2027_latest_midsummer_and_all_saints() {
        let expected = expect_list(
            2027,
            &[
                (1, 1, "Uudenvuodenpäivä"),
                (1, 6, "Loppiainen"),
                (3, 26, "Pitkäperjantai"),
                (3, 28, "Pääsiäispäivä"),
                (3, 29, "2. pääsiäispäivä"),
                (5, 1, "Vappu"),
                (5, 6, "Helatorstai"),
                (5, 16, "Helluntaipäivä"),
                (6, 25, "Juhannusaatto"),
                (6, 26, "Juhannuspäivä"),
                (11, 6, "Pyhäinpäivä"),
                (12, 6, "Itsenäisyyspäivä"),
                (12, 24, "Jouluaatto"),
                (12, 25, "Joulupäivä"),
                (12, 26, "Tapaninpäivä"),
            ],
        );
        assert_eq!(fi_list(&Calendar::finnish(), 2027), expected);
    }

    #[test]
    fn holidays_2024() {
        let expected = expect_list(
            2024,
            &[
                (1, 1, "Uudenvuodenpäivä"),
                (1, 6, "Loppiainen"),
                (3, 29, "Pitkäperjantai"),
                (3, 31, "Pääsiäispäivä"),
                (4, 1, "2. pääsiäispäivä"),
                (5, 1, "Vappu"),
                (5, 9, "Helatorstai"),
                (5, 19, "Helluntaipäivä"),
                (6, 21, "Juhannusaatto"),
                (6, 22, "Juhannuspäivä"),
                (11, 2, "Pyhäinpäivä"),
                (12, 6, "Itsenäisyyspäivä"),
                (12, 24, "Jouluaatto"),
                (12, 25, "Joulupäivä"),
                (12, 26, "Tapaninpäivä"),
            ],
        );
        assert_eq!(fi_list(&Calendar::finnish(), 2024), expected);
    }

    #[test]
    fn holidays_2025_in_three_languages() {
        let h = Calendar::finnish().holidays(2025);
        let names: Vec<(&str, &str, &str)> = h
            .iter()
            .map(|h| (h.name_fi.as_str(), h.name_sv.as_str(), h.name_en.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("Uudenvuodenpäivä", "Nyårsdagen", "New Year's Day"),
                ("Loppiainen", "Trettondagen", "Epiphany"),
                ("Pitkäperjantai", "Långfredagen", "Good Friday"),
                ("Pääsiäispäivä", "Påskdagen", "Easter Sunday"),
                ("2. pääsiäispäivä", "Annandag påsk", "Easter Monday"),
                ("Vappu", "Första maj", "May Day"),
                ("Helatorstai", "Kristi himmelsfärdsdag", "Ascension Day"),
                ("Helluntaipäivä", "Pingstdagen", "Pentecost"),
                ("Juhannusaatto", "Midsommarafton", "Midsummer Eve"),
                ("Juhannuspäivä", "Midsommardagen", "Midsummer Day"),
                ("Pyhäinpäivä", "Alla helgons dag", "All Saints' Day"),
                (
                    "Itsenäisyyspäivä",
                    "Självständighetsdagen",
                    "Independence Day"
                ),
                ("Jouluaatto", "Julafton", "Christmas Eve"),
                ("Joulupäivä", "Juldagen", "Christmas Day"),
                ("Tapaninpäivä", "Annandag jul", "St Stephen's Day"),
            ]
        );
    }

    #[test]
    fn earliest_easter_1818_and_2285() {
        for y in [1818, 2285] {
            let d = closed_dates(y);
            assert!(d.contains(&date(y, 3, 20)), "Good Friday {y}");
            assert!(d.contains(&date(y, 3, 22)), "Easter {y}");
            assert!(d.contains(&date(y, 3, 23)), "Easter Monday {y}");
            assert!(d.contains(&date(y, 4, 30)), "Ascension {y}");
            assert!(d.contains(&date(y, 5, 10)), "Pentecost {y}");
            assert_eq!(date(y, 4, 30).weekday(), Weekday::Thu);
            assert_eq!(d.len(), 15);
        }
    }

    #[test]
    fn latest_easter_1943_and_2038() {
        for y in [1943, 2038] {
            let d = closed_dates(y);
            assert!(d.contains(&date(y, 4, 23)), "Good Friday {y}");
            assert!(d.contains(&date(y, 4, 25)), "Easter {y}");
            assert!(d.contains(&date(y, 4, 26)), "Easter Monday {y}");
            assert!(d.contains(&date(y, 6, 3)), "Ascension {y}");
            assert!(d.contains(&date(y, 6, 13)), "Pentecost {y}");
            assert_eq!(date(y, 6, 3).weekday(), Weekday::Thu);
        }
    }

    #[test]
    fn may_day_and_ascension_on_one_date_listed_once() {
        // Easter 23.3.2008: Ascension Day fell on May Day.
        let h = Calendar::finnish().holidays(2008);
        assert_eq!(h.len(), 14);
        let may1 = h.iter().find(|h| h.date == date(2008, 5, 1)).unwrap();
        assert_eq!(may1.name_fi, "Vappu / Helatorstai");
        assert_eq!(may1.name_sv, "Första maj / Kristi himmelsfärdsdag");
        assert_eq!(may1.name_en, "May Day / Ascension Day");
    }

    #[test]
    fn midsummer_and_all_saints_on_their_weekdays_every_year() {
        for y in 1900..=2200 {
            let h = Calendar::finnish().holidays(y);
            let find = |name: &str| h.iter().find(|h| h.name_en == name).unwrap().date;
            let eve = find("Midsummer Eve");
            assert_eq!(eve.weekday(), Weekday::Fri);
            assert!(date(y, 6, 19) <= eve && eve <= date(y, 6, 25));
            assert_eq!(find("Midsummer Day"), eve.succ_opt().unwrap());
            let saints = find("All Saints' Day");
            assert_eq!(saints.weekday(), Weekday::Sat);
            assert!(date(y, 10, 31) <= saints && saints <= date(y, 11, 6));
            let ascension = h
                .iter()
                .find(|h| h.name_en.contains("Ascension Day"))
                .unwrap()
                .date;
            assert_eq!(ascension.weekday(), Weekday::Thu);
            assert_eq!(find("Pentecost").weekday(), Weekday::Sun);
            assert_eq!(find("Good Friday").weekday(), Weekday::Fri);
            assert_eq!(find("Easter Monday").weekday(), Weekday::Mon);
        }
    }

    #[test]
    fn working_days_agree_with_holiday_list_1990_to_2060() {
        let cal = Calendar::finnish();
        for y in 1990..=2060 {
            let closed = closed_dates(y);
            let mut day = date(y, 1, 1);
            while day.year() == y {
                let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
                assert_eq!(
                    cal.is_working_day(day),
                    !weekend && !closed.contains(&day),
                    "{day}"
                );
                day = day.succ_opt().unwrap();
            }
        }
    }

    #[test]
    fn new_years_eve_is_a_working_day() {
        let cal = Calendar::finnish();
        assert_eq!(date(2025, 12, 31).weekday(), Weekday::Wed);
        assert!(cal.is_working_day(date(2025, 12, 31)));
        assert!(!cal.is_working_day(date(2025, 12, 24)));
        assert!(!cal.is_working_day(date(2026, 1, 1)));
        assert!(cal.is_working_day(date(2026, 1, 2)));
        assert!(!cal.is_working_day(date(2026, 1, 3)));
        // Counts as the first working day after Christmas week's Tuesday.
        assert_eq!(
            shown(cal.working_days(at("2025-12-30T12:00:00+02:00"), 1)),
            "2025-12-31T23:59:59+02:00"
        );
    }

    // ---- working-days:N ----

    #[test]
    fn thl_child_welfare_example_december() {
        let cal = Calendar::finnish();
        let due = cal.due(
            Rule::WorkingDays(7),
            at("2025-12-23T14:00:00+02:00"),
            &OfficeHours::standard(),
        );
        assert_eq!(shown(due), "2026-01-08T23:59:59+02:00");
        assert_eq!(due, at("2026-01-08T21:59:59Z"));
        // Late in the evening of the 23rd is still the 23rd.
        assert_eq!(cal.working_days(at("2025-12-23T23:59:00+02:00"), 7), due);
    }

    #[test]
    fn thl_child_welfare_example_easter() {
        // Easter 2026: Good Friday 3.4, Easter Monday 6.4.
        let due = Calendar::finnish().working_days(at("2026-03-31T09:00:00+03:00"), 7);
        assert_eq!(shown(due), "2026-04-13T23:59:59+03:00");
    }

    #[test]
    fn working_days_count_from_the_helsinki_day_not_the_utc_day() {
        // 21:30Z on 30.3.2026 is already 00:30 on 31.3 in Helsinki: due 13.4, not 10.4.
        let cal = Calendar::finnish();
        let due = cal.working_days(at("2026-03-30T21:30:00Z"), 7);
        assert_eq!(shown(due), "2026-04-13T23:59:59+03:00");
        let due = cal.working_days(at("2026-03-30T20:59:59Z"), 7);
        assert_eq!(shown(due), "2026-04-10T23:59:59+03:00");
    }

    #[test]
    fn working_days_from_a_working_day_skip_that_day() {
        let cal = Calendar::finnish();
        // Monday 19.1.2026 at 00:00 → Tuesday is the first working day.
        assert_eq!(
            shown(cal.working_days(at("2026-01-19T00:00:00+02:00"), 1)),
            "2026-01-20T23:59:59+02:00"
        );
        // Friday → Monday.
        assert_eq!(
            shown(cal.working_days(at("2026-01-16T10:00:00+02:00"), 1)),
            "2026-01-19T23:59:59+02:00"
        );
        // Zero days: the end of the day itself.
        assert_eq!(
            shown(cal.working_days(at("2026-01-17T10:00:00+02:00"), 0)),
            "2026-01-17T23:59:59+02:00"
        );
    }

    #[test]
    fn working_days_across_midsummer_and_dst() {
        let cal = Calendar::finnish();
        // Thursday 18.6.2026: Midsummer Eve 19.6 and Day 20.6 closed → Monday 22.6.
        assert_eq!(
            shown(cal.working_days(at("2026-06-18T12:00:00+03:00"), 1)),
            "2026-06-22T23:59:59+03:00"
        );
        // Friday 27.3.2026 (winter time) → Monday 30.3 (summer time).
        assert_eq!(
            shown(cal.working_days(at("2026-03-27T12:00:00+02:00"), 1)),
            "2026-03-30T23:59:59+03:00"
        );
        // Friday 23.10.2026 (summer time) → Monday 26.10 (winter time).
        assert_eq!(
            shown(cal.working_days(at("2026-10-23T12:00:00+03:00"), 1)),
            "2026-10-26T23:59:59+02:00"
        );
    }

    // ---- next-working-day ----

    #[test]
    fn next_working_day_friday_evening_to_monday() {
        let cal = Calendar::finnish();
        let std = OfficeHours::standard();
        let winter = cal.next_working_day(at("2026-01-16T21:00:00+02:00"), &std);
        assert_eq!(shown(winter), "2026-01-19T16:00:00+02:00");
        assert_eq!(winter, at("2026-01-19T14:00:00Z"));
        let summer = cal.next_working_day(at("2026-06-05T21:00:00+03:00"), &std);
        assert_eq!(shown(summer), "2026-06-08T16:00:00+03:00");
        assert_eq!(summer, at("2026-06-08T13:00:00Z"));
    }

    #[test]
    fn next_working_day_over_easter() {
        let cal = Calendar::finnish();
        let std = OfficeHours::standard();
        // Maundy Thursday evening 2.4.2026; Good Friday 3.4 and Easter Monday 6.4 closed.
        assert_eq!(
            shown(cal.next_working_day(at("2026-04-02T21:00:00+03:00"), &std)),
            "2026-04-07T16:00:00+03:00"
        );
        // Good Friday evening.
        assert_eq!(
            shown(cal.next_working_day(at("2026-04-03T21:00:00+03:00"), &std)),
            "2026-04-07T16:00:00+03:00"
        );
        // Easter Monday morning.
        assert_eq!(
            shown(cal.next_working_day(at("2026-04-06T07:00:00+03:00"), &std)),
            "2026-04-07T16:00:00+03:00"
        );
    }

    #[test]
    fn next_working_day_on_a_monday() {
        let cal = Calendar::finnish();
        let std = OfficeHours::standard();
        // Before opening: today's hours begin after the moment.
        assert_eq!(
            shown(cal.next_working_day(at("2026-01-19T07:59:00+02:00"), &std)),
            "2026-01-19T16:00:00+02:00"
        );
        assert_eq!(
            shown(cal.next_working_day(at("2026-01-19T07:59:59.999+02:00"), &std)),
            "2026-01-19T16:00:00+02:00"
        );
        // Exactly at opening: today's hours did not begin *after* it → Tuesday.
        assert_eq!(
            shown(cal.next_working_day(at("2026-01-19T08:00:00+02:00"), &std)),
            "2026-01-20T16:00:00+02:00"
        );
        // During office hours → Tuesday.
        assert_eq!(
            shown(cal.next_working_day(at("2026-01-19T10:00:00+02:00"), &std)),
            "2026-01-20T16:00:00+02:00"
        );
        // After closing → Tuesday.
        assert_eq!(
            shown(cal.next_working_day(at("2026-01-19T17:00:00+02:00"), &std)),
            "2026-01-20T16:00:00+02:00"
        );
    }

    #[test]
    fn next_working_day_with_short_fridays() {
        let cal = Calendar::finnish();
        let short = OfficeHours::standard().with_day(Weekday::Fri, hm(8, 0), hm(13, 0));
        assert_eq!(
            shown(cal.next_working_day(at("2026-01-15T21:00:00+02:00"), &short)),
            "2026-01-16T13:00:00+02:00"
        );
        // Other days keep 16:00.
        assert_eq!(
            shown(cal.next_working_day(at("2026-01-14T21:00:00+02:00"), &short)),
            "2026-01-15T16:00:00+02:00"
        );
    }

    #[test]
    fn next_working_day_skips_weekdays_without_hours() {
        let cal = Calendar::finnish();
        let no_fridays = OfficeHours::standard().closed_on(Weekday::Fri);
        assert_eq!(
            shown(cal.next_working_day(at("2026-01-15T21:00:00+02:00"), &no_fridays)),
            "2026-01-19T16:00:00+02:00"
        );
    }

    #[test]
    fn a_week_without_hours_counts_as_standard() {
        let cal = Calendar::finnish();
        let none = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
        .into_iter()
        .fold(OfficeHours::standard(), OfficeHours::closed_on);
        assert_eq!(
            cal.next_working_day(at("2026-01-16T21:00:00+02:00"), &none),
            cal.next_working_day(at("2026-01-16T21:00:00+02:00"), &OfficeHours::standard())
        );
        assert_eq!(
            shown(cal.next_opening(at("2026-01-16T21:00:00+02:00"), &none)),
            "2026-01-19T08:00:00+02:00"
        );
    }

    #[test]
    fn next_working_day_over_midsummer_and_christmas() {
        let cal = Calendar::finnish();
        let std = OfficeHours::standard();
        assert_eq!(
            shown(cal.next_working_day(at("2026-06-18T20:00:00+03:00"), &std)),
            "2026-06-22T16:00:00+03:00"
        );
        // Tuesday 23.12.2025 evening → Monday 29.12.
        assert_eq!(
            shown(cal.next_working_day(at("2025-12-23T20:00:00+02:00"), &std)),
            "2025-12-29T16:00:00+02:00"
        );
        // New Year's Eve evening → Friday 2.1.2026.
        assert_eq!(
            shown(cal.next_working_day(at("2025-12-31T20:00:00+02:00"), &std)),
            "2026-01-02T16:00:00+02:00"
        );
    }

    // ---- daylight saving ----

    #[test]
    fn local_wall_times_convert_with_the_right_offset() {
        let t = |y, m, d, h, mi| local_to_utc(date(y, m, d).and_time(hm(h, mi)));
        // Winter UTC+2, summer UTC+3.
        assert_eq!(t(2026, 1, 19, 8, 0), at("2026-01-19T06:00:00Z"));
        assert_eq!(t(2026, 6, 8, 8, 0), at("2026-06-08T05:00:00Z"));
        assert_eq!(t(2026, 1, 19, 16, 0), at("2026-01-19T14:00:00Z"));
        assert_eq!(t(2026, 6, 8, 16, 0), at("2026-06-08T13:00:00Z"));
        // Spring-forward night 29.3.2026: 02:59 is +02:00, 04:00 is +03:00.
        assert_eq!(t(2026, 3, 29, 2, 59), at("2026-03-29T00:59:00Z"));
        assert_eq!(t(2026, 3, 29, 4, 0), at("2026-03-29T01:00:00Z"));
        // 03:00–03:59 do not exist: the first instant after the gap, 04:00 +03:00.
        assert_eq!(t(2026, 3, 29, 3, 0), at("2026-03-29T01:00:00Z"));
        assert_eq!(t(2026, 3, 29, 3, 30), at("2026-03-29T01:00:00Z"));
        assert_eq!(
            local_to_utc(date(2026, 3, 29).and_hms_opt(3, 59, 59).unwrap()),
            at("2026-03-29T01:00:00Z")
        );
        // Fall-back night 25.10.2026: 03:00–03:59 happen twice; the first one counts.
        assert_eq!(t(2026, 10, 25, 2, 59), at("2026-10-24T23:59:00Z"));
        assert_eq!(t(2026, 10, 25, 3, 30), at("2026-10-25T00:30:00Z"));
        assert_eq!(t(2026, 10, 25, 4, 0), at("2026-10-25T02:00:00Z"));
        // End-of-day and office times on both switch days are unambiguous.
        assert_eq!(end_of_day(date(2026, 3, 29)), at("2026-03-29T20:59:59Z"));
        assert_eq!(end_of_day(date(2026, 10, 25)), at("2026-10-25T21:59:59Z"));
    }

    #[test]
    fn handover_on_the_spring_forward_night() {
        let cal = Calendar::finnish();
        let std = OfficeHours::standard();
        // Sunday 29.3.2026: 02:30 +02:00 and 04:30 +03:00 exist; 03:30 local does not.
        for from in [
            at("2026-03-29T00:30:00Z"),
            at("2026-03-29T01:00:00Z"),
            at("2026-03-29T01:30:00Z"),
        ] {
            assert_eq!(
                shown(cal.next_working_day(from, &std)),
                "2026-03-30T16:00:00+03:00"
            );
            assert_eq!(cal.next_working_day(from, &std), at("2026-03-30T13:00:00Z"));
            assert_eq!(
                shown(cal.working_days(from, 1)),
                "2026-03-30T23:59:59+03:00"
            );
            assert_eq!(
                shown(cal.next_opening(from, &std)),
                "2026-03-30T08:00:00+03:00"
            );
            assert_eq!(cal.next_opening(from, &std), at("2026-03-30T05:00:00Z"));
        }
        // Friday evening before the switch (winter) → Monday after it (summer).
        assert_eq!(
            cal.next_working_day(at("2026-03-27T21:00:00+02:00"), &std),
            at("2026-03-30T13:00:00Z")
        );
    }

    #[test]
    fn handover_on_the_fall_back_night() {
        let cal = Calendar::finnish();
        let std = OfficeHours::standard();
        // Sunday 25.10.2026: 03:30 local happens at 00:30Z (+03:00) and at 01:30Z (+02:00).
        assert_eq!(at("2026-10-25T03:30:00+03:00"), at("2026-10-25T00:30:00Z"));
        assert_eq!(at("2026-10-25T03:30:00+02:00"), at("2026-10-25T01:30:00Z"));
        for from in [at("2026-10-25T00:30:00Z"), at("2026-10-25T01:30:00Z")] {
            assert_eq!(
                shown(cal.next_working_day(from, &std)),
                "2026-10-26T16:00:00+02:00"
            );
            assert_eq!(cal.next_working_day(from, &std), at("2026-10-26T14:00:00Z"));
            assert_eq!(
                shown(cal.working_days(from, 1)),
                "2026-10-26T23:59:59+02:00"
            );
            assert_eq!(cal.next_opening(from, &std), at("2026-10-26T06:00:00Z"));
        }
        // Friday evening before the switch (summer) → Monday after it (winter).
        assert_eq!(
            cal.next_working_day(at("2026-10-23T21:00:00+03:00"), &std),
            at("2026-10-26T14:00:00Z")
        );
    }

    // ---- office time and next opening ----

    #[test]
    fn office_time_in_winter_and_summer() {
        let cal = Calendar::finnish();
        let std = OfficeHours::standard();
        // Winter: 08:00 local = 06:00Z, 16:00 local = 14:00Z.
        assert!(!cal.is_office_time(at("2026-01-19T05:59:59Z"), &std));
        assert!(cal.is_office_time(at("2026-01-19T06:00:00Z"), &std));
        assert!(cal.is_office_time(at("2026-01-19T13:59:59Z"), &std));
        assert!(!cal.is_office_time(at("2026-01-19T14:00:00Z"), &std));
        // Summer: 08:00 local = 05:00Z, 16:00 local = 13:00Z.
        assert!(!cal.is_office_time(at("2026-06-08T04:59:59Z"), &std));
        assert!(cal.is_office_time(at("2026-06-08T05:00:00Z"), &std));
        assert!(cal.is_office_time(at("2026-06-08T12:59:59Z"), &std));
        assert!(!cal.is_office_time(at("2026-06-08T13:00:00Z"), &std));
        // Not on holidays or weekends.
        assert!(!cal.is_office_time(at("2026-04-06T10:00:00+03:00"), &std));
        assert!(!cal.is_office_time(at("2026-01-17T10:00:00+02:00"), &std));
        assert!(cal.is_office_time(at("2025-12-31T10:00:00+02:00"), &std));
    }

    #[test]
    fn next_opening_cases() {
        let cal = Calendar::finnish();
        let std = OfficeHours::standard();
        // Inside office hours: the moment itself.
        let inside = at("2026-01-19T10:00:00+02:00");
        assert_eq!(cal.next_opening(inside, &std), inside);
        // Exactly at opening: the moment itself.
        let opening = at("2026-01-19T08:00:00+02:00");
        assert_eq!(cal.next_opening(opening, &std), opening);
        // Before opening on a working day: that morning.
        assert_eq!(
            shown(cal.next_opening(at("2026-01-19T06:00:00+02:00"), &std)),
            "2026-01-19T08:00:00+02:00"
        );
        // At closing time: the next morning.
        assert_eq!(
            shown(cal.next_opening(at("2026-01-19T16:00:00+02:00"), &std)),
            "2026-01-20T08:00:00+02:00"
        );
        // Friday night → Monday morning; summer offset.
        assert_eq!(
            cal.next_opening(at("2026-06-05T23:00:00+03:00"), &std),
            at("2026-06-08T05:00:00Z")
        );
        // Over Easter.
        assert_eq!(
            shown(cal.next_opening(at("2026-04-02T17:00:00+03:00"), &std)),
            "2026-04-07T08:00:00+03:00"
        );
        // A team opening late on Mondays.
        let late = OfficeHours::standard().with_day(Weekday::Mon, hm(9, 30), hm(15, 0));
        assert_eq!(
            shown(cal.next_opening(at("2026-01-17T12:00:00+02:00"), &late)),
            "2026-01-19T09:30:00+02:00"
        );
        assert!(!cal.is_office_time(at("2026-01-19T09:00:00+02:00"), &late));
    }

    // ---- months ----

    #[test]
    fn months_end_of_month_moved_to_working_day() {
        let cal = Calendar::finnish();
        // 31.1.2026 + 1 → 28.2.2026 (Saturday) → Monday 2.3.2026.
        assert_eq!(date(2026, 2, 28).weekday(), Weekday::Sat);
        assert_eq!(
            shown(cal.months(at("2026-01-31T12:00:00+02:00"), 1)),
            "2026-03-02T23:59:59+02:00"
        );
        // A leap year keeps the 29th (Tuesday 29.2.2028).
        assert_eq!(
            shown(cal.months(at("2028-01-31T12:00:00+02:00"), 1)),
            "2028-02-29T23:59:59+02:00"
        );
        // 31.8.2026 + 1 → 30.9.2026 (Wednesday), summer time.
        assert_eq!(
            shown(cal.months(at("2026-08-31T12:00:00+03:00"), 1)),
            "2026-09-30T23:59:59+03:00"
        );
    }

    #[test]
    fn months_plain_and_across_years() {
        let cal = Calendar::finnish();
        // 15.10.2026 + 3 → 15.1.2027, a working Friday.
        assert_eq!(date(2027, 1, 15).weekday(), Weekday::Fri);
        assert_eq!(
            shown(cal.due(
                Rule::Months(3),
                at("2026-10-15T12:00:00+03:00"),
                &OfficeHours::standard()
            )),
            "2027-01-15T23:59:59+02:00"
        );
        // The Helsinki day counts: 22:30Z on 30.1 is already 31.1 in Helsinki.
        assert_eq!(
            shown(cal.months(at("2026-01-30T22:30:00Z"), 1)),
            "2026-03-02T23:59:59+02:00"
        );
        // 24 months.
        assert_eq!(
            shown(cal.months(at("2026-03-10T12:00:00+02:00"), 24)),
            "2028-03-10T23:59:59+02:00"
        );
    }

    #[test]
    fn months_landing_on_christmas_or_new_year() {
        let cal = Calendar::finnish();
        // 25.9.2026 + 3 → Christmas Day (Friday) → Monday 28.12.2026.
        assert_eq!(
            shown(cal.months(at("2026-09-25T12:00:00+03:00"), 3)),
            "2026-12-28T23:59:59+02:00"
        );
        // 24.11.2026 + 1 → Christmas Eve (Thursday) → Monday 28.12.2026.
        assert_eq!(
            shown(cal.months(at("2026-11-24T12:00:00+02:00"), 1)),
            "2026-12-28T23:59:59+02:00"
        );
        // 1.10.2026 + 3 → New Year's Day 2027 (Friday) → Monday 4.1.2027.
        assert_eq!(
            shown(cal.months(at("2026-10-01T12:00:00+03:00"), 3)),
            "2027-01-04T23:59:59+02:00"
        );
        // 31.12.2025 + 12 → New Year's Eve 2026 (Thursday), a working day.
        assert_eq!(
            shown(cal.months(at("2025-12-31T12:00:00+02:00"), 12)),
            "2026-12-31T23:59:59+02:00"
        );
    }

    // ---- extra closed days ----

    fn county() -> Calendar {
        Calendar::new(vec![
            ExtraClosedDay {
                date: date(2026, 1, 2),
                name: "Loppiaisen välipäivä".into(),
            },
            ExtraClosedDay {
                date: date(2026, 1, 6),
                name: "Duplicate of Epiphany".into(),
            },
            ExtraClosedDay {
                date: date(2027, 5, 7),
                name: "Helatorstain siltapäivä".into(),
            },
        ])
    }

    #[test]
    fn extra_closed_days_in_holidays() {
        let h = county().holidays(2026);
        assert_eq!(h.len(), 16);
        assert_eq!(h[0].date, date(2026, 1, 1));
        assert_eq!(h[1].date, date(2026, 1, 2));
        assert_eq!(h[1].name_fi, "Loppiaisen välipäivä");
        assert_eq!(h[1].name_sv, "Loppiaisen välipäivä");
        assert_eq!(h[1].name_en, "Loppiaisen välipäivä");
        // An extra day on a holiday: listed once, under the holiday's name.
        assert_eq!(h[2].date, date(2026, 1, 6));
        assert_eq!(h[2].name_fi, "Loppiainen");
        assert_eq!(h.iter().filter(|h| h.date == date(2026, 1, 6)).count(), 1);
        // Another year's extra day is not listed in 2026, but is in 2027.
        assert!(!h.iter().any(|h| h.date.year() != 2026));
        let h27 = county().holidays(2027);
        assert_eq!(h27.len(), 16);
        assert!(h27.iter().any(|h| h.date == date(2027, 5, 7)));
        assert!(h27.windows(2).all(|w| w[0].date < w[1].date));
    }

    #[test]
    fn extra_closed_days_push_deadlines() {
        let std = OfficeHours::standard();
        let cal = county();
        assert!(!cal.is_working_day(date(2026, 1, 2)));
        assert!(Calendar::finnish().is_working_day(date(2026, 1, 2)));
        // working-days:1 from New Year's Eve: 2.1 without the extra day, 5.1 with it.
        let from = at("2025-12-31T15:00:00+02:00");
        assert_eq!(
            shown(Calendar::finnish().working_days(from, 1)),
            "2026-01-02T23:59:59+02:00"
        );
        assert_eq!(
            shown(cal.working_days(from, 1)),
            "2026-01-05T23:59:59+02:00"
        );
        // next-working-day from New Year's Eve evening.
        let evening = at("2025-12-31T20:00:00+02:00");
        assert_eq!(
            shown(Calendar::finnish().next_working_day(evening, &std)),
            "2026-01-02T16:00:00+02:00"
        );
        assert_eq!(
            shown(cal.next_working_day(evening, &std)),
            "2026-01-05T16:00:00+02:00"
        );
        // THL example with the county's closed day: one day later.
        assert_eq!(
            shown(cal.working_days(at("2025-12-23T14:00:00+02:00"), 7)),
            "2026-01-09T23:59:59+02:00"
        );
        // months landing on the extra day.
        assert_eq!(
            shown(cal.months(at("2025-10-02T12:00:00+03:00"), 3)),
            "2026-01-05T23:59:59+02:00"
        );
        assert!(!cal.is_office_time(at("2026-01-02T10:00:00+02:00"), &std));
    }

    #[test]
    fn extra_closed_day_deserializes() {
        let day: ExtraClosedDay =
            serde_json::from_str(r#"{"date":"2026-01-02","name":"Välipäivä"}"#).unwrap();
        assert_eq!(
            day,
            ExtraClosedDay {
                date: date(2026, 1, 2),
                name: "Välipäivä".into()
            }
        );
        assert!(
            serde_json::from_str::<ExtraClosedDay>(r#"{"date":"2026-02-30","name":"x"}"#).is_err()
        );
        assert!(serde_json::from_str::<ExtraClosedDay>(r#"{"date":"2026-01-02"}"#).is_err());
    }

    // ---- office hours configuration ----

    #[test]
    fn office_hours_builders() {
        let std = OfficeHours::standard();
        assert_eq!(OfficeHours::default(), std);
        assert_eq!(std.hours_on(Weekday::Mon), Some((hm(8, 0), hm(16, 0))));
        assert_eq!(std.hours_on(Weekday::Sat), None);
        assert_eq!(std.hours_on(Weekday::Sun), None);
        let short = std.clone().with_day(Weekday::Fri, hm(8, 0), hm(13, 0));
        assert_eq!(short.hours_on(Weekday::Fri), Some((hm(8, 0), hm(13, 0))));
        assert_eq!(short.hours_on(Weekday::Thu), Some((hm(8, 0), hm(16, 0))));
        assert_eq!(
            std.clone().closed_on(Weekday::Wed).hours_on(Weekday::Wed),
            None
        );
        // Closing before opening leaves the day closed.
        let bad = std.with_day(Weekday::Tue, hm(16, 0), hm(8, 0));
        assert_eq!(bad.hours_on(Weekday::Tue), None);
    }

    #[test]
    fn office_hours_deserialize() {
        let read = |json: &str| serde_json::from_str::<OfficeHours>(json);
        assert_eq!(read("{}").unwrap(), OfficeHours::standard());
        assert_eq!(
            read(r#"{"fri":"08:00-13:00"}"#).unwrap(),
            OfficeHours::standard().with_day(Weekday::Fri, hm(8, 0), hm(13, 0))
        );
        assert_eq!(
            read(r#"{"mon":"09:30-15:00","wed":"closed"}"#).unwrap(),
            OfficeHours::standard()
                .with_day(Weekday::Mon, hm(9, 30), hm(15, 0))
                .closed_on(Weekday::Wed)
        );
        for bad in [
            r#"{"fri":"13:00-08:00"}"#,
            r#"{"fri":"08:00-08:00"}"#,
            r#"{"fri":"8-16"}"#,
            r#"{"fri":"08:00"}"#,
            r#"{"fri":"25:00-26:00"}"#,
            r#"{"sat":"08:00-16:00"}"#,
            r#"{"mon":"closed","tue":"closed","wed":"closed","thu":"closed","fri":"closed"}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let err = read(r#"{"fri":"13:00-08:00"}"#).unwrap_err().to_string();
        assert!(
            err.contains("fri") && err.contains("closes before it opens"),
            "{err}"
        );
    }

    // ---- rules ----

    #[test]
    fn rule_parsing_good() {
        assert_eq!("next-working-day".parse(), Ok(Rule::NextWorkingDay));
        assert_eq!("working-days:7".parse(), Ok(Rule::WorkingDays(7)));
        assert_eq!("working-days:1".parse(), Ok(Rule::WorkingDays(1)));
        assert_eq!("working-days:365".parse(), Ok(Rule::WorkingDays(365)));
        assert_eq!("months:1".parse(), Ok(Rule::Months(1)));
        assert_eq!("months:24".parse(), Ok(Rule::Months(24)));
        assert_eq!("months:03".parse(), Ok(Rule::Months(3)));
        for rule in [Rule::NextWorkingDay, Rule::WorkingDays(7), Rule::Months(3)] {
            assert_eq!(rule.to_string().parse(), Ok(rule));
        }
    }

    #[test]
    fn rule_parsing_bad() {
        let bad = [
            "",
            "next-working-day:1",
            "Next-Working-Day",
            " next-working-day",
            "working-days",
            "working-days:",
            "working-days:0",
            "working-days:366",
            "working-days:-1",
            "working-days:+7",
            "working-days:7.5",
            "working-days: 7",
            "working-days:99999999999",
            "months:0",
            "months:25",
            "months",
            "weeks:2",
            "working-days:7:1",
        ];
        for s in bad {
            let err = s.parse::<Rule>().unwrap_err();
            assert!(!err.is_empty(), "{s:?}");
        }
        assert!("".parse::<Rule>().unwrap_err().starts_with("empty rule"));
        assert!(
            "weeks:2"
                .parse::<Rule>()
                .unwrap_err()
                .contains("expected next-working-day")
        );
        assert!(
            "working-days:366"
                .parse::<Rule>()
                .unwrap_err()
                .contains("from 1 to 365")
        );
        assert!(
            "months:25"
                .parse::<Rule>()
                .unwrap_err()
                .contains("from 1 to 24")
        );
        assert!(
            "months"
                .parse::<Rule>()
                .unwrap_err()
                .contains("needs a count")
        );
    }

    #[test]
    fn due_dispatches_each_rule() {
        let cal = Calendar::finnish();
        let std = OfficeHours::standard();
        let from = at("2026-03-31T09:00:00+03:00");
        assert_eq!(
            cal.due(Rule::NextWorkingDay, from, &std),
            cal.next_working_day(from, &std)
        );
        assert_eq!(
            shown(cal.due("working-days:7".parse().unwrap(), from, &std)),
            "2026-04-13T23:59:59+03:00"
        );
        assert_eq!(cal.due(Rule::Months(2), from, &std), cal.months(from, 2));
    }

    // ---- robustness ----

    #[test]
    fn extremes_never_panic() {
        let cal = county();
        let std = OfficeHours::standard();
        for from in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = cal.next_working_day(from, &std);
            let _ = cal.next_opening(from, &std);
            let _ = cal.is_office_time(from, &std);
            let _ = cal.working_days(from, 365);
            let _ = cal.months(from, 24);
        }
        for year in [i32::MIN, -262_143, -1, 0, 262_143, i32::MAX] {
            let _ = cal.holidays(year);
        }
        let _ = local_to_utc(NaiveDateTime::MIN);
        let _ = local_to_utc(NaiveDateTime::MAX);
    }
}
