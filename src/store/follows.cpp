// follows — see follows.hpp.
#include "src/store/follows.hpp"

#include "src/store/write_transaction.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace switchboard::store {

namespace {

db_job change_follow(const char* name, int64_t user_id, int64_t book_id,
                     bool follow) {
  return {name, [=](pqxx::connection_base& conn) -> db_result {
            pqxx::work tx{conn};
            auto book = tx.exec_prepared("book_author", book_id);
            if (book.empty())
              return {db_status::not_found, {}, "no such book"};
            auto author_id = book[0][0].as<int64_t>();
            auto changed =
                !tx.exec_prepared(follow ? "follow_insert" : "follow_delete",
                                  user_id, book_id)
                     .empty();
            if (changed)
              tx.exec_prepared("user_add_followers", author_id,
                               follow ? 1 : -1);
            commit_in_time(tx);
            return {db_status::ok,
                    boost::json::object{{"changed", changed},
                                        {"author_id", author_id}},
                    {}};
          }};
}

} // namespace

db_job follow_book(int64_t user_id, int64_t book_id) {
  return change_follow("follow_book", user_id, book_id, true);
}

db_job unfollow_book(int64_t user_id, int64_t book_id) {
  return change_follow("unfollow_book", user_id, book_id, false);
}

} // namespace switchboard::store
