-- Anonymous client chats and their messages.
-- `body` holds the whole chat as JSON; the columns exist for the queue's order, the token
-- lookup and the timers. No IP address, user agent or other trace of the client is kept:
-- only the hash of the chat's random token.

CREATE TABLE chats (
    id               BLOB PRIMARY KEY,
    version          INTEGER NOT NULL,
    state            TEXT NOT NULL,            -- queued, active, ended
    risk_rank        INTEGER NOT NULL,         -- 0 imminent … 3 none; the queue sorts by it
    opened_at        TEXT NOT NULL,
    accepted_at      TEXT,
    ended_at         TEXT,
    last_activity_at TEXT NOT NULL,
    worker_id        INTEGER REFERENCES users (id),
    entry_id         BLOB REFERENCES entries (id),
    token_hash       TEXT NOT NULL UNIQUE,     -- SHA-256 of the client's bearer token
    token_expires_at TEXT NOT NULL,
    purged_at        TEXT,                     -- message bodies removed (retention)
    body             TEXT NOT NULL
);
CREATE INDEX chats_queue ON chats (state, risk_rank, opened_at);

-- One row per message. `seq` is the message's sequence number on the chat's stream;
-- (chat_id, client_id) makes a resent message a no-op. `body` becomes NULL when the
-- retention purge runs; the row (who wrote, when) stays for the statistics.
CREATE TABLE chat_messages (
    chat_id   BLOB NOT NULL REFERENCES chats (id),
    seq       INTEGER NOT NULL,
    client_id BLOB NOT NULL,
    author    TEXT NOT NULL,                   -- client or worker
    user_id   INTEGER REFERENCES users (id),
    at        TEXT NOT NULL,
    body      TEXT,
    PRIMARY KEY (chat_id, seq),
    UNIQUE (chat_id, client_id)
);
