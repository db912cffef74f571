-- The live log: entries and their kept versions. Keep in step with
-- migrations/sqlite/0002_entries.sql. Entries are never deleted, and a kept version is
-- never changed.

CREATE TABLE entries (
    id           UUID PRIMARY KEY,
    version      BIGINT NOT NULL,
    status       TEXT NOT NULL,
    category     TEXT NOT NULL,
    urgency      TEXT NOT NULL,
    urgency_rank BIGINT NOT NULL,
    channel      TEXT NOT NULL,
    identified   BOOLEAN NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    created_by   BIGINT NOT NULL REFERENCES users (id),
    claimed_by   BIGINT REFERENCES users (id),
    search_text  TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX entries_board ON entries (status, urgency_rank, occurred_at);

CREATE TRIGGER entries_never_deleted BEFORE DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE entry_revisions (
    entry_id UUID NOT NULL REFERENCES entries (id),
    version  BIGINT NOT NULL,
    change   TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    user_id  BIGINT NOT NULL REFERENCES users (id),
    by_name  TEXT NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (entry_id, version)
);

CREATE TRIGGER entry_revisions_no_change BEFORE UPDATE OR DELETE ON entry_revisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
