// books — see books.hpp.
#include "src/store/books.hpp"

#include "src/store/rows.hpp"
#include "src/store/write_transaction.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace switchboard::store {

namespace {

const char* or_null(const std::optional<std::string>& s) {
  return s ? s->c_str() : nullptr;
}

const char* or_null(const std::optional<bool>& b) {
  if (!b)
    return nullptr;
  return *b ? "true" : "false";
}

} // namespace

db_job load_book(int64_t id) {
  return {"load_book", [id](pqxx::connection_base& conn) -> db_result {
            pqxx::nontransaction tx{conn};
            auto rows = tx.exec_prepared("book_by_id", id);
            if (rows.empty())
              return {db_status::not_found, {}, "no such book"};
            return {db_status::ok, book_json(rows[0]), {}};
          }};
}

db_job load_books_page(int64_t after, int64_t limit) {
  return {"load_books_page",
          [after, limit](pqxx::connection_base& conn) -> db_result {
            pqxx::nontransaction tx{conn};
            auto rows = tx.exec_prepared("books_page", after, limit);
            boost::json::array items;
            for (const auto& row : rows)
              items.push_back(book_json(row));
            boost::json::value next = nullptr;
            if (static_cast<int64_t>(rows.size()) == limit && !items.empty())
              next = items.back().as_object().at("id");
            return {db_status::ok,
                    boost::json::object{{"items", std::move(items)},
                                        {"next", next}},
                    {}};
          }};
}

db_job create_book(int64_t author_id, book_fields fields,
                   std::optional<idempotency_claim> claim) {
  return write_job(
      "create_book", std::move(claim),
      [author_id, fields](pqxx::transaction_base& tx) -> db_result {
        auto rows = tx.exec_prepared(
            "book_insert", author_id, fields.title.value_or(""),
            fields.description.value_or(""), fields.published.value_or(true));
        return {db_status::ok, book_json(rows[0]), {}};
      });
}

db_job update_book(int64_t id, int64_t user_id, book_fields fields) {
  return {"update_book",
          [id, user_id, fields](pqxx::connection_base& conn) -> db_result {
            pqxx::work tx{conn};
            auto owner = tx.exec_prepared("book_author_for_update", id);
            if (owner.empty())
              return {db_status::not_found, {}, "no such book"};
            if (owner[0][0].as<int64_t>() != user_id)
              return {db_status::forbidden, {}, "only the author may edit"};
            auto rows = tx.exec_prepared(
                "book_update", id, or_null(fields.title),
                or_null(fields.description), or_null(fields.published));
            commit_in_time(tx);
            return {db_status::ok, book_json(rows[0]), {}};
          }};
}

} // namespace switchboard::store
