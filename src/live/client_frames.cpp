// client_frames — see client_frames.hpp.
#include "src/live/client_frames.hpp"

#include "src/common/json_numbers.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace switchboard::live {

bool parse_offset(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 18)
    return false;
  for (char c : text)
    if (c < '0' || c > '9')
      return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

client_frame parse_client_frame(std::string_view text) {
  client_frame frame;
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec, {}, options);
  if (ec || !value.is_object()) {
    frame.error = "frame: must be a JSON object";
    return frame;
  }
  auto& obj = value.as_object();
  if (auto* id = obj.if_contains("id")) {
    if (id->is_int64() && id->as_int64() > 0)
      frame.id = id->as_int64();
    else if (id->is_uint64() && id->as_uint64() > 0 &&
             id->as_uint64() <= (1ull << 53))
      frame.id = static_cast<int64_t>(id->as_uint64());
    else {
      frame.error = "id: must be a positive integer";
      return frame;
    }
  }
  auto* op = obj.if_contains("op");
  if (op == nullptr || !op->is_string()) {
    frame.error = "op: is required";
    return frame;
  }
  frame.op = std::string{op->as_string()};
  if (frame.op == "ping")
    return frame;
  if (frame.op != "subscribe" && frame.op != "unsubscribe" &&
      frame.op != "publish") {
    frame.error = "op: must be subscribe, unsubscribe, publish or ping";
    return frame;
  }
  auto* channel = obj.if_contains("channel");
  if (channel == nullptr || !channel->is_string() ||
      channel->as_string().empty() || channel->as_string().size() > 128) {
    frame.error = "channel: must be a channel name";
    return frame;
  }
  frame.channel = std::string{channel->as_string()};
  if (auto* since = obj.if_contains("since"); since && !since->is_null()) {
    int64_t offset = 0;
    if (!since->is_string() || !parse_offset(since->as_string(), offset)) {
      frame.error = "since: must be an offset the server gave";
      return frame;
    }
    frame.since = std::string{since->as_string()};
  }
  if (frame.op == "publish") {
    auto* data = obj.if_contains("data");
    if (data == nullptr) {
      frame.error = "data: is required";
      return frame;
    }
    if (!finite_numbers(*data)) {
      frame.error = "data: a number is out of range";
      return frame;
    }
    frame.data_json = boost::json::serialize(*data);
  }
  return frame;
}

} // namespace switchboard::live
