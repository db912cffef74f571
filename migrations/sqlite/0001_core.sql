-- Core schema: teams, accounts, sessions, the event log and the access log.
-- Released migrations are never edited; add a new numbered file instead.
-- Timestamps are UTC, written by the application (RFC 3339 text in SQLite).

CREATE TABLE teams (
    key      TEXT PRIMARY KEY,
    name_fi  TEXT NOT NULL,
    name_sv  TEXT NOT NULL,
    name_en  TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('oncall', 'supervisor', 'team', 'shelter', 'admin')),
    team_key      TEXT REFERENCES teams (key),
    password_hash TEXT NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL,
    -- a team user belongs to exactly one team; nobody else belongs to one
    CHECK ((role = 'team') = (team_key IS NOT NULL))
);

-- Server-side sessions. Only a hash of the cookie token is stored, so a copy of the
-- database does not let anyone log in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- One counter row per stream. Incrementing it inside the writing transaction takes the
-- write lock, so sequence numbers follow commit order and never skip.
CREATE TABLE streams (
    name TEXT PRIMARY KEY,
    head INTEGER NOT NULL
);

CREATE TABLE events (
    stream TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    at     TEXT NOT NULL,
    data   TEXT NOT NULL,   -- JSON
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- Who read, wrote, exported or disclosed which client record (Act 703/2023 § 11).
CREATE TABLE access_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    user_id     INTEGER,
    username    TEXT NOT NULL,
    role        TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('read', 'write', 'export', 'disclose')),
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    purpose     TEXT,
    result      TEXT NOT NULL CHECK (result IN ('allowed', 'refused'))
);
CREATE INDEX access_log_record ON access_log (record_type, record_id, id);

CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END;
