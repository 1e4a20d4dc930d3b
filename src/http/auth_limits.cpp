// auth_limits — see auth_limits.hpp. The scripts go through the
// redis_bridge as EVAL; the connection sends each as EVALSHA once Redis
// knows it (src/redis/redis_connection.cpp), so the text crosses once.
#include "src/http/auth_limits.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"

#include "src/http/errors.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <atomic>

namespace switchboard::http {

namespace {

// KEYS: the address's counter[, the username's]. ARGV: window ms, address
// limit, username limit (0: none). Refuses without counting when a counter
// is at its limit, else counts the attempt on both.
// -> {1, address count, username count} or {0, ms until it frees, 1|2}
constexpr const char* admit_script = R"lua(
local function full(key, limit)
  limit = tonumber(limit)
  return limit > 0 and tonumber(redis.call('GET', key) or '0') >= limit
end
local function frees(key)
  local ms = redis.call('PTTL', key)
  if ms < 0 then
    redis.call('PEXPIRE', key, ARGV[1])
    ms = tonumber(ARGV[1])
  end
  return ms
end
local function charge(key)
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  return n
end
if full(KEYS[1], ARGV[2]) then return {0, frees(KEYS[1]), 1} end
if #KEYS > 1 and full(KEYS[2], ARGV[3]) then return {0, frees(KEYS[2]), 2} end
local user = 0
if #KEYS > 1 then user = charge(KEYS[2]) end
return {1, charge(KEYS[1]), user}
)lua";

// KEYS: counters to give one attempt back to (DECR keeps the ttl).
constexpr const char* refund_script = R"lua(
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 1
)lua";

/// Whether the limiter's last question to Redis went unanswered, so an
/// outage is logged once, not once per attempt.
std::atomic<bool> limiter_down{false};

/// Client input for a log line: quoted, with control bytes escaped.
std::string quoted(const std::string& text) {
  return boost::json::serialize(boost::json::string{text});
}

http_response too_many(int64_t ms, const char* what) {
  auto seconds = std::max<int64_t>(1, (ms + 999) / 1000);
  auto refused =
      error_response(429, "rate_limited",
                     std::string{"too many "} + what + "; retry in " +
                         std::to_string(seconds) + " s");
  refused.with("Retry-After", std::to_string(seconds));
  return refused;
}

void limiter_unavailable(const std::string& why, const responder& respond) {
  if (!limiter_down.exchange(true))
    spdlog::warn("auth: Redis did not answer the login limiter ({}); login "
                 "and register answer 503 until it does",
                 why);
  respond(unavailable("sign-in is unavailable"));
}

} // namespace

void admit_auth_attempt(route_call& call, const std::string& username,
                        std::function<void(auth_ticket)> then) {
  const auto& cfg = *call.node->config;
  auth_ticket ticket;
  ticket.address = call.request.remote_address;
  ticket.username = username;
  ticket.address_key = cfg.redis_key_prefix + "auth:a:" + ticket.address;
  redis_command command{"EVAL", admit_script, username.empty() ? "1" : "2",
                        ticket.address_key};
  if (!username.empty()) {
    ticket.user_key = cfg.redis_key_prefix + "auth:u:" + username;
    command.push_back(ticket.user_key);
  }
  command.push_back(std::to_string(cfg.auth_window_s * 1000ull));
  command.push_back(std::to_string(cfg.auth_attempts_per_ip));
  command.push_back(std::to_string(cfg.auth_attempts_per_user));
  auto respond = call.respond;
  auto node = call.node;
  call.self
      ->request(node->redis_bridge,
                std::chrono::milliseconds{cfg.redis_timeout_ms},
                redis_cmd_atom::value, std::move(command))
      .then(
          [respond, node, then, ticket](redis_reply& reply) mutable {
            if (reply.type != redis_reply::kind::array ||
                reply.elements.size() != 3) {
              limiter_unavailable(reply.str, respond);
              return;
            }
            if (limiter_down.exchange(false))
              spdlog::info("auth: the login limiter reaches Redis again");
            const auto& cfg = *node->config;
            auto& e = reply.elements;
            if (e[0].integer != 1) {
              respond(too_many(e[1].integer,
                               e[2].integer == 1
                                   ? "login or register attempts from this "
                                     "address"
                                   : "failed logins for this username"));
              return;
            }
            ticket.address_count = e[1].integer;
            ticket.user_count = e[2].integer;
            if (cfg.auth_attempts_per_ip > 0 &&
                ticket.address_count == int64_t{cfg.auth_attempts_per_ip})
              spdlog::warn("auth: {} login/register attempts from {} in the "
                           "last {}s; more are refused until the window ends",
                           ticket.address_count, ticket.address,
                           cfg.auth_window_s);
            then(std::move(ticket));
          },
          [respond](caf::error& e) {
            limiter_unavailable(caf::to_string(e), respond);
          });
}

void settle_auth_attempt(route_call& call, const auth_ticket& ticket,
                         auth_outcome outcome) {
  const auto& cfg = *call.node->config;
  redis_command command{"EVAL", refund_script, "0"};
  if (outcome == auth_outcome::failed) {
    if (!ticket.user_key.empty() && cfg.auth_attempts_per_user > 0 &&
        ticket.user_count == int64_t{cfg.auth_attempts_per_user})
      spdlog::warn("auth: {} failed logins for user {} from {} in the last "
                   "{}s; more are refused until the window ends",
                   ticket.user_count, quoted(ticket.username), ticket.address,
                   cfg.auth_window_s);
    return;
  }
  if (outcome == auth_outcome::not_decided)
    command.push_back(ticket.address_key);
  if (!ticket.user_key.empty())
    command.push_back(ticket.user_key);
  if (command.size() == 3)
    return; // a register that succeeded: its address charge stands
  command[2] = std::to_string(command.size() - 3);
  // A request, not a send: its reply must come back as a reply. A refund
  // that is lost costs the client one attempt of its window, no more.
  call.self
      ->request(call.node->redis_bridge,
                std::chrono::milliseconds{cfg.redis_timeout_ms},
                redis_cmd_atom::value, std::move(command))
      .then([](redis_reply&) {}, [](caf::error&) {});
}

void run_hash_job(route_call& call, db_job job,
                  std::function<void(db_result&)> then) {
  const auto& cfg = *call.node->config;
  // The pool answers a job that could not start within auth_hash_queue_ms
  // itself; this deadline only covers a pool that never answers.
  auto timeout = std::chrono::milliseconds{cfg.auth_hash_queue_ms +
                                           uint64_t{cfg.db_timeout_ms}};
  // A sign-up answered 503 must not commit later (db_job::deadline).
  job.deadline = std::chrono::steady_clock::now() + timeout;
  auto deadline = timeout + std::chrono::milliseconds{1000};
  call.self
      ->request(call.node->db_pool, deadline, db_run_atom::value,
                db_hash_job{std::move(job)})
      .then([then](db_result& result) { then(result); },
            [then](caf::error&) {
              db_result none{db_status::unavailable,
                             {},
                             "database did not answer in time"};
              then(none);
            });
}

} // namespace switchboard::http
