// comments_handlers — the contract's live comments: a chapter's comments
// (newest first, keyset pages, read from PostgreSQL: they change too often
// to be worth caching) and posting one, which is saved, then pushed on
// comments:chapter:<id> and, for someone else's book, notified to its author.
#include "src/http/errors.hpp"
#include "src/http/events.hpp"
#include "src/http/handlers.hpp"
#include "src/http/idempotency.hpp"
#include "src/http/json_body.hpp"
#include "src/http/sessions.hpp"
#include "src/http/writes.hpp"
#include "src/store/comments.hpp"

#include <boost/json.hpp>

namespace switchboard::http {

void list_comments(route_call& call) {
  int64_t chapter_id = 0, limit = 0, before = 0;
  if (!id_param(call, 0, chapter_id) ||
      !int_query(call, "limit", 1, 100, 50, limit) ||
      !id_query(call, "before", before))
    return;
  auto respond = call.respond;
  run_job(call, store::load_comments(chapter_id, before, limit),
          [respond](db_result& result) {
            respond(json_response(200, result.value));
          });
}

void post_comment(route_call& call) {
  int64_t chapter_id = 0;
  if (!id_param(call, 0, chapter_id))
    return;
  auto body = body_or_400(call);
  if (!body)
    return;
  field_reader in{*body};
  auto text = in.string("body", 1, 4000, true);
  std::optional<std::string> key;
  if (in.rejected(call) || !read_idempotency_key(call, key))
    return;
  auto copy = call;
  with_user(call, [copy, chapter_id, text = *text,
                   key](int64_t user_id) mutable {
    auto* self = copy.self;
    auto node = copy.node;
    auto claim = idempotency_claim_for(copy, user_caller(user_id), key);
    run_write(
        copy, store::create_comment(chapter_id, user_id, text, claim),
        [](const boost::json::value*) { return std::vector<std::string>{}; },
        write_answer{
            [](const boost::json::value& written) {
              return json_response(201, written.at("comment"));
            },
            [self, node, chapter_id](const boost::json::value& written,
                                     const answer_hold& hold) {
              auto& out = written.as_object();
              boost::json::object hints{
                  {"invalidate", boost::json::array{boost::json::array{
                                     "comments", "chapter", chapter_id}}}};
              emit_event(self, node,
                         "comments:chapter:" + std::to_string(chapter_id),
                         "comment.created", out.at("comment"), hints);
              if (auto& notify = out.at("notify"); notify.is_object())
                deliver_notification(self, node,
                                     notify.at("user_id").as_int64(),
                                     notify.at("notification"), hold);
            }});
  });
}

} // namespace switchboard::http
