// statements — see statements.hpp. Times are formatted by PostgreSQL as
// RFC 3339 UTC with milliseconds, the contract's time format.
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

constexpr statement all_statements[] = {
    {"book_by_id",
     "SELECT id, author_id, title, description, published, "
     "chapter_count, " SB_RFC3339("updated_at") " FROM books WHERE id = $1"},
};

#undef SB_RFC3339

} // namespace

void prepare_statements(pqxx::connection_base& connection) {
  for (auto& s : all_statements)
    connection.prepare(s.name, s.sql);
}

} // namespace switchboard::store
