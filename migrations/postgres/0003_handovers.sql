-- Handovers to daytime teams. Keep in step with migrations/sqlite/0003_handovers.sql.

CREATE TABLE handovers (
    id         UUID PRIMARY KEY,
    entry_id   UUID NOT NULL REFERENCES entries (id),
    team_key   TEXT NOT NULL REFERENCES teams (key),
    state      TEXT NOT NULL,
    due_at     TIMESTAMPTZ NOT NULL,
    overdue_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX handovers_inbox ON handovers (team_key, state, due_at);
CREATE INDEX handovers_entry ON handovers (entry_id);
CREATE INDEX handovers_due ON handovers (state, due_at);

CREATE TRIGGER handovers_never_deleted BEFORE DELETE ON handovers
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
