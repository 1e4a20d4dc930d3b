// users_handlers — the contract's Identity endpoints (register, login,
// logout), user profiles (cached) and PATCH /api/users/me, and the coin
// packages (cached).
#include "src/http/cached_read.hpp"
#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"
#include "src/http/json_body.hpp"
#include "src/http/sessions.hpp"
#include "src/http/writes.hpp"
#include "src/store/users.hpp"

#include <boost/json.hpp>

namespace switchboard::http {

namespace {

bool valid_username(const std::string& name) {
  if (name.size() < 3 || name.size() > 32)
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

/// Answers {token, user} with `status` once a session exists.
void answer_with_session(route_call& call, db_result& result, unsigned status) {
  auto user = result.value;
  auto respond = call.respond;
  open_session(call, user.at("id").as_int64(),
               [respond, user, status](std::string token) {
                 http_response response;
                 response.status = status;
                 response.body = boost::json::serialize(
                     boost::json::object{{"token", token}, {"user", user}});
                 response.with("Cache-Control", "no-store");
                 respond(std::move(response));
               });
}

} // namespace

void register_account(route_call& call) {
  auto body = body_or_400(call);
  if (!body)
    return;
  field_reader in{*body};
  auto username = in.string("username", 3, 32, true);
  auto password = in.string("password", 8, 128, true);
  auto display_name = in.string("display_name", 1, 64, false);
  if (in.rejected(call))
    return;
  if (!valid_username(*username)) {
    call.respond(
        bad_request("username: must be 3 to 32 characters of a-z, 0-9 and _"));
    return;
  }
  auto copy = call;
  run_job(call,
          store::register_user(*username, *password,
                               display_name.value_or(*username)),
          [copy](db_result& result) mutable {
            answer_with_session(copy, result, 201);
          });
}

void login(route_call& call) {
  auto body = body_or_400(call);
  if (!body)
    return;
  field_reader in{*body};
  auto username = in.string("username", 1, 64, true);
  auto password = in.string("password", 1, 1024, true);
  if (in.rejected(call))
    return;
  auto copy = call;
  run_job(call, store::login_user(*username, *password),
          [copy](db_result& result) mutable {
            answer_with_session(copy, result, 200);
          });
}

void logout(route_call& call) {
  close_session(call);
}

void get_user(route_call& call) {
  serve_item(call, "user", store::load_user);
}

void patch_me(route_call& call) {
  auto body = body_or_400(call);
  if (!body)
    return;
  field_reader in{*body};
  auto display_name = in.string("display_name", 1, 64, false);
  auto bio = in.string("bio", 0, 1000, false);
  if (in.rejected(call))
    return;
  auto copy = call;
  with_user(call, [copy, display_name, bio](int64_t user_id) mutable {
    run_write(copy, store::update_user(user_id, display_name, bio), 200,
              [user_id](const boost::json::value*) {
                return std::vector<std::string>{"user:" +
                                                std::to_string(user_id)};
              });
  });
}

void delete_me(route_call& call) {
  auto copy = call;
  with_user(call, [copy](int64_t user_id) mutable {
    auto* self = copy.self;
    auto node = copy.node;
    run_write(
        copy, store::delete_user(user_id),
        [user_id](const boost::json::value*) {
          return std::vector<std::string>{"user:" + std::to_string(user_id)};
        },
        [self, node, user_id](boost::json::value&) {
          end_all_sessions(self, node, user_id);
          http_response done;
          done.status = 204;
          done.content_type.clear();
          return done;
        });
  });
}

void get_coin_packages(route_call& call) {
  serve_cached(call, "coin-packages", "coin-packages",
               freshness_class::packages, store::load_coin_packages(),
               "coin packages");
}

} // namespace switchboard::http
