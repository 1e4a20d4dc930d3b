// channels — the contract's channel table: which names exist, who may
// subscribe and who may publish. Pure functions; the only place these rules
// are written down in code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::live {

enum class channel_kind { user, comments, books, collab };

struct channel_check {
  bool ok = false;
  std::string code; // unknown_channel | forbidden (when !ok)
  std::string message;
  std::string canonical; // "user:me" becomes "user:<id>"
  channel_kind kind = channel_kind::books;
};

/// May `user_id` (0: anonymous) subscribe to `name`?
channel_check check_subscribe(std::string_view name, int64_t user_id);

/// Whether `name` (canonical) is a presence channel (collab:*).
bool has_presence(const std::string& name);

/// May a client `user_id` publish to `name`? (Only collab:*, signed in.)
channel_check check_client_publish(std::string_view name, int64_t user_id);

/// Is `name` a channel at all (for the server-side publish API)?
channel_check check_exists(std::string_view name);

} // namespace switchboard::live
