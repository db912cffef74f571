//! The access log's hash chain: each row's hash covers the previous row's hash and the
//! row's own fields, so changing or deleting a row breaks every link after it. A database
//! trigger already refuses UPDATE and DELETE; the chain shows whether someone with more
//! power than the application (a DBA, a stolen disk) went around it.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::AccessRecord;

/// The `prev_hash` of the first chained row.
pub const GENESIS: &str = "";

/// Timestamps are chained at microsecond precision, the finest PostgreSQL keeps, so a
/// row reads back exactly as it was hashed on either database.
pub fn chain_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// The hash of a row that follows `prev`.
pub fn link_hash(prev: &str, record: &AccessRecord) -> String {
    // A JSON array: unambiguous field boundaries without inventing an encoding.
    let fields = serde_json::json!([
        prev,
        chain_time(record.at).to_rfc3339_opts(SecondsFormat::Micros, true),
        record.user_id,
        record.username,
        record.role,
        record.action,
        record.record_type,
        record.record_id,
        record.purpose,
        record.result,
    ]);
    hex::encode(Sha256::digest(fields.to_string().as_bytes()))
}

/// One stored row with its links.
#[derive(Debug, Clone)]
pub struct ChainRow {
    pub id: i64,
    pub record: AccessRecord,
    pub prev_hash: Option<String>,
    pub row_hash: Option<String>,
}

/// What `paivystys audit verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Every chained row links to the one before and matches its own content.
    Intact {
        chained: u64,
        /// Rows written before the chain existed (migration 0009), not covered by it.
        unchained: u64,
    },
    /// The first row whose link or content does not hold.
    Broken {
        id: i64,
        at: DateTime<Utc>,
        why: String,
    },
}

/// Walks the rows in id order, page by page, remembering only the last hash.
#[derive(Debug, Default)]
pub struct Verifier {
    last_hash: Option<String>,
    chained: u64,
    unchained: u64,
}

impl Verifier {
    /// Checks the next rows; `Some` with the first broken link.
    pub fn check(&mut self, rows: &[ChainRow]) -> Option<Verdict> {
        for row in rows {
            let broken = |why: String| {
                Some(Verdict::Broken {
                    id: row.id,
                    at: row.record.at,
                    why,
                })
            };
            let (Some(prev), Some(own)) = (&row.prev_hash, &row.row_hash) else {
                if self.last_hash.is_some() {
                    return broken("the row has no hash, but rows before it do".into());
                }
                self.unchained += 1;
                continue;
            };
            let expected_prev = self.last_hash.as_deref().unwrap_or(GENESIS);
            if prev != expected_prev {
                return broken(
                    "the row does not link to the row before it: a row was removed or inserted"
                        .into(),
                );
            }
            if *own != link_hash(prev, &row.record) {
                return broken("the row's content does not match its hash: it was changed".into());
            }
            self.last_hash = Some(own.clone());
            self.chained += 1;
        }
        None
    }

    pub fn finish(self) -> Verdict {
        Verdict::Intact {
            chained: self.chained,
            unchained: self.unchained,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AccessAction, AccessResult};

    fn record(n: i64) -> AccessRecord {
        AccessRecord {
            at: DateTime::from_timestamp(1_790_000_000 + n, 123_456_789).unwrap(),
            user_id: Some(n),
            username: format!("user{n}"),
            role: "oncall".into(),
            action: AccessAction::Read,
            record_type: "entry".into(),
            record_id: format!("e{n}"),
            purpose: None,
            result: AccessResult::Allowed,
        }
    }

    fn chain(n: i64) -> Vec<ChainRow> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|id| {
                let mut r = record(id);
                r.at = chain_time(r.at);
                let own = link_hash(&prev, &r);
                let row = ChainRow {
                    id,
                    record: r,
                    prev_hash: Some(prev.clone()),
                    row_hash: Some(own.clone()),
                };
                prev = own;
                row
            })
            .collect()
    }

    fn verdict(rows: &[ChainRow]) -> Verdict {
        let mut v = Verifier::default();
        // Two pages, as the command reads them.
        let (a, b) = rows.split_at(rows.len() / 2);
        v.check(a)
            .or_else(|| v.check(b))
            .unwrap_or_else(|| v.finish())
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(
            verdict(&chain(6)),
            Verdict::Intact {
                chained: 6,
                unchained: 0
            }
        );
    }

    #[test]
    fn an_edited_row_is_the_first_broken_link() {
        let mut rows = chain(6);
        rows[3].record.username = "someone_else".into();
        assert!(matches!(verdict(&rows), Verdict::Broken { id: 4, .. }));
    }

    #[test]
    fn a_removed_row_breaks_the_link_of_the_next() {
        let mut rows = chain(6);
        rows.remove(2);
        match verdict(&rows) {
            Verdict::Broken { id, why, .. } => {
                assert_eq!(id, 4);
                assert!(why.contains("removed"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }
}
