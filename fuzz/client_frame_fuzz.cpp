// client_frame_fuzz — WebSocket client frames (src/live/client_frames.cpp).
#include "src/live/client_frames.hpp"

#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto frame = switchboard::live::parse_client_frame(text);
  if (!frame.error.empty())
    return 0;
  if (frame.op != "subscribe" && frame.op != "unsubscribe" &&
      frame.op != "publish" && frame.op != "ping")
    std::abort(); // an accepted frame has a known op
  if (frame.op == "publish") {
    boost::system::error_code ec;
    boost::json::parse(frame.data_json, ec);
    if (ec)
      std::abort(); // what is published is JSON
  }
  if (frame.since) {
    int64_t offset = 0;
    if (!switchboard::live::parse_offset(*frame.since, offset))
      std::abort(); // an accepted since is an offset
  }
  return 0;
}
