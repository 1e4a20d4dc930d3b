-- 0003_wallet_versions.sql — a version per wallet, raised by every change of
-- its balance in the changing transaction, so a balance.updated push (and
-- GET /api/me/balance) says which state it shows: a client that gets an
-- older push after a newer one keeps the newer (issue 15).
-- Must never: contain BEGIN/COMMIT (the node wraps each migration).

ALTER TABLE wallets ADD COLUMN version bigint NOT NULL DEFAULT 0;
