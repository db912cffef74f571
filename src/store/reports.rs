//! Online reports and the information their senders add later. A supertrait of `Store`,
//! like the chats; a report, its entry, its handover and their events commit together.

use async_trait::async_trait;
use uuid::Uuid;

use crate::domain::report::{Addition, Received, Report};
use crate::error::Result;
use crate::events::NewEvent;

/// The outcome of adding information to a report.
#[derive(Debug, PartialEq, Eq)]
pub enum AdditionWrite {
    /// Stored; the report now has this many additions.
    Created(i64),
    /// This `client_id` was already used (a retry) at the given time; nothing was written.
    Existing(i64, chrono::DateTime<chrono::Utc>),
    /// The report has taken all the additions it takes.
    Full,
}

/// The outcome of storing a new report.
#[derive(Debug)]
pub enum ReportWrite {
    Created,
    /// The form's client id was used before (a retry after a lost answer): nothing new was
    /// written except the new secret's hash on that report.
    Retried(Box<Report>),
    /// The drawn reference is taken; nothing was written. Draw another.
    ReferenceTaken,
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores the report with its entry, handover and events in one transaction, unless
    /// `client_hash` names an earlier report, whose secret hash is then replaced.
    async fn insert_report(
        &self,
        received: &Received,
        secret_hash: &str,
        client_hash: Option<&str>,
        events: &[NewEvent],
    ) -> Result<ReportWrite>;
    /// The report and the hash of its secret.
    async fn report_by_reference(&self, reference: &str) -> Result<Option<(Report, String)>>;
    async fn report_for_entry(&self, entry: Uuid) -> Result<Option<Report>>;
    /// Oldest first.
    async fn report_additions(&self, reference: &str) -> Result<Vec<Addition>>;
    /// Stores an addition and the `report.added` events, unless the `client_id` was used.
    async fn insert_addition(
        &self,
        report: &Report,
        client_id: Uuid,
        addition: &Addition,
    ) -> Result<AdditionWrite>;
}

#[derive(sqlx::FromRow)]
pub(super) struct ReportRow {
    pub body: String,
    pub secret_hash: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct AdditionRow {
    pub at: chrono::DateTime<chrono::Utc>,
    pub body: String,
}

macro_rules! impl_report_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::ReportStore for $store {
            async fn insert_report(
                &self,
                received: &$crate::domain::report::Received,
                secret_hash: &str,
                client_hash: Option<&str>,
                events: &[$crate::events::NewEvent],
            ) -> $crate::error::Result<$crate::store::reports::ReportWrite> {
                use $crate::store::reports::ReportWrite;
                let report = &received.report;
                let mut tx = self.writer().begin().await?;
                if let Some(client_hash) = client_hash {
                    let earlier: Option<String> = sqlx::query_scalar(
                        "UPDATE reports SET secret_hash = $2 WHERE client_hash = $1 RETURNING body",
                    )
                    .bind(client_hash)
                    .bind(secret_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(body) = earlier {
                        tx.commit().await?;
                        return Ok(ReportWrite::Retried(Box::new(serde_json::from_str(&body)?)));
                    }
                }
                let taken: Option<String> =
                    sqlx::query_scalar("SELECT reference FROM reports WHERE reference = $1")
                        .bind(&report.reference)
                        .fetch_optional(&mut *tx)
                        .await?;
                if taken.is_some() {
                    tx.rollback().await?;
                    return Ok(ReportWrite::ReferenceTaken);
                }
                if !Self::insert_entry_in_tx(&mut tx, &received.entry).await? {
                    return Err($crate::error::AppError::Internal(
                        "a new report's entry id was taken".into(),
                    ));
                }
                let handover_body = serde_json::to_string(&received.handover)?;
                $crate::store::sql::bind_handover!(
                    sqlx::query($crate::store::sql::HANDOVER_INSERT),
                    received.handover,
                    &handover_body
                )
                .execute(&mut *tx)
                .await
                .map_err($crate::store::sql::handover_error)?;
                sqlx::query(
                    "INSERT INTO reports (reference, secret_hash, client_hash, entry_id, \
                     handover_id, kind, urgent, received_at, body) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&report.reference)
                .bind(secret_hash)
                .bind(client_hash)
                .bind(report.entry_id)
                .bind(report.handover_id)
                .bind(report.kind.as_str())
                .bind(report.urgent)
                .bind(report.received_at)
                .bind(serde_json::to_string(report)?)
                .execute(&mut *tx)
                .await?;
                self.commit_with_events(tx, events, report.received_at)
                    .await?;
                Ok(ReportWrite::Created)
            }

            async fn report_by_reference(
                &self,
                reference: &str,
            ) -> $crate::error::Result<Option<($crate::domain::report::Report, String)>> {
                let row: Option<$crate::store::reports::ReportRow> = sqlx::query_as(
                    "SELECT body, secret_hash FROM reports WHERE reference = $1",
                )
                .bind(reference)
                .fetch_optional(self.reader())
                .await?;
                row.map(|r| Ok((serde_json::from_str(&r.body)?, r.secret_hash)))
                    .transpose()
            }

            async fn report_for_entry(
                &self,
                entry: uuid::Uuid,
            ) -> $crate::error::Result<Option<$crate::domain::report::Report>> {
                let row: Option<$crate::store::reports::ReportRow> = sqlx::query_as(
                    "SELECT body, secret_hash FROM reports WHERE entry_id = $1",
                )
                .bind(entry)
                .fetch_optional(self.reader())
                .await?;
                row.map(|r| Ok(serde_json::from_str(&r.body)?)).transpose()
            }

            async fn report_additions(
                &self,
                reference: &str,
            ) -> $crate::error::Result<Vec<$crate::domain::report::Addition>> {
                let rows: Vec<$crate::store::reports::AdditionRow> = sqlx::query_as(
                    "SELECT at, body FROM report_additions WHERE reference = $1 ORDER BY at, client_id",
                )
                .bind(reference)
                .fetch_all(self.reader())
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| $crate::domain::report::Addition {
                        at: r.at,
                        text: r.body,
                    })
                    .collect())
            }

            async fn insert_addition(
                &self,
                report: &$crate::domain::report::Report,
                client_id: uuid::Uuid,
                addition: &$crate::domain::report::Addition,
            ) -> $crate::error::Result<$crate::store::reports::AdditionWrite> {
                use $crate::store::reports::AdditionWrite;
                let mut tx = self.writer().begin().await?;
                let before: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM report_additions WHERE reference = $1",
                )
                .bind(&report.reference)
                .fetch_one(&mut *tx)
                .await?;
                let used: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar(
                    "SELECT at FROM report_additions WHERE reference = $1 AND client_id = $2",
                )
                .bind(&report.reference)
                .bind(client_id)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(at) = used {
                    tx.rollback().await?;
                    return Ok(AdditionWrite::Existing(before, at));
                }
                if before >= $crate::domain::report::MAX_ADDITIONS {
                    tx.rollback().await?;
                    return Ok(AdditionWrite::Full);
                }
                sqlx::query(
                    "INSERT INTO report_additions (reference, client_id, at, body) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&report.reference)
                .bind(client_id)
                .bind(addition.at)
                .bind(&addition.text)
                .execute(&mut *tx)
                .await?;
                let events =
                    $crate::domain::report::added_events(report, before + 1, addition.at);
                self.commit_with_events(tx, &events, addition.at).await?;
                Ok(AdditionWrite::Created(before + 1))
            }
        }
    };
}

pub(crate) use impl_report_store;
