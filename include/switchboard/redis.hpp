// redis.hpp — the redis_bridge's request/reply types. Actors send
// `(redis_cmd_atom, redis_command)` to the bridge and get a `redis_reply`
// back; they never see hiredis.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include <string>
#include <vector>

namespace switchboard {

/// One command as its argument words, e.g. {"SET", key, value, "PX", "300"}.
using redis_command = std::vector<std::string>;

/// A decoded RESP2 reply. `unavailable` means no reply could be had (Redis
/// down, connection lost, too many commands pending); it is not a Redis error.
struct redis_reply {
  enum class kind { nil, string, integer, array, status, error, unavailable };
  kind type = kind::nil;
  std::string str;
  long long integer = 0;
  std::vector<redis_reply> elements;

  bool ok() const { return type != kind::error && type != kind::unavailable; }
  bool is_nil() const { return type == kind::nil; }

  static redis_reply unavailable_reply(std::string why) {
    redis_reply r;
    r.type = kind::unavailable;
    r.str = std::move(why);
    return r;
  }
};

} // namespace switchboard

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::redis_reply)
