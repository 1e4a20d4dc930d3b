// chapters — see chapters.hpp. Creating a chapter locks its book row, so two
// authors' tabs adding chapters at once get consecutive numbers.
#include "src/store/chapters.hpp"

#include "src/store/rows.hpp"
#include "src/store/write_transaction.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace switchboard::store {

db_job load_chapter(int64_t id) {
  return {"load_chapter", [id](pqxx::connection_base& conn) -> db_result {
            pqxx::nontransaction tx{conn};
            auto rows = tx.exec_prepared("chapter_by_id", id);
            if (rows.empty())
              return {db_status::not_found, {}, "no such chapter"};
            return {db_status::ok, chapter_json(rows[0]), {}};
          }};
}

db_job load_chapter_list(int64_t book_id, std::size_t max_items) {
  return {"load_chapter_list",
          [book_id, max_items](pqxx::connection_base& conn) -> db_result {
            pqxx::read_transaction tx{conn};
            if (tx.exec_prepared("book_exists", book_id).empty())
              return {db_status::not_found, {}, "no such book"};
            boost::json::array items;
            // One more than the cap tells whether the list was cut.
            auto rows = tx.exec_prepared("chapters_of_book", book_id,
                                         static_cast<int64_t>(max_items) + 1);
            bool truncated = rows.size() > max_items;
            for (const auto& row : rows) {
              if (items.size() == max_items)
                break;
              items.push_back({{"id", row[0].as<int64_t>()},
                               {"book_id", row[1].as<int64_t>()},
                               {"number", row[2].as<int64_t>()},
                               {"title", row[3].c_str()},
                               {"updated_at", row[4].c_str()}});
            }
            boost::json::object list{{"items", std::move(items)}};
            if (truncated)
              list["truncated"] = true;
            return {db_status::ok, std::move(list), {}};
          }};
}

db_job create_chapter(int64_t book_id, int64_t user_id, std::string title,
                      std::string body,
                      std::optional<idempotency_claim> claim) {
  return write_job(
      "create_chapter", std::move(claim),
      [=](pqxx::transaction_base& tx) -> db_result {
        auto owner = tx.exec_prepared("book_author_for_update", book_id);
        if (owner.empty())
          return {db_status::not_found, {}, "no such book"};
        if (owner[0][0].as<int64_t>() != user_id)
          return {db_status::forbidden, {}, "only the author may add chapters"};
        auto counted = tx.exec_prepared("book_count_chapter", book_id);
        auto number = counted[0][0].as<int64_t>();
        auto rows =
            tx.exec_prepared("chapter_insert", book_id, number, title, body);
        auto chapter = chapter_json(rows[0]);
        // The followers' notifications go out in the background; the job is
        // recorded here, in the chapter's transaction, so it cannot be lost.
        auto book = tx.exec_prepared("book_author", book_id);
        boost::json::object data{{"book_id", book_id},
                                 {"chapter_id", chapter.at("id")},
                                 {"number", number},
                                 {"title", title},
                                 {"book_title", book[0][1].c_str()}};
        tx.exec_prepared("fanout_insert", book_id, chapter.at("id").as_int64(),
                         user_id, boost::json::serialize(data));
        return {db_status::ok, std::move(chapter), {}};
      });
}

db_job update_chapter(int64_t id, int64_t user_id,
                      std::optional<std::string> title,
                      std::optional<std::string> body) {
  return {"update_chapter", [=](pqxx::connection_base& conn) -> db_result {
            pqxx::work tx{conn};
            auto owner = tx.exec_prepared("chapter_author_for_update", id);
            if (owner.empty())
              return {db_status::not_found, {}, "no such chapter"};
            if (owner[0][0].as<int64_t>() != user_id)
              return {db_status::forbidden, {}, "only the author may edit"};
            auto rows = tx.exec_prepared("chapter_update", id,
                                         title ? title->c_str() : nullptr,
                                         body ? body->c_str() : nullptr);
            commit_in_time(tx);
            return {db_status::ok, chapter_json(rows[0]), {}};
          }};
}

} // namespace switchboard::store
