//! Recording reads and writes of client data in the access log (Act 703/2023 § 11).

use crate::AppState;
use crate::domain::account::User;
use crate::error::Result;
use crate::store::{AccessAction, AccessRecord, AccessResult};

/// Records that `user` did `action` to a record, allowed or refused.
pub async fn record(
    state: &AppState,
    user: &User,
    action: AccessAction,
    record_type: &str,
    record_id: &str,
    result: AccessResult,
) -> Result<()> {
    state
        .store
        .record_access(&AccessRecord {
            at: state.clock.now(),
            user_id: Some(user.id),
            username: user.username.clone(),
            role: user.role.to_string(),
            action,
            record_type: record_type.to_owned(),
            record_id: record_id.to_owned(),
            purpose: None,
            result,
        })
        .await
}
