// channels — see channels.hpp.
#include "src/live/channels.hpp"

#include "src/common/ids.hpp"

namespace switchboard::live {

namespace {

channel_check unknown(std::string_view name) {
  channel_check c;
  c.code = "unknown_channel";
  c.message = "no such channel: " + std::string{name};
  return c;
}

channel_check forbidden(std::string message) {
  channel_check c;
  c.code = "forbidden";
  c.message = std::move(message);
  return c;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// Parses "<prefix><id>"; the canonical name on success.
bool id_suffix(std::string_view name, std::string_view prefix, int64_t& id) {
  return starts_with(name, prefix) && parse_id(name.substr(prefix.size()), id);
}

} // namespace

channel_check check_exists(std::string_view name) {
  int64_t id = 0;
  channel_check c;
  c.ok = true;
  c.canonical = std::string{name};
  if (id_suffix(name, "user:", id))
    c.kind = channel_kind::user;
  else if (id_suffix(name, "comments:chapter:", id))
    c.kind = channel_kind::comments;
  else if (id_suffix(name, "books:", id))
    c.kind = channel_kind::books;
  else if (id_suffix(name, "collab:chapter:", id))
    c.kind = channel_kind::collab;
  else
    return unknown(name);
  return c;
}

channel_check check_subscribe(std::string_view name, int64_t user_id) {
  if (name == "user:me") {
    if (user_id == 0)
      return forbidden("user channels need a signed-in connection");
    channel_check c;
    c.ok = true;
    c.kind = channel_kind::user;
    c.canonical = "user:" + std::to_string(user_id);
    return c;
  }
  auto c = check_exists(name);
  if (!c.ok)
    return c;
  if (c.kind == channel_kind::user &&
      c.canonical != "user:" + std::to_string(user_id))
    return forbidden("a user channel is readable by its user only");
  if (c.kind == channel_kind::collab && user_id == 0)
    return forbidden("collab channels need a signed-in connection");
  return c;
}

channel_check check_client_publish(std::string_view name, int64_t user_id) {
  auto c = check_subscribe(name, user_id);
  if (!c.ok)
    return c;
  if (c.kind != channel_kind::collab)
    return forbidden("only the server publishes to this channel");
  return c;
}

bool has_presence(const std::string& name) {
  return name.rfind("collab:", 0) == 0;
}

} // namespace switchboard::live
