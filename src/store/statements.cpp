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
         "updated_at") " FROM chapters WHERE book_id = $1 ORDER BY number"},
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
    {"user_insert", "INSERT INTO users (username, password_hash, display_name) "
                    "VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING "
                    "RETURNING " SB_USER_COLUMNS},
    {"wallet_insert", "INSERT INTO wallets (user_id, coins) VALUES ($1, 0)"},
    {"user_update",
     "UPDATE users SET display_name = coalesce($2, display_name), "
     "bio = coalesce($3, bio) WHERE id = $1 AND deleted_at IS NULL "
     "RETURNING " SB_USER_COLUMNS},
    // coins
    {"coin_packages",
     "SELECT id, coins, price_cents, label FROM coin_packages ORDER BY id"},
};

#undef SB_RFC3339
#undef SB_BOOK_COLUMNS
#undef SB_USER_COLUMNS
#undef SB_CHAPTER_COLUMNS

} // namespace

void prepare_statements(pqxx::connection_base& connection) {
  for (auto& s : all_statements)
    connection.prepare(s.name, s.sql);
}

} // namespace switchboard::store
