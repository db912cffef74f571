-- The live log: entries and their kept versions.
-- `body` holds the whole entry as JSON; the other columns exist for the board's filters
-- and ordering. Entries are never deleted, and a kept version is never changed.

CREATE TABLE entries (
    id           BLOB PRIMARY KEY,            -- UUID, client-generated for idempotent retries
    version      INTEGER NOT NULL,
    status       TEXT NOT NULL,
    category     TEXT NOT NULL,
    urgency      TEXT NOT NULL,
    urgency_rank INTEGER NOT NULL,            -- 0 immediate, 1 urgent, 2 normal
    channel      TEXT NOT NULL,
    identified   BOOLEAN NOT NULL,            -- the subject is a named person
    occurred_at  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    created_by   INTEGER NOT NULL REFERENCES users (id),
    claimed_by   INTEGER REFERENCES users (id),
    search_text  TEXT NOT NULL,               -- lower-case text for the shift search
    body         TEXT NOT NULL
);
CREATE INDEX entries_board ON entries (status, urgency_rank, occurred_at);

CREATE TRIGGER entries_never_deleted BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'entries are never deleted'); END;

CREATE TABLE entry_revisions (
    entry_id BLOB NOT NULL REFERENCES entries (id),
    version  INTEGER NOT NULL,
    change   TEXT NOT NULL,
    at       TEXT NOT NULL,
    user_id  INTEGER NOT NULL REFERENCES users (id),
    by_name  TEXT NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (entry_id, version)
);

CREATE TRIGGER entry_revisions_no_update BEFORE UPDATE ON entry_revisions
BEGIN SELECT RAISE(ABORT, 'entry revisions are append-only'); END;
CREATE TRIGGER entry_revisions_no_delete BEFORE DELETE ON entry_revisions
BEGIN SELECT RAISE(ABORT, 'entry revisions are append-only'); END;
