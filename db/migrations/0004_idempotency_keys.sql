-- 0004_idempotency_keys.sql — the first answer of every write made with an
-- Idempotency-Key (issue 15, "Retries are safe" in the contract): claimed in
-- the write's own transaction, so a key is taken exactly when the write
-- commits, and a repeat within 24 h gets the stored answer back.
-- Must never: contain BEGIN/COMMIT (the node wraps each migration).

CREATE TABLE idempotency_keys (
    -- Who made the write: 'user:<id>', or 'register' for sign-ups.
    caller      text NOT NULL,
    key         text NOT NULL,
    -- SHA-256 (hex) of the request: method, path and body (for register, the
    -- body without the password, which is checked against the account).
    fingerprint text NOT NULL,
    -- The write's result as the handler answers from it.
    response    json NOT NULL, -- json, not jsonb: kept as written, keys in order
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);

-- Keys older than 24 h are swept a few at a time by later writes.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Gifts kept their own unique key until now; the claim above replaces it (a
-- key is free again after 24 h), and the column stays as a record of the
-- key each gift was made with.
ALTER TABLE gifts DROP CONSTRAINT gifts_from_user_id_idempotency_key_key;
