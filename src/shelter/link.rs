//! The desk's narrow window onto the shelter: free places, a new referral code, and a
//! referral's status. Nothing else crosses, whichever way the shelter is hosted.
//!
//! `Local` reaches the register in this process; `Remote` reaches a shelter server of its
//! own (`serve --shelter-only`) over HTTP under a shared secret.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Shelter;
use crate::domain::shelter::{Capacity, ReferralStatus};
use crate::error::{AppError, Result};

/// A referral code as the shelter issued it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IssuedCode {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// A referral's status as the shelter reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatusReport {
    pub status: ReferralStatus,
}

pub enum ShelterLink {
    Local(Arc<Shelter>),
    Remote(Remote),
}

pub struct Remote {
    http: reqwest::Client,
    base: String,
    secret: SecretString,
}

impl Remote {
    pub fn new(base: &str, secret: SecretString) -> Result<Remote> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| AppError::Config(format!("shelter link client: {e}")))?;
        Ok(Remote {
            http,
            base: base.trim_end_matches('/').to_owned(),
            secret,
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<T> {
        let response = self
            .http
            .request(method, format!("{}/api/v1/shelter-link/{path}", self.base))
            .bearer_auth(self.secret.expose_secret())
            .send()
            .await
            .map_err(|e| AppError::Unavailable(format!("the shelter does not answer: {e}")))?;
        match response.status().as_u16() {
            200 | 201 => response
                .json()
                .await
                .map_err(|e| AppError::Unavailable(format!("the shelter's answer: {e}"))),
            404 => Err(AppError::NotFound(
                "the shelter knows no such referral".into(),
            )),
            status => Err(AppError::Unavailable(format!(
                "the shelter answered HTTP {status}"
            ))),
        }
    }
}

impl ShelterLink {
    pub async fn capacity(&self) -> Result<Capacity> {
        match self {
            ShelterLink::Local(shelter) => shelter.capacity().await,
            ShelterLink::Remote(remote) => remote.call(reqwest::Method::GET, "capacity").await,
        }
    }

    pub async fn issue_referral(&self, now: DateTime<Utc>) -> Result<IssuedCode> {
        match self {
            ShelterLink::Local(shelter) => {
                let (code, expires_at) = shelter.issue_referral(now).await?;
                Ok(IssuedCode { code, expires_at })
            }
            ShelterLink::Remote(remote) => remote.call(reqwest::Method::POST, "referrals").await,
        }
    }

    pub async fn referral_status(&self, code: &str, now: DateTime<Utc>) -> Result<ReferralStatus> {
        match self {
            ShelterLink::Local(shelter) => shelter
                .referral_status(code, now)
                .await?
                .ok_or_else(|| AppError::NotFound("the shelter knows no such referral".into())),
            ShelterLink::Remote(remote) => {
                if !code.chars().all(|c| c.is_ascii_digit()) {
                    return Err(AppError::NotFound("no such referral".into()));
                }
                let report: StatusReport = remote
                    .call(reqwest::Method::GET, &format!("referrals/{code}"))
                    .await?;
                Ok(report.status)
            }
        }
    }

    /// Woken when the local register changes; a remote one is polled instead.
    pub fn changes(&self) -> Option<Arc<tokio::sync::Notify>> {
        match self {
            ShelterLink::Local(shelter) => Some(Arc::clone(&shelter.changed)),
            ShelterLink::Remote(_) => None,
        }
    }
}
