-- Handovers to daytime teams. `body` holds the whole handover as JSON; the other columns
-- serve the inbox's ordering and the overdue timer. Handovers are never deleted.

CREATE TABLE handovers (
    id         BLOB PRIMARY KEY,
    entry_id   BLOB NOT NULL REFERENCES entries (id),
    team_key   TEXT NOT NULL REFERENCES teams (key),
    state      TEXT NOT NULL,
    due_at     TEXT NOT NULL,
    overdue_at TEXT,
    created_at TEXT NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX handovers_inbox ON handovers (team_key, state, due_at);
CREATE INDEX handovers_entry ON handovers (entry_id);
CREATE INDEX handovers_due ON handovers (state, due_at);

CREATE TRIGGER handovers_never_deleted BEFORE DELETE ON handovers
BEGIN SELECT RAISE(ABORT, 'handovers are never deleted'); END;
