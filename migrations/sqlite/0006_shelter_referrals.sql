-- The desk's own record of the shelter referrals it issued: the code to repeat on the
-- phone, the entry it came from, and the last status the shelter reported (issued,
-- arrived, expired). Nothing of the shelter's register is here.
CREATE TABLE shelter_referrals (
    code       TEXT PRIMARY KEY,
    entry_id   BLOB REFERENCES entries (id),
    issued_by  INTEGER NOT NULL REFERENCES users (id),
    by_name    TEXT NOT NULL,
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    status     TEXT NOT NULL,
    status_at  TEXT NOT NULL
);
CREATE INDEX shelter_referrals_open ON shelter_referrals (status, issued_at);
