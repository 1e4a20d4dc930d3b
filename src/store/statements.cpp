// statements — see statements.hpp. Times are formatted by PostgreSQL as
// RFC 3339 UTC with milliseconds, the contract's time format. Partial
// updates pass NULL for "leave as is" (coalesce).
#include "src/store/statements.hpp"

#include <pqxx/pqxx>

namespace switchboard::store {

namespace {

struct statement {
  const char* name;
  const char* sql;
};

#define SB_RFC3339(col)                                                        \
  "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

#define SB_BOOK_COLUMNS                                                        \
  "id, author_id, title, description, published, chapter_count, " SB_RFC3339(  \
      "updated_at")

#define SB_USER_COLUMNS "id, username, display_name, bio, follower_count"

#define SB_NOTIFICATION_COLUMNS                                                \
  "id, kind, read, " SB_RFC3339("created_at") ", data::text"

#define SB_COMMENT_COLUMNS                                                     \
  "m.id, m.chapter_id, m.user_id, m.body, " SB_RFC3339(                        \
      "m.created_at") ", u.display_name"

#define SB_CHAPTER_COLUMNS                                                     \
  "id, book_id, number, title, body, " SB_RFC3339("updated_at")

constexpr statement all_statements[] = {
    // books
    {"book_by_id", "SELECT " SB_BOOK_COLUMNS " FROM books WHERE id = $1"},
    {"books_page",
     "SELECT " SB_BOOK_COLUMNS " FROM books WHERE published AND id > $1 "
     "ORDER BY id LIMIT $2"},
    {"book_insert",
     "INSERT INTO books (author_id, title, description, published) "
     "VALUES ($1, $2, $3, $4) RETURNING " SB_BOOK_COLUMNS},
    {"book_author_for_update",
     "SELECT author_id FROM books WHERE id = $1 FOR UPDATE"},
    {"book_update",
     "UPDATE books SET title = coalesce($2, title), "
     "description = coalesce($3, description), "
     "published = coalesce($4::boolean, published), updated_at = now() "
     "WHERE id = $1 RETURNING " SB_BOOK_COLUMNS},
    {"book_count_chapter",
     "UPDATE books SET chapter_count = chapter_count + 1, updated_at = now() "
     "WHERE id = $1 RETURNING chapter_count"},
    // chapters
    {"chapter_by_id",
     "SELECT " SB_CHAPTER_COLUMNS " FROM chapters WHERE id = $1"},
    {"chapters_of_book",
     "SELECT id, book_id, number, title, " SB_RFC3339(
         "updated_at") " FROM chapters WHERE book_id = $1 ORDER BY number "
                       "LIMIT $2"},
    {"book_exists", "SELECT 1 FROM books WHERE id = $1"},
    {"chapter_insert", "INSERT INTO chapters (book_id, number, title, body) "
                       "VALUES ($1, $2, $3, $4) RETURNING " SB_CHAPTER_COLUMNS},
    {"chapter_author_for_update",
     "SELECT b.author_id, c.book_id FROM chapters c JOIN books b "
     "ON b.id = c.book_id WHERE c.id = $1 FOR UPDATE OF c"},
    {"chapter_update", "UPDATE chapters SET title = coalesce($2, title), "
                       "body = coalesce($3, body), updated_at = now() "
                       "WHERE id = $1 RETURNING " SB_CHAPTER_COLUMNS},
    // users
    {"user_by_id", "SELECT " SB_USER_COLUMNS
                   " FROM users WHERE id = $1 AND deleted_at IS NULL"},
    {"user_login", "SELECT " SB_USER_COLUMNS ", password_hash FROM users "
                   "WHERE username = $1 AND deleted_at IS NULL"},
    {"user_password_hash", "SELECT password_hash FROM users WHERE id = $1"},
    {"user_insert", "INSERT INTO users (username, password_hash, display_name) "
                    "VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING "
                    "RETURNING " SB_USER_COLUMNS},
    {"wallet_insert", "INSERT INTO wallets (user_id, coins) VALUES ($1, 0)"},
    {"user_delete", "UPDATE users SET deleted_at = now() "
                    "WHERE id = $1 AND deleted_at IS NULL RETURNING id"},
    {"user_update",
     "UPDATE users SET display_name = coalesce($2, display_name), "
     "bio = coalesce($3, bio) WHERE id = $1 AND deleted_at IS NULL "
     "RETURNING " SB_USER_COLUMNS},
    // coins
    {"coin_packages",
     "SELECT id, coins, price_cents, label FROM coin_packages ORDER BY id"},
    {"coin_package_by_id", "SELECT coins FROM coin_packages WHERE id = $1"},
    {"wallet_balance", "SELECT coins, version FROM wallets WHERE user_id = $1"},
    {"wallet_ensure", "INSERT INTO wallets (user_id, coins) VALUES ($1, 0) "
                      "ON CONFLICT (user_id) DO NOTHING"},
    {"wallet_credit",
     "INSERT INTO wallets (user_id, coins, version) VALUES ($1, $2, 1) "
     "ON CONFLICT (user_id) DO UPDATE SET coins = wallets.coins + "
     "EXCLUDED.coins, version = wallets.version + 1, updated_at = now() "
     "RETURNING coins, version"},
    {"wallets_lock_pair",
     "SELECT user_id, coins FROM wallets WHERE user_id IN ($1, $2) "
     "ORDER BY user_id FOR UPDATE"},
    {"wallet_add",
     "UPDATE wallets SET coins = coins + $2, version = version + 1, "
     "updated_at = now() WHERE user_id = $1 RETURNING coins, version"},
    {"purchase_insert",
     "INSERT INTO purchases (user_id, package_id, coins) VALUES ($1, $2, $3)"},
    // The key a gift was made with is kept with it (a record; the claim
    // itself is in idempotency_keys).
    {"gift_insert",
     "INSERT INTO gifts (from_user_id, to_user_id, coins, idempotency_key) "
     "VALUES ($1, $2, $3, $4) RETURNING id"},
    {"users_display_names",
     "SELECT id, display_name FROM users WHERE id = ANY($1::bigint[]) "
     "AND deleted_at IS NULL ORDER BY id"},
    {"user_alive", "SELECT display_name FROM users "
                   "WHERE id = $1 AND deleted_at IS NULL"},
    // idempotency keys (src/store/write_transaction.cpp)
    {"idempotency_claim",
     "INSERT INTO idempotency_keys (caller, key, fingerprint, response) "
     "VALUES ($1, $2, $3, 'null') ON CONFLICT (caller, key) DO UPDATE "
     "SET fingerprint = EXCLUDED.fingerprint, response = 'null', "
     "created_at = now() "
     "WHERE idempotency_keys.created_at < now() - interval '24 hours' "
     "RETURNING 1"},
    {"idempotency_first",
     "SELECT fingerprint, response::text "
     "FROM idempotency_keys WHERE caller = $1 AND key = $2"},
    {"idempotency_answer", "UPDATE idempotency_keys SET response = $3::json "
                           "WHERE caller = $1 AND key = $2"},
    {"idempotency_sweep",
     "DELETE FROM idempotency_keys WHERE (caller, key) IN ("
     "SELECT caller, key FROM idempotency_keys "
     "WHERE created_at < now() - interval '24 hours' "
     "ORDER BY created_at LIMIT 10 FOR UPDATE SKIP LOCKED)"},
    // notifications
    {"notification_insert",
     "INSERT INTO notifications (user_id, kind, data) VALUES ($1, $2, $3) "
     "RETURNING " SB_NOTIFICATION_COLUMNS},
    {"notifications_newest",
     "SELECT " SB_NOTIFICATION_COLUMNS " FROM notifications "
     "WHERE user_id = $1 ORDER BY id DESC LIMIT $2"},
    {"notifications_unread",
     "SELECT count(*) FROM notifications WHERE user_id = $1 AND NOT read"},
    {"notification_owner_for_update",
     "SELECT read FROM notifications WHERE id = $1 AND user_id = $2 "
     "FOR UPDATE"},
    {"notification_mark_read",
     "UPDATE notifications SET read = true WHERE id = $1"},
    // comments
    {"chapter_book_author",
     "SELECT c.book_id, b.author_id FROM chapters c JOIN books b "
     "ON b.id = c.book_id WHERE c.id = $1"},
    {"comments_page",
     "SELECT " SB_COMMENT_COLUMNS " FROM comments m JOIN users u "
     "ON u.id = m.user_id WHERE m.chapter_id = $1 AND m.id < $2 "
     "ORDER BY m.id DESC LIMIT $3"},
    {"comment_insert",
     "WITH m AS (INSERT INTO comments (chapter_id, user_id, body) "
     "VALUES ($1, $2, $3) RETURNING *) SELECT " SB_COMMENT_COLUMNS
     " FROM m JOIN users u ON u.id = m.user_id"},
    // follows
    {"book_author", "SELECT author_id, title FROM books WHERE id = $1"},
    {"follow_insert", "INSERT INTO follows (user_id, book_id) VALUES ($1, $2) "
                      "ON CONFLICT DO NOTHING RETURNING 1"},
    {"follow_delete",
     "DELETE FROM follows WHERE user_id = $1 AND book_id = $2 RETURNING 1"},
    {"user_add_followers",
     "UPDATE users SET follower_count = greatest(follower_count + $2, 0) "
     "WHERE id = $1"},
    // fan-out of new-chapter notifications
    {"fanout_insert",
     "INSERT INTO fanout_jobs (book_id, chapter_id, author_id, data) "
     "VALUES ($1, $2, $3, $4) RETURNING id"},
    {"fanout_claim",
     "UPDATE fanout_jobs SET lease_owner = $1, "
     "lease_until = now() + make_interval(secs => $2) "
     "WHERE id = (SELECT id FROM fanout_jobs WHERE NOT done "
     "AND lease_until < now() ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
     "RETURNING id"},
    {"fanout_job_for_update",
     "SELECT book_id, author_id, data::text, next_user_id, lease_owner "
     "FROM fanout_jobs WHERE id = $1 AND NOT done FOR UPDATE"},
    {"fanout_notify_batch",
     "INSERT INTO notifications (user_id, kind, data) "
     "SELECT f.user_id, 'new_chapter', $3::jsonb FROM follows f "
     "WHERE f.book_id = $1 AND f.user_id > $2 AND f.user_id <> $4 "
     "ORDER BY f.user_id LIMIT $5 "
     "RETURNING " SB_NOTIFICATION_COLUMNS ", user_id"},
    {"fanout_advance",
     "UPDATE fanout_jobs SET next_user_id = $2, notified = notified + $3, "
     "done = $4, lease_until = now() + make_interval(secs => $5) "
     "WHERE id = $1"},
    {"fanout_forget_done",
     "DELETE FROM fanout_jobs WHERE done AND created_at < now() - "
     "interval '1 day'"},
};

#undef SB_RFC3339
#undef SB_BOOK_COLUMNS
#undef SB_USER_COLUMNS
#undef SB_CHAPTER_COLUMNS
#undef SB_NOTIFICATION_COLUMNS
#undef SB_COMMENT_COLUMNS

} // namespace

void prepare_statements(pqxx::connection_base& connection) {
  for (auto& s : all_statements)
    connection.prepare(s.name, s.sql);
}

} // namespace switchboard::store
