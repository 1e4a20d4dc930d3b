// http.hpp — the boundary between the socket layer (src/net, Beast, io
// thread) and connection actors. Requests cross it whole and decoded;
// responses go back through an http_sink, which posts to the io thread.
// Nothing on the actor side may hold a Beast or Asio type.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// A complete, parsed HTTP request. Header names are lower-case.
struct http_request {
  std::string method; // upper-case verb, e.g. "GET"
  std::string target; // origin-form, e.g. "/api/books/1?x=y"
  header_list headers;
  std::string body;
  std::string remote_address;

  /// The first value of header `name` (lower-case), if present.
  std::optional<std::string_view> header(std::string_view name) const {
    for (auto& [key, value] : headers)
      if (key == name)
        return std::string_view{value};
    return std::nullopt;
  }
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json; charset=utf-8";
  header_list headers;
  std::string body;
  bool close = false; // close the connection after this response
  /// The start of a text/event-stream: the socket layer writes the header
  /// and hands the socket to an SSE session, whose push_sink it then gives
  /// the connection actor with `(sse_open_atom, push_sink_ptr)`.
  bool event_stream = false;
  std::string resume_id; // SSE: the stream's initial offsets (a seed)
  /// A fresh cache hit (cache_result::generation): the socket layer may
  /// answer the same anonymous GET from memory until `reuse_until_ms`
  /// (wall clock) unless the cache moved past this generation.
  uint64_t reuse_generation = 0;
  int64_t reuse_until_ms = 0;

  http_response& with(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

/// Where a connection actor sends its responses. Implementations are
/// thread-safe and never block: they hand the response to the io thread.
class http_sink {
public:
  virtual ~http_sink() = default;
  /// Writes `response`; the socket layer then reads the next request.
  virtual void send(http_response response) = 0;
  /// Closes the connection without a response.
  virtual void close() = 0;
};

using http_sink_ptr = std::shared_ptr<http_sink>;

/// Whether an If-None-Match value (a list of entity tags, possibly weak,
/// or "*") names `etag` (RFC 9110 13.1.2: weak comparison).
inline bool etag_matches(std::string_view if_none_match,
                         std::string_view etag) {
  if (if_none_match == "*")
    return true;
  std::size_t pos = 0;
  while (pos < if_none_match.size()) {
    auto end = if_none_match.find(',', pos);
    if (end == std::string_view::npos)
      end = if_none_match.size();
    auto tag = if_none_match.substr(pos, end - pos);
    while (!tag.empty() && tag.front() == ' ')
      tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ')
      tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/")
      tag.remove_prefix(2);
    if (tag == etag)
      return true;
    pos = end + 1;
  }
  return false;
}

/// Requests the socket layer hands to the application on the io thread
/// instead of the connection actor: those whose whole work is a Redis
/// command on that same thread (POST /api/publish), where two hops into
/// the actors and back would cost more than the work (each is a thread
/// switch when the node has one core). Implemented in src/http/io_routes.
class io_routes {
public:
  virtual ~io_routes() = default;
  /// On the io thread: true if it took `request`; it is then answered
  /// through `sink`, exactly once.
  virtual bool take(http_request& request, const http_sink_ptr& sink) = 0;
};

} // namespace switchboard

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::http_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::http_response)
