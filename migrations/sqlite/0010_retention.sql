-- Retention (issue 8): the free text of closed entries about anonymous clients is removed
-- after `retention.anonymous_entry_text_days`, from the entry, its kept revisions and the
-- desk events that carried it. Rows are never deleted, so the statistics stay. Keep in
-- step with migrations/postgres/0010_retention.sql.

-- The version whose text was purged, and when. A later change (a reopen) makes a new
-- version above it, which a later purge takes again.
ALTER TABLE entries ADD COLUMN text_purged_version INTEGER;
ALTER TABLE entries ADD COLUMN text_purged_at TEXT;
ALTER TABLE entry_revisions ADD COLUMN purged_at TEXT;
ALTER TABLE events ADD COLUMN purged_at TEXT;

-- The purge's candidates: closed anonymous entries by their last change.
CREATE INDEX entries_anonymous_closed ON entries (updated_at)
    WHERE status = 'closed' AND identified = FALSE;
-- An entry's desk events are found by time (they are written at its created_at and
-- updated_at), not by scanning the whole stream.
CREATE INDEX events_stream_at ON events (stream, at);

-- Kept revisions stay append-only with one exception: the purge may rewrite a revision's
-- body once (setting `purged_at`), nothing else of it, and only while its entry is closed,
-- anonymous and already purged in the same transaction.
DROP TRIGGER entry_revisions_no_update;
CREATE TRIGGER entry_revisions_no_update BEFORE UPDATE ON entry_revisions
WHEN NOT (
    OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL
    AND NEW.entry_id = OLD.entry_id AND NEW.version = OLD.version
    AND NEW.change = OLD.change AND NEW.at = OLD.at
    AND NEW.user_id = OLD.user_id AND NEW.by_name = OLD.by_name
    AND EXISTS (
        SELECT 1 FROM entries e
        WHERE e.id = OLD.entry_id AND e.identified = FALSE AND e.status = 'closed'
          AND e.text_purged_version = e.version
    )
)
BEGIN SELECT RAISE(ABORT, 'entry revisions are append-only'); END;

-- Events stay append-only with the same kind of exception: an entry event's data may be
-- rewritten once by the purge (setting `purged_at`); its stream, number, kind and time
-- never change, so a replay from any `since` still sees every number once.
DROP TRIGGER events_append_only_update;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
WHEN NOT (
    OLD.purged_at IS NULL AND NEW.purged_at IS NOT NULL
    AND NEW.stream = OLD.stream AND NEW.seq = OLD.seq
    AND NEW.kind = OLD.kind AND NEW.at = OLD.at
    AND OLD.kind LIKE 'entry.%'
)
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- One row per purge run and record type: when it started and finished, what it purged
-- up to, and how many records it purged. The job reads the last finished run after a
-- restart to know whether a purge is overdue; an unfinished run (a crash) is redone.
CREATE TABLE retention_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    record_type TEXT NOT NULL CHECK (record_type IN ('anonymous_entry_text', 'sessions')),
    started_at  TEXT NOT NULL,
    cutoff      TEXT NOT NULL,
    finished_at TEXT,
    purged      INTEGER,
    CHECK ((finished_at IS NULL) = (purged IS NULL))
);
CREATE INDEX retention_runs_finished ON retention_runs (record_type, finished_at, started_at);
