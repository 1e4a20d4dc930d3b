// cached_value — one cached answer as both cache levels hold it, and its
// Redis encoding "<fresh_until_ms> <load_ms> <body>" (body `!404` for a
// remembered miss); in Redis the scripts of cache_keys.hpp put the group
// version in front and take it off again, so it never reaches this code. Times
// are wall-clock milliseconds so that every node reads the same freshness from
// a value another node stored.
#pragma once

#include "switchboard/cache.hpp"

#include <caf/allowed_unsafe_message_type.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard {

struct cached_value {
  bool found = false;                      // false: a remembered 404
  std::shared_ptr<const std::string> body; // serialized JSON when found
  std::string etag;
  int64_t fresh_until_ms = 0;
  int64_t load_ms = 0; // how long the load took (XFetch's delta)

  /// Where `now` falls for a reader with `policy`.
  enum class freshness { fresh, stale_revalidate, grace, expired };
  freshness at(int64_t now_ms, const cache_policy& policy) const;

  std::size_t bytes() const;
  std::string encode() const;
  static std::optional<cached_value> decode(std::string_view text);
};

/// A cached_value or nothing, as a message type (the stale value `cache`
/// hands an entry to fall back on; the value an entry reports for the L1).
struct optional_value {
  std::optional<cached_value> value;
};

int64_t wall_clock_ms();

/// XFetch (Vattani et al.): refresh a hot value early, with a probability
/// that grows as expiry nears and with how long it took to load, so it is
/// rarely found expired under load. beta = 1.
bool refresh_early(const cached_value& value, int64_t now_ms);

/// The strong ETag of a cached body; the same on every node.
std::string etag_of(const std::string& body);

/// The body stored to remember that a key does not exist. Cached bodies are
/// JSON, which can never start with '!'.
inline constexpr std::string_view negative_marker = "!404";

} // namespace switchboard

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::cached_value)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::optional_value)
