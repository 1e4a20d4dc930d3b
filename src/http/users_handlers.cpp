// users_handlers — the contract's Identity endpoints (register, login,
// logout), user profiles (cached) and PATCH /api/users/me, and the coin
// packages (cached). Login and register are admitted by auth_limits before
// any hashing or database work, and hash on the db_pool's bounded hashing
// queue; never hash or query here directly.
#include "src/http/auth_limits.hpp"
#include "src/http/cached_read.hpp"
#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"
#include "src/http/idempotency.hpp"
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
/// `replayed`: a repeated sign-up (same Idempotency-Key): the same account,
/// with a session of its own (tokens are never kept at rest to be replayed).
void answer_with_session(route_call& call, db_result& result, unsigned status,
                         bool replayed = false) {
  auto user = result.value;
  auto respond = call.respond;
  open_session(call, user.at("id").as_int64(),
               [respond, user, status, replayed](std::string token) {
                 http_response response;
                 response.status = status;
                 response.body = boost::json::serialize(
                     boost::json::object{{"token", token}, {"user", user}});
                 response.with("Cache-Control", "no-store");
                 if (replayed)
                   response.with("Idempotent-Replayed", "true");
                 respond(std::move(response));
               });
}

/// How an attempt ended, for the limiter: unavailable means nothing was
/// decided (no hash ran, or the database failed), every other refusal is a
/// failed attempt.
auth_outcome outcome_of(const db_result& result) {
  if (result.status == db_status::ok)
    return auth_outcome::succeeded;
  if (result.status == db_status::unavailable)
    return auth_outcome::not_decided;
  return auth_outcome::failed;
}

/// Login (`username` set) or register: admitted by the limiter, then
/// `job` on the hashing queue, then a session; answers `ok_status` with it.
void run_attempt(route_call& call, const std::string& username, db_job job,
                 unsigned ok_status) {
  auto copy = call;
  admit_auth_attempt(
      call, username,
      [copy, ok_status, job = std::move(job)](auth_ticket ticket) mutable {
        run_hash_job(copy, std::move(job),
                     [copy, ok_status, ticket](db_result& result) mutable {
                       settle_auth_attempt(copy, ticket, outcome_of(result));
                       if (result.status == db_status::ok)
                         answer_with_session(copy, result, ok_status,
                                             result.replayed);
                       else if (result.status == db_status::unavailable)
                         // e.g. "password hashing is busy": the queue deadline
                         copy.respond(unavailable(result.message.empty()
                                                      ? "database unavailable"
                                                      : result.message));
                       else
                         copy.respond(error_for(result));
                     });
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
  std::optional<std::string> key;
  if (in.rejected(call) || !read_idempotency_key(call, key))
    return;
  if (!valid_username(*username)) {
    call.respond(
        bad_request("username: must be 3 to 32 characters of a-z, 0-9 and _"));
    return;
  }
  // The fingerprint leaves the password out (no fast hash of it is ever
  // stored); a repeat is checked against the account's own slow hash.
  auto claim = idempotency_claim_for(call, "register", key,
                                     *username + "\n" +
                                         display_name.value_or(*username));
  run_attempt(call, {},
              store::register_user(*username, *password,
                                   display_name.value_or(*username), claim),
              201);
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
  run_attempt(call, *username, store::login_user(*username, *password), 200);
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
