-- The access log becomes tamper-evident: each row carries the hash of the row before it and
-- its own hash over both (src/access.rs has the exact recipe; `paivystys audit verify`
-- recomputes the chain). Rows written before this migration have no hash and stay outside
-- the chain.
ALTER TABLE access_log ADD COLUMN prev_hash TEXT;
ALTER TABLE access_log ADD COLUMN row_hash TEXT;
