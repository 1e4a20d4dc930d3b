// sessions — see sessions.hpp. Tokens are 128 random bits from the kernel,
// hex-encoded; a token of any other shape is refused before Redis is asked.
#include "src/http/sessions.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"
#include "switchboard/session_keys.hpp"

#include "src/common/credentials.hpp"
#include "src/http/cached_read.hpp"
#include "src/http/errors.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <sys/random.h>

namespace switchboard::http {

namespace {

std::string session_key(const route_call& call, const std::string& token) {
  return sessions::token_key(call.node->config->redis_key_prefix, token);
}

} // namespace

bool well_formed_token(std::string_view token) {
  if (token.size() != 32)
    return false;
  for (char c : token)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

namespace {

// KEYS: the token's key, its request counter for this second. ARGV: the
// sliding ttl ms, whether to count. -> {user id or false, requests}
constexpr const char* session_script = R"lua(
local user = redis.call('GET', KEYS[1])
if not user then return {false, 0} end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if ARGV[2] ~= '1' then return {user, 0} end
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('PEXPIRE', KEYS[2], 2000) end
return {user, n}
)lua";

} // namespace

void find_session(caf::event_based_actor* self, const node_context& node,
                  const std::string& token,
                  std::function<void(session_status, int64_t)> then,
                  bool count_request) {
  if (!well_formed_token(token)) {
    then(session_status::unknown, 0);
    return;
  }
  const auto& cfg = *node.config;
  auto second = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto limit = cfg.requests_per_token_per_s;
  self->request(node.redis_bridge,
                std::chrono::milliseconds{cfg.redis_timeout_ms},
                redis_cmd_atom::value,
                redis_command{"EVAL", session_script, "2",
                              sessions::token_key(cfg.redis_key_prefix, token),
                              cfg.redis_key_prefix + "r:" + token + ":" +
                                  std::to_string(second),
                              std::to_string(cfg.session_ttl_s * 1000ull),
                              count_request && limit > 0 ? "1" : "0"})
      .then(
          [then, limit](redis_reply& reply) {
            if (reply.type != redis_reply::kind::array ||
                reply.elements.size() != 2) {
              then(session_status::unavailable, 0);
              return;
            }
            int64_t user_id = 0;
            if (reply.elements[0].type != redis_reply::kind::string ||
                !parse_id(reply.elements[0].str, user_id)) {
              then(session_status::unknown, 0);
              return;
            }
            if (limit > 0 && reply.elements[1].integer > int64_t{limit}) {
              then(session_status::rate_limited, user_id);
              return;
            }
            then(session_status::found, user_id);
          },
          [then](caf::error&) { then(session_status::unavailable, 0); });
}

namespace {

std::string new_token() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    auto n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n > 0)
      got += static_cast<size_t>(n);
  }
  char hex[33];
  for (size_t i = 0; i < sizeof(bytes); ++i)
    std::snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
  return std::string{hex, 32};
}

std::chrono::milliseconds redis_deadline(const route_call& call) {
  return std::chrono::milliseconds{call.node->config->redis_timeout_ms};
}

} // namespace

std::string token_of(const route_call& call) {
  return credential_of(call.request.header("authorization"),
                       call.request.target)
      .token;
}

void with_user(route_call& call, std::function<void(int64_t)> then) {
  auto token = token_of(call);
  if (!well_formed_token(token)) {
    call.respond(error_response(401, "unauthorized",
                                "a valid bearer token is required"));
    return;
  }
  auto respond = call.respond;
  find_session(
      call.self, *call.node, token,
      [self = call.self, node = call.node, respond, then](session_status status,
                                                          int64_t user_id) {
        if (status == session_status::found)
          // A token outlives its account only until this check: a deleted
          // user is gone from the user cache at once (DELETE /api/users/me
          // invalidates it) or within cache_ttl_s (a deletion made
          // directly in the database).
          user_exists(
              self, node, user_id, [respond, then, user_id](bool alive) {
                if (alive)
                  then(user_id);
                else
                  respond(error_response(401, "unauthorized",
                                         "the account no longer exists"));
              });
        else if (status == session_status::unknown)
          respond(error_response(401, "unauthorized",
                                 "the token is unknown or expired"));
        else if (status == session_status::rate_limited) {
          auto refused = error_response(429, "rate_limited",
                                        "too many requests for this token");
          refused.with("Retry-After", "1");
          respond(std::move(refused));
        } else
          respond(unavailable("sessions are unavailable"));
      },
      true);
}

namespace {

// KEYS: the new token's key, the user's tokens. ARGV: user id, ttl ms,
// token, now ms, most sessions per user, key prefix. Opens a session; past
// the bound the oldest of the user's sessions end.
constexpr const char* open_script = R"lua(
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if extra > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[2], 0, extra - 1)) do
    redis.call('DEL', ARGV[6] .. 's:' .. old)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
end
return 1
)lua";

} // namespace

void open_session(route_call& call, int64_t user_id,
                  std::function<void(std::string)> then) {
  auto token = new_token();
  auto respond = call.respond;
  const auto& cfg = *call.node->config;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  call.self
      ->request(call.node->redis_bridge, redis_deadline(call),
                redis_cmd_atom::value,
                redis_command{
                    "EVAL", open_script, "2", session_key(call, token),
                    sessions::user_tokens_key(cfg.redis_key_prefix, user_id),
                    std::to_string(user_id),
                    std::to_string(cfg.session_ttl_s * 1000ull), token,
                    std::to_string(now), "100", cfg.redis_key_prefix})
      .then(
          [respond, then, token](redis_reply& reply) {
            if (!reply.ok()) {
              respond(unavailable("sessions are unavailable"));
              return;
            }
            then(token);
          },
          [respond](caf::error&) {
            respond(unavailable("sessions are unavailable"));
          });
}

void close_session(route_call& call) {
  auto token = token_of(call);
  auto respond = call.respond;
  if (!well_formed_token(token)) {
    respond(error_response(401, "unauthorized",
                           "a valid bearer token is required"));
    return;
  }
  auto* self = call.self;
  auto node = call.node;
  auto no_content = [respond] {
    http_response done;
    done.status = 204;
    done.content_type.clear();
    respond(std::move(done));
  };
  // GETDEL: the token stops working at once, and we learn whose it was, so
  // the connections opened with it can be closed on every node.
  self->request(node->redis_bridge, redis_deadline(call), redis_cmd_atom::value,
                redis_command{"GETDEL", session_key(call, token)})
      .then(
          [self, node, token, respond, no_content](redis_reply& reply) {
            if (!reply.ok()) {
              respond(unavailable("sessions are unavailable"));
              return;
            }
            int64_t user_id = 0;
            if (reply.type != redis_reply::kind::string ||
                !parse_id(reply.str, user_id)) {
              no_content(); // unknown or expired already: nothing is open
              return;
            }
            self->send(node->users, logout_atom::value, user_id, token);
            const auto& cfg = *node->config;
            // A request, not a send: its reply must come back as a reply
            // (a stray message would be reflected at the bridge).
            self->request(node->redis_bridge,
                          std::chrono::milliseconds{cfg.redis_timeout_ms},
                          redis_cmd_atom::value,
                          redis_command{"ZREM",
                                        sessions::user_tokens_key(
                                            cfg.redis_key_prefix, user_id),
                                        token})
                .then([](redis_reply&) {}, [](caf::error&) {});
            self->request(node->redis_bridge,
                          std::chrono::milliseconds{cfg.redis_timeout_ms},
                          redis_cmd_atom::value,
                          redis_command{"PUBLISH",
                                        sessions::control_channel(
                                            cfg.redis_key_prefix, user_id),
                                        sessions::logout_message(token)})
                .then(
                    [user_id, no_content](redis_reply& published) {
                      // Sessions elsewhere also recheck their tokens when
                      // their subscription comes back, so a lost PUBLISH
                      // delays the close but does not prevent it.
                      if (!published.ok())
                        spdlog::warn("logout of user {}: PUBLISH failed: {}",
                                     user_id, published.str);
                      no_content();
                    },
                    [user_id, no_content](caf::error& e) {
                      spdlog::warn("logout of user {}: PUBLISH failed: {}",
                                   user_id, caf::to_string(e));
                      no_content();
                    });
          },
          [respond](caf::error&) {
            respond(unavailable("sessions are unavailable"));
          });
}

void end_all_sessions(caf::event_based_actor* self,
                      const node_context_ptr& node, int64_t user_id) {
  // KEYS: the user's tokens, their control channel. ARGV: key prefix.
  static constexpr const char* end_all = R"lua(
local tokens = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, token in ipairs(tokens) do
  redis.call('DEL', ARGV[1] .. 's:' .. token)
  redis.call('PUBLISH', KEYS[2], 'logout ' .. token)
end
redis.call('DEL', KEYS[1])
return tokens
)lua";
  const auto& cfg = *node->config;
  self->request(node->redis_bridge,
                std::chrono::milliseconds{cfg.redis_timeout_ms},
                redis_cmd_atom::value,
                redis_command{
                    "EVAL", end_all, "2",
                    sessions::user_tokens_key(cfg.redis_key_prefix, user_id),
                    sessions::control_channel(cfg.redis_key_prefix, user_id),
                    cfg.redis_key_prefix})
      .then(
          [self, node, user_id](redis_reply& reply) {
            if (reply.type != redis_reply::kind::array) {
              spdlog::warn("ending the sessions of user {} failed: {}", user_id,
                           reply.str);
              return;
            }
            for (auto& token : reply.elements) // this node: no round trip
              self->send(node->users, logout_atom::value, user_id, token.str);
          },
          [user_id](caf::error& e) {
            spdlog::warn("ending the sessions of user {} failed: {}", user_id,
                         caf::to_string(e));
          });
}

} // namespace switchboard::http
