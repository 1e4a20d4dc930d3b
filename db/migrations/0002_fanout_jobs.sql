-- 0002_fanout_jobs.sql — background fan-out of new-chapter notifications.
-- Owns: fanout_jobs, one row per new chapter whose followers are still to be
-- notified. The row is inserted in the chapter's own transaction, and each
-- batch of notifications advances next_user_id in the batch's transaction,
-- so a node dying mid-fan-out loses nothing and sends nothing twice: another
-- node claims the job once its lease has run out.
-- Must never: contain BEGIN/COMMIT (the node wraps each migration).

CREATE TABLE fanout_jobs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    book_id         bigint NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    chapter_id      bigint NOT NULL REFERENCES chapters (id) ON DELETE CASCADE,
    author_id       bigint NOT NULL REFERENCES users (id),
    data            jsonb NOT NULL,          -- the notification's data
    next_user_id    bigint NOT NULL DEFAULT 0, -- followers above this are left
    notified        bigint NOT NULL DEFAULT 0,
    done            boolean NOT NULL DEFAULT false,
    lease_owner     text,
    lease_until     timestamptz NOT NULL DEFAULT '-infinity',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fanout_jobs_pending_idx ON fanout_jobs (id) WHERE NOT done;
