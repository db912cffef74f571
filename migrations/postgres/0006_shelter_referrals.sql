-- The desk's own record of the shelter referrals it issued. Keep in step with
-- migrations/sqlite/0006_shelter_referrals.sql. Nothing of the shelter's register is here.
CREATE TABLE shelter_referrals (
    code       TEXT PRIMARY KEY,
    entry_id   UUID REFERENCES entries (id),
    issued_by  BIGINT NOT NULL REFERENCES users (id),
    by_name    TEXT NOT NULL,
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    status     TEXT NOT NULL,
    status_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX shelter_referrals_open ON shelter_referrals (status, issued_at);
