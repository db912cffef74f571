-- The shelter's own register (THL is its controller); never in the county's database.
-- A stay's `body` holds everything but the notes and identity fields, which are kept only
-- encrypted (XChaCha20-Poly1305, base64 of nonce and ciphertext) under a key that only the
-- shelter side holds.

CREATE TABLE stays (
    id           BLOB PRIMARY KEY,
    version      INTEGER NOT NULL,
    arrived_at   TEXT NOT NULL,
    departed_at  TEXT,
    body         TEXT NOT NULL,
    notes_enc    TEXT NOT NULL,
    identity_enc TEXT
);
CREATE INDEX stays_by_time ON stays (departed_at, arrived_at);

-- One-time referral codes from the on-call desk. Only the code's hash is kept, and nothing
-- of the desk's entry: the shelter never learns who referred whom.
CREATE TABLE referrals (
    code_hash  TEXT PRIMARY KEY,
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    arrived_at TEXT
);

-- People turned away for lack of space: counts by day, for THL.
CREATE TABLE turned_away (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    day         TEXT NOT NULL,
    adults      INTEGER NOT NULL,
    children    INTEGER NOT NULL,
    recorded_at TEXT NOT NULL
);
