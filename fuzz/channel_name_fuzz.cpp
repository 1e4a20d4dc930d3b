// channel_name_fuzz — channel names, ids and offsets (src/live/channels.cpp,
// src/common/ids.cpp's parse_id, src/live/client_frames.cpp's
// parse_offset): a canonical name checks as itself.
#include "src/common/ids.hpp"
#include "src/live/channels.hpp"
#include "src/live/client_frames.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace switchboard;
  std::string_view text{reinterpret_cast<const char*>(data), size};
  for (int64_t user : {int64_t{0}, int64_t{7}}) {
    auto check = live::check_subscribe(text, user);
    if (check.ok) {
      auto again = live::check_subscribe(check.canonical, user);
      if (!again.ok || again.canonical != check.canonical)
        std::abort();
    }
    live::check_client_publish(text, user);
  }
  live::check_exists(text);
  int64_t id = 0;
  if (parse_id(text, id) && id <= 0)
    std::abort();
  int64_t offset = 0;
  if (live::parse_offset(text, offset) && offset < 0)
    std::abort();
  return 0;
}
