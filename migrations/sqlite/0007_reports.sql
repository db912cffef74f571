-- Online reports from the public. Keep in step with migrations/postgres/0007_reports.sql.
-- No IP address, user agent or other trace of the sender is kept: only the hash of the
-- secret that lets the reporter add information later.

-- The entries and handovers a report becomes need an author: this account stands for the
-- public web form. It is inactive and has no usable password, so nobody can log in as it.
INSERT INTO users (username, display_name, role, team_key, password_hash, active, created_at)
VALUES ('web-form', 'Verkkolomake / Webbformulär', 'oncall', NULL, '!', FALSE,
        '2026-11-22T00:00:00Z');

CREATE TABLE reports (
    reference   TEXT PRIMARY KEY,              -- e.g. K7M3-Q9XP, given to the reporter
    secret_hash TEXT NOT NULL,                 -- SHA-256 of the secret shown once
    client_hash TEXT UNIQUE,                   -- SHA-256 of the form's client id (retries)
    entry_id    BLOB NOT NULL UNIQUE REFERENCES entries (id),
    handover_id BLOB NOT NULL REFERENCES handovers (id),
    kind        TEXT NOT NULL,
    urgent      BOOLEAN NOT NULL,
    received_at TEXT NOT NULL,
    body        TEXT NOT NULL                  -- the report as received (JSON)
);
CREATE INDEX reports_received ON reports (received_at);

CREATE TRIGGER reports_never_deleted BEFORE DELETE ON reports
BEGIN SELECT RAISE(ABORT, 'reports are never deleted'); END;

-- What the reporter added later; (reference, client_id) makes a resent addition a no-op.
CREATE TABLE report_additions (
    reference TEXT NOT NULL REFERENCES reports (reference),
    client_id BLOB NOT NULL,
    at        TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (reference, client_id)
);
