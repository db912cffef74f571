-- Phone calls reported by the phone system. Keep in step with
-- migrations/sqlite/0008_calls.sql. The caller's number is never stored: only a keyed
-- hash (HMAC under a server secret) to recognise a repeat caller.

-- The entries of answered calls need an author: this inactive account stands for the phone
-- system. It has no usable password, so nobody can log in as it.
INSERT INTO users (username, display_name, role, team_key, password_hash, active, created_at)
VALUES ('phone-system', 'Puhelinjärjestelmä / Telefonsystemet', 'oncall', NULL, '!', FALSE,
        '2026-11-22T00:00:00Z');

CREATE TABLE calls (
    id          UUID PRIMARY KEY,
    call_id     TEXT NOT NULL UNIQUE,          -- the phone system's id
    version     BIGINT NOT NULL,
    state       TEXT NOT NULL,                 -- ringing, answered, ended
    caller_hash TEXT,                          -- HMAC of the client's number; NULL if withheld
    started_at  TIMESTAMPTZ NOT NULL,          -- the earliest moment known (for the statistics)
    entry_id    UUID REFERENCES entries (id),
    body        TEXT NOT NULL                  -- the call as JSON
);
CREATE INDEX calls_caller ON calls (caller_hash, started_at);
CREATE INDEX calls_started ON calls (started_at);
CREATE INDEX calls_live ON calls (state, started_at);
