// wallet_handlers — the contract's wallet: the balance, simulated purchases
// of coin packages, and gifts between users (atomic, never below zero, once
// per Idempotency-Key), each pushing balance.updated to whoever's balance
// changed and, for a gift, notification.created to the receiver.
#include "src/http/errors.hpp"
#include "src/http/events.hpp"
#include "src/http/handlers.hpp"
#include "src/http/idempotency.hpp"
#include "src/http/json_body.hpp"
#include "src/http/sessions.hpp"
#include "src/http/writes.hpp"
#include "src/store/wallet.hpp"

#include <boost/json.hpp>

namespace switchboard::http {

namespace {

constexpr int64_t max_gift = 1'000'000;

std::vector<std::string> no_cached_groups(const boost::json::value*) {
  return {};
}

} // namespace

void get_balance(route_call& call) {
  auto copy = call;
  with_user(call, [copy](int64_t user_id) mutable {
    auto respond = copy.respond;
    run_job(copy, store::load_balance(user_id), [respond](db_result& result) {
      respond(json_response(200, result.value));
    });
  });
}

void post_purchase(route_call& call) {
  auto body = body_or_400(call);
  if (!body)
    return;
  field_reader in{*body};
  auto package_id = in.id("package_id", true);
  std::optional<std::string> key;
  if (in.rejected(call) || !read_idempotency_key(call, key))
    return;
  auto copy = call;
  with_user(call, [copy, package_id = *package_id,
                   key](int64_t user_id) mutable {
    auto* self = copy.self;
    auto node = copy.node;
    auto claim = idempotency_claim_for(copy, user_caller(user_id), key);
    run_write(
        copy, store::purchase_package(user_id, package_id, claim),
        no_cached_groups,
        write_answer{[](const boost::json::value& written) {
                       return json_response(201, written);
                     },
                     [self, node, user_id](const boost::json::value& written,
                                           const answer_hold&) {
                       emit_balance(self, node, user_id,
                                    written.at("coins").as_int64(),
                                    written.at("version").as_int64());
                     }});
  });
}

void post_gift(route_call& call) {
  auto body = body_or_400(call);
  if (!body)
    return;
  field_reader in{*body};
  auto to = in.id("to_user_id", true);
  auto coins = in.integer("coins", 1, max_gift, true);
  std::optional<std::string> key;
  if (in.rejected(call) || !read_idempotency_key(call, key))
    return;
  auto copy = call;
  with_user(call, [copy, to = *to, coins = *coins,
                   key](int64_t user_id) mutable {
    if (to == user_id) {
      copy.respond(bad_request("to_user_id: cannot send a gift to yourself"));
      return;
    }
    auto* self = copy.self;
    auto node = copy.node;
    auto claim = idempotency_claim_for(copy, user_caller(user_id), key);
    run_write(
        copy, store::send_gift(user_id, to, coins, claim), no_cached_groups,
        write_answer{
            [](const boost::json::value& written) {
              return json_response(201, written.at("gift"));
            },
            [self, node, user_id, to](const boost::json::value& written,
                                      const answer_hold& hold) {
              auto& out = written.as_object();
              auto& gift = out.at("gift");
              emit_balance(self, node, user_id, gift.at("balance").as_int64(),
                           out.at("balance_version").as_int64());
              emit_balance(self, node, to,
                           out.at("recipient_balance").as_int64(),
                           out.at("recipient_version").as_int64());
              deliver_notification(self, node, to, out.at("notification"),
                                   hold);
            }});
  });
}

} // namespace switchboard::http
