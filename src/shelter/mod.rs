//! The shelter's register (THL is its controller): a database of its own, never the
//! county's, with notes and identity fields sealed under the shelter's own key.
//!
//! The desk reaches it only through `link::ShelterLink` (free places, issue a referral
//! code, a referral's status). The register runs in the same process by default, or alone
//! (`serve --shelter-only`) for a shelter hosted by another organisation, with the desk
//! reaching it over HTTP.

pub mod crypto;
pub mod link;
pub mod register;

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Helsinki;
use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use rand::Rng;
use uuid::Uuid;

use self::crypto::Cipher;
use self::register::{RegisterStore, StayFilter, StoredStay};
use crate::auth::session::token_hash;
use crate::config::Settings;
use crate::domain::shelter::{
    CODE_DIGITS, Capacity, Identity, NewStay, ReferralStatus, Statistics, Stay, StayPatch,
    TurnedAway, depart, normalise_code, statistics,
};
use crate::error::{AppError, Result};

/// What a refused referral code is told, whatever the reason (unknown, used, expired), so
/// the answer reveals nothing about which codes exist.
pub const INVALID_CODE: &str = "the code is not valid";

pub struct Shelter {
    register: Arc<dyn RegisterStore>,
    cipher: Cipher,
    family_places: i64,
    beds: i64,
    referral_valid: Duration,
    /// Code attempts per staff account: a few mistyped codes are human, a stream is not.
    attempts: RateLimiter<i64, DefaultKeyedStateStore<i64>, DefaultClock>,
    /// Woken on every change of capacity or a referral, so the desk hears of it at once.
    pub changed: Arc<tokio::sync::Notify>,
}

impl Shelter {
    /// Opens (and migrates) the register and its key, as the settings say.
    pub async fn open(settings: &Settings) -> Result<Shelter> {
        let url = settings.effective_shelter_url();
        let register = register::open(&url).await?;
        let cipher = match &settings.shelter.encryption_key {
            Some(key) => Cipher::from_base64(key)?,
            None => Cipher::from_key_file(&key_file_beside(&url)?)?,
        };
        Ok(Shelter {
            register,
            cipher,
            family_places: settings.shelter.family_places,
            beds: settings.shelter.beds,
            referral_valid: Duration::hours(i64::from(settings.shelter.referral_valid_hours)),
            attempts: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(10).expect("10 is not zero"),
            )),
            changed: Arc::new(tokio::sync::Notify::new()),
        })
    }

    pub async fn ping(&self) -> Result<()> {
        self.register.ping().await
    }

    pub async fn capacity(&self) -> Result<Capacity> {
        let current = self.stays(StayFilter::Current).await?;
        Ok(Capacity::of(self.family_places, self.beds, &current))
    }

    /// A new one-time code, unique among the register's codes.
    pub async fn issue_referral(&self, now: DateTime<Utc>) -> Result<(String, DateTime<Utc>)> {
        let expires_at = now + self.referral_valid;
        for _ in 0..20 {
            let code: String = (0..CODE_DIGITS)
                .map(|_| char::from(b'0' + rand::rng().random_range(0..10u8)))
                .collect();
            if self
                .register
                .insert_referral(&token_hash(&code), now, expires_at)
                .await?
            {
                return Ok((code, expires_at));
            }
        }
        Err(AppError::Internal("no free referral code found".into()))
    }

    /// The status of a code; `None` for a code the register never issued.
    pub async fn referral_status(
        &self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ReferralStatus>> {
        let Some(code) = normalise_code(code) else {
            return Ok(None);
        };
        Ok(self
            .register
            .referral(&token_hash(&code))
            .await?
            .map(|r| match r.arrived_at {
                Some(_) => ReferralStatus::Arrived,
                None if r.expires_at <= now => ReferralStatus::Expired,
                None => ReferralStatus::Issued,
            }))
    }

    /// Logs an arrival, redeeming its referral code if it came with one.
    pub async fn admit(&self, new: NewStay, staff: i64, now: DateTime<Utc>) -> Result<Stay> {
        let code = match new.referral_code.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(typed) => {
                if self.attempts.check_key(&staff).is_err() {
                    return Err(AppError::RateLimited {
                        retry_after_secs: 60,
                    });
                }
                Some(normalise_code(typed).ok_or_else(invalid_code)?)
            }
        };
        let stay = new.into_stay(code.is_some(), now)?;
        let stored = self.seal(&stay)?;
        let hash = code.as_deref().map(token_hash);
        if !self
            .register
            .insert_stay(&stored, hash.as_deref(), now)
            .await?
        {
            return Err(invalid_code());
        }
        self.changed.notify_one();
        Ok(stay)
    }

    /// One stay with its notes and identity fields opened.
    pub async fn stay(&self, id: Uuid) -> Result<Stay> {
        let stored = self
            .register
            .get_stay(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no stay {id}")))?;
        self.open_sealed(&stored)
    }

    /// Stays as lists show them: no notes, no identity.
    pub async fn stays(&self, filter: StayFilter) -> Result<Vec<Stay>> {
        self.register
            .list_stays(filter)
            .await?
            .iter()
            .map(|s| Ok(serde_json::from_str::<Stay>(&s.body)?.listed()))
            .collect()
    }

    /// Saves a change made on version `expected`.
    pub async fn change(
        &self,
        id: Uuid,
        expected: i64,
        patch: StayPatch,
        now: DateTime<Utc>,
    ) -> Result<Stay> {
        let current = self.stay(id).await?;
        if current.version != expected {
            return Err(AppError::VersionConflict {
                given: expected,
                current: current.version,
            });
        }
        let next = patch.apply(&current, now)?;
        self.save(&current, next).await
    }

    pub async fn depart(&self, id: Uuid, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Stay> {
        let current = self.stay(id).await?;
        let next = depart(&current, at, now)?;
        self.save(&current, next).await
    }

    async fn save(&self, current: &Stay, next: Stay) -> Result<Stay> {
        if !self.register.update_stay(&self.seal(&next)?).await? {
            let now_stored = self.stay(current.id).await?;
            return Err(AppError::VersionConflict {
                given: current.version,
                current: now_stored.version,
            });
        }
        self.changed.notify_one();
        Ok(next)
    }

    pub async fn record_turned_away(&self, day: &TurnedAway, now: DateTime<Utc>) -> Result<()> {
        if !(0..=100).contains(&day.adults) || !(0..=100).contains(&day.children) {
            return Err(AppError::validation("adults", "counts must be 0-100"));
        }
        if day.adults + day.children < 1 {
            return Err(AppError::validation("adults", "at least one person"));
        }
        if day.date > now.with_timezone(&Helsinki).date_naive() {
            return Err(AppError::validation("date", "must not be in the future"));
        }
        self.register.insert_turned_away(day, now).await
    }

    pub async fn turned_away(&self, year: i32) -> Result<Vec<TurnedAway>> {
        let (first, last) = year_dates(year)?;
        self.register.turned_away(first, last).await
    }

    /// THL's aggregates for a year (Helsinki time).
    pub async fn statistics(&self, year: i32, now: DateTime<Utc>) -> Result<Statistics> {
        let (first, last) = year_dates(year)?;
        let start = local_midnight(first);
        let end = local_midnight(last.succ_opt().unwrap_or(last));
        let stays = self.stays(StayFilter::Overlapping(start, end)).await?;
        let turned = self.register.turned_away(first, last).await?;
        Ok(statistics(year, &stays, &turned, now))
    }

    fn seal(&self, stay: &Stay) -> Result<StoredStay> {
        Ok(StoredStay {
            id: stay.id,
            version: stay.version,
            arrived_at: stay.arrived_at,
            departed_at: stay.departed_at,
            body: serde_json::to_string(&stay.clone().listed())?,
            notes_enc: self
                .cipher
                .encrypt(stay.notes.as_deref().unwrap_or_default())?,
            identity_enc: stay
                .identity
                .as_ref()
                .map(|i| self.cipher.encrypt(&serde_json::to_string(i)?))
                .transpose()?,
        })
    }

    fn open_sealed(&self, stored: &StoredStay) -> Result<Stay> {
        let mut stay: Stay = serde_json::from_str(&stored.body)?;
        stay.notes = Some(self.cipher.decrypt(&stored.notes_enc)?);
        stay.identity = stored
            .identity_enc
            .as_deref()
            .map(|sealed| -> Result<Identity> {
                Ok(serde_json::from_str(&self.cipher.decrypt(sealed)?)?)
            })
            .transpose()?;
        Ok(stay)
    }
}

fn invalid_code() -> AppError {
    AppError::validation("referral_code", INVALID_CODE)
}

fn year_dates(year: i32) -> Result<(NaiveDate, NaiveDate)> {
    if !(2000..=2100).contains(&year) {
        return Err(AppError::validation("year", "a year from 2000 to 2100"));
    }
    Ok((
        NaiveDate::from_ymd_opt(year, 1, 1).expect("valid"),
        NaiveDate::from_ymd_opt(year, 12, 31).expect("valid"),
    ))
}

fn local_midnight(date: NaiveDate) -> DateTime<Utc> {
    Helsinki
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .expect("midnight exists in Helsinki")
        .with_timezone(&Utc)
}

/// The default key file of a SQLite register: beside its database file.
fn key_file_beside(url: &str) -> Result<std::path::PathBuf> {
    crate::config::beside_sqlite_file(url, "paivystys-shelter.key").ok_or_else(|| {
        AppError::Config(
            "a PostgreSQL shelter register needs shelter.encryption_key \
             (32 random bytes, base64) from the shelter's secret store"
                .into(),
        )
    })
}
