// comments — see comments.hpp.
#include "src/store/comments.hpp"

#include "src/store/rows.hpp"
#include "src/store/write_transaction.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <limits>

namespace switchboard::store {

db_job load_comments(int64_t chapter_id, int64_t before, int64_t limit) {
  return {
      "load_comments", [=](pqxx::connection_base& conn) -> db_result {
        pqxx::nontransaction tx{conn};
        if (tx.exec_prepared("chapter_book_author", chapter_id).empty())
          return {db_status::not_found, {}, "no such chapter"};
        auto bound = before > 0 ? before : std::numeric_limits<int64_t>::max();
        auto rows = tx.exec_prepared("comments_page", chapter_id, bound, limit);
        boost::json::array items;
        for (const auto& row : rows)
          items.push_back(comment_json(row));
        boost::json::value next = nullptr;
        if (static_cast<int64_t>(rows.size()) == limit && !items.empty())
          next = items.back().as_object().at("id");
        return {
            db_status::ok,
            boost::json::object{{"items", std::move(items)}, {"next", next}},
            {}};
      }};
}

db_job create_comment(int64_t chapter_id, int64_t user_id, std::string body,
                      std::optional<idempotency_claim> claim) {
  return write_job(
      "create_comment", std::move(claim),
      [=](pqxx::transaction_base& tx) -> db_result {
        auto chapter = tx.exec_prepared("chapter_book_author", chapter_id);
        if (chapter.empty())
          return {db_status::not_found, {}, "no such chapter"};
        auto book_id = chapter[0][0].as<int64_t>();
        auto author_id = chapter[0][1].as<int64_t>();
        auto rows =
            tx.exec_prepared("comment_insert", chapter_id, user_id, body);
        auto comment = comment_json(rows[0]);
        boost::json::value notify = nullptr;
        if (author_id != user_id) {
          boost::json::object data{
              {"comment_id", comment.at("id")},
              {"chapter_id", chapter_id},
              {"book_id", book_id},
              {"user_id", user_id},
              {"display_name", comment.at("author").at("display_name")}};
          auto n =
              tx.exec_prepared("notification_insert", author_id,
                               "comment_on_book", boost::json::serialize(data));
          notify =
              boost::json::object{{"user_id", author_id},
                                  {"notification", notification_json(n[0])}};
        }
        return {db_status::ok,
                boost::json::object{{"comment", std::move(comment)},
                                    {"book_id", book_id},
                                    {"notify", std::move(notify)}},
                {}};
      });
}

} // namespace switchboard::store
