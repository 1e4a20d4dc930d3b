// books — see books.hpp.
#include "src/store/books.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace switchboard::store {

db_job load_book(int64_t id) {
  return {"load_book", [id](pqxx::connection_base& conn) -> db_result {
            pqxx::nontransaction tx{conn};
            auto rows = tx.exec_prepared("book_by_id", id);
            if (rows.empty())
              return {db_status::not_found, {}, "no such book"};
            const auto& row = rows[0];
            boost::json::object book;
            book["id"] = row[0].as<int64_t>();
            book["author_id"] = row[1].as<int64_t>();
            book["title"] = row[2].c_str();
            book["description"] = row[3].c_str();
            book["published"] = row[4].as<bool>();
            book["chapter_count"] = row[5].as<int64_t>();
            book["updated_at"] = row[6].c_str();
            return {db_status::ok, std::move(book), {}};
          }};
}

} // namespace switchboard::store
