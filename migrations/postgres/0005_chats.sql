-- Anonymous client chats and their messages. Keep in step with
-- migrations/sqlite/0005_chats.sql. No IP address, user agent or other trace of the
-- client is kept: only the hash of the chat's random token.

CREATE TABLE chats (
    id               UUID PRIMARY KEY,
    version          BIGINT NOT NULL,
    state            TEXT NOT NULL,
    risk_rank        BIGINT NOT NULL,
    opened_at        TIMESTAMPTZ NOT NULL,
    accepted_at      TIMESTAMPTZ,
    ended_at         TIMESTAMPTZ,
    last_activity_at TIMESTAMPTZ NOT NULL,
    worker_id        BIGINT REFERENCES users (id),
    entry_id         UUID REFERENCES entries (id),
    token_hash       TEXT NOT NULL UNIQUE,
    token_expires_at TIMESTAMPTZ NOT NULL,
    purged_at        TIMESTAMPTZ,
    body             TEXT NOT NULL
);
CREATE INDEX chats_queue ON chats (state, risk_rank, opened_at);

CREATE TABLE chat_messages (
    chat_id   UUID NOT NULL REFERENCES chats (id),
    seq       BIGINT NOT NULL,
    client_id UUID NOT NULL,
    author    TEXT NOT NULL,
    user_id   BIGINT REFERENCES users (id),
    at        TIMESTAMPTZ NOT NULL,
    body      TEXT,
    PRIMARY KEY (chat_id, seq),
    UNIQUE (chat_id, client_id)
);
