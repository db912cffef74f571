//! The desk's record of the shelter referrals it issued (county database): the code, the
//! entry, the last reported status. A supertrait of `Store`, like the chats.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::shelter::{DeskReferral, ReferralStatus};
use crate::error::{AppError, Result};
use crate::events::NewEvent;

#[async_trait]
pub trait ReferralStore: Send + Sync {
    async fn insert_desk_referral(
        &self,
        referral: &DeskReferral,
        events: &[NewEvent],
    ) -> Result<()>;
    /// Newest first; only those of `entry` when given; only still `issued` with `open_only`.
    async fn desk_referrals(
        &self,
        entry: Option<Uuid>,
        open_only: bool,
        limit: i64,
    ) -> Result<Vec<DeskReferral>>;
    /// Records a new status with its desk event.
    async fn set_referral_status(
        &self,
        code: &str,
        status: ReferralStatus,
        at: DateTime<Utc>,
        events: &[NewEvent],
    ) -> Result<()>;
}

#[derive(sqlx::FromRow)]
pub(super) struct ReferralRow {
    code: String,
    entry_id: Option<Uuid>,
    issued_by: i64,
    by_name: String,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    status: String,
    status_at: DateTime<Utc>,
}

impl TryFrom<ReferralRow> for DeskReferral {
    type Error = AppError;

    fn try_from(row: ReferralRow) -> Result<DeskReferral> {
        Ok(DeskReferral {
            status: ReferralStatus::parse_field(&row.status, "status")
                .map_err(|_| AppError::Internal(format!("stored status {:?}", row.status)))?,
            code: row.code,
            entry_id: row.entry_id,
            issued_by: crate::domain::entry::Person {
                id: row.issued_by,
                name: row.by_name,
            },
            issued_at: row.issued_at,
            expires_at: row.expires_at,
            status_at: row.status_at,
        })
    }
}

macro_rules! impl_referral_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::ReferralStore for $store {
            async fn insert_desk_referral(
                &self,
                referral: &$crate::domain::shelter::DeskReferral,
                events: &[$crate::events::NewEvent],
            ) -> $crate::error::Result<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query(
                    "INSERT INTO shelter_referrals (code, entry_id, issued_by, by_name, issued_at, \
                     expires_at, status, status_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&referral.code)
                .bind(referral.entry_id)
                .bind(referral.issued_by.id)
                .bind(&referral.issued_by.name)
                .bind(referral.issued_at)
                .bind(referral.expires_at)
                .bind(referral.status.as_str())
                .bind(referral.status_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    $crate::store::sql::constraint_error(
                        e,
                        "this referral code is already recorded",
                        $crate::error::AppError::validation("entry_id", "no such entry"),
                    )
                })?;
                self.commit_with_events(tx, events, referral.issued_at).await?;
                Ok(())
            }

            async fn desk_referrals(
                &self,
                entry: Option<uuid::Uuid>,
                open_only: bool,
                limit: i64,
            ) -> $crate::error::Result<Vec<$crate::domain::shelter::DeskReferral>> {
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT code, entry_id, issued_by, by_name, issued_at, expires_at, status, \
                     status_at FROM shelter_referrals WHERE TRUE",
                );
                if let Some(entry) = entry {
                    query.push(" AND entry_id = ").push_bind(entry);
                }
                if open_only {
                    query.push(" AND status = 'issued'");
                }
                query.push(" ORDER BY issued_at DESC LIMIT ").push_bind(limit);
                let rows: Vec<$crate::store::referrals::ReferralRow> =
                    query.build_query_as().fetch_all(self.reader()).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn set_referral_status(
                &self,
                code: &str,
                status: $crate::domain::shelter::ReferralStatus,
                at: chrono::DateTime<chrono::Utc>,
                events: &[$crate::events::NewEvent],
            ) -> $crate::error::Result<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query(
                    "UPDATE shelter_referrals SET status = $2, status_at = $3 WHERE code = $1",
                )
                .bind(code)
                .bind(status.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
                self.commit_with_events(tx, events, at).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_referral_store;
