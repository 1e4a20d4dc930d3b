// follows_handlers — follow and unfollow a book (both idempotent: 204
// whether or not anything changed). A follow's effect is felt later, when
// the book gets a new chapter (actors/fanout).
#include "src/http/handlers.hpp"
#include "src/http/sessions.hpp"
#include "src/http/writes.hpp"
#include "src/store/follows.hpp"

#include <boost/json.hpp>

namespace switchboard::http {

namespace {

void change_follow(route_call& call, bool follow) {
  int64_t book_id = 0;
  if (!id_param(call, 0, book_id))
    return;
  auto copy = call;
  with_user(call, [copy, book_id, follow](int64_t user_id) mutable {
    run_write(
        copy,
        follow ? store::follow_book(user_id, book_id)
               : store::unfollow_book(user_id, book_id),
        [](const boost::json::value* written) {
          // The author's follower_count is part of their cached profile.
          if (written == nullptr || !written->at("changed").as_bool())
            return std::vector<std::string>{};
          return std::vector<std::string>{
              "user:" + std::to_string(written->at("author_id").as_int64())};
        },
        [](boost::json::value&) {
          http_response done;
          done.status = 204;
          done.content_type.clear();
          return done;
        });
  });
}

} // namespace

void follow_book(route_call& call) {
  change_follow(call, true);
}

void unfollow_book(route_call& call) {
  change_follow(call, false);
}

} // namespace switchboard::http
