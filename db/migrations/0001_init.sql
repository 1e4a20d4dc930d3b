-- 0001_init.sql — the initial Switchboard schema (PostgreSQL 15).
-- Owns: the tables behind the public contract (users, books, chapters,
-- comments, follows, wallets, coin_packages, purchases, gifts, notifications).
-- Must never: contain BEGIN/COMMIT or psql meta-commands (the node applies
-- every migration inside its own transaction), create schema_migrations (the
-- node owns it), or create extensions (production databases may forbid them).
-- Applied files are never edited: change the schema in a new, higher-numbered file.

CREATE TABLE users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text NOT NULL UNIQUE
                    CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9_]{3,32}$'),
    password_hash   text NOT NULL,
    display_name    text NOT NULL,
    bio             text NOT NULL DEFAULT '',
    follower_count  bigint NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);

CREATE TABLE books (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id       bigint NOT NULL REFERENCES users (id),
    title           text NOT NULL,
    description     text NOT NULL DEFAULT '',
    published       boolean NOT NULL DEFAULT false,
    chapter_count   integer NOT NULL DEFAULT 0 CHECK (chapter_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- GET /api/books?after=<id>: published books in id order (keyset pagination).
CREATE INDEX books_published_id_idx ON books (id) WHERE published;
CREATE INDEX books_author_id_idx ON books (author_id);

CREATE TABLE chapters (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    book_id         bigint NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    number          integer NOT NULL CHECK (number > 0),
    title           text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chapters_book_number_key UNIQUE (book_id, number)
);

CREATE TABLE comments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chapter_id      bigint NOT NULL REFERENCES chapters (id) ON DELETE CASCADE,
    user_id         bigint NOT NULL REFERENCES users (id),
    body            text NOT NULL
                    CONSTRAINT comments_body_length CHECK (char_length(body) BETWEEN 1 AND 4000),
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- GET /api/chapters/:id/comments?before=<id>: newest first, keyset pagination.
CREATE INDEX comments_chapter_id_id_idx ON comments (chapter_id, id DESC);
CREATE INDEX comments_user_id_idx ON comments (user_id);

CREATE TABLE follows (
    user_id         bigint NOT NULL REFERENCES users (id),
    book_id         bigint NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, book_id)
);
-- A new chapter notifies every follower of its book.
CREATE INDEX follows_book_id_idx ON follows (book_id);

CREATE TABLE wallets (
    user_id         bigint PRIMARY KEY REFERENCES users (id),
    coins           bigint NOT NULL DEFAULT 0 CONSTRAINT wallets_coins_nonnegative CHECK (coins >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE coin_packages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coins           integer NOT NULL CHECK (coins > 0),
    price_cents     integer NOT NULL CHECK (price_cents >= 0),
    label           text NOT NULL
);

CREATE TABLE purchases (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id),
    package_id      bigint NOT NULL REFERENCES coin_packages (id),
    coins           integer NOT NULL CHECK (coins > 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX purchases_user_id_idx ON purchases (user_id, id DESC);

CREATE TABLE gifts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_user_id    bigint NOT NULL REFERENCES users (id),
    to_user_id      bigint NOT NULL REFERENCES users (id),
    coins           bigint NOT NULL CHECK (coins > 0),
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT gifts_not_to_self CHECK (from_user_id <> to_user_id),
    -- NULL keys never collide: a gift without Idempotency-Key is never deduplicated.
    CONSTRAINT gifts_from_user_id_idempotency_key_key UNIQUE (from_user_id, idempotency_key)
);
CREATE INDEX gifts_to_user_id_idx ON gifts (to_user_id, id DESC);

CREATE TABLE notifications (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id),
    kind            text NOT NULL
                    CONSTRAINT notifications_kind_check
                    CHECK (kind IN ('gift_received', 'new_chapter', 'comment_on_book', 'reply')),
    data            jsonb NOT NULL,
    read            boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- GET /api/me/notifications: newest first per user, and the unread count.
CREATE INDEX notifications_user_id_id_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id DESC) WHERE NOT read;
