// json_body_fuzz — request bodies read into fields (src/http/json_body.cpp).
#include "src/http/json_body.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace switchboard;
  http_request request;
  request.method = "POST";
  request.headers.emplace_back("content-type", "application/json");
  request.body.assign(reinterpret_cast<const char*>(data), size);
  auto parsed = http::parse_json_object(request);
  if (!parsed.error.empty())
    return 0;
  http::field_reader in{parsed.object};
  if (auto title = in.string("title", 1, 200, false)) {
    auto n = code_points(*title);
    if (n < 1 || n > 200 || title->find('\0') != std::string::npos)
      std::abort();
  }
  if (auto id = in.id("to_user_id", false); id && *id <= 0)
    std::abort();
  if (auto coins = in.integer("coins", 1, 1'000'000, false);
      coins && (*coins < 1 || *coins > 1'000'000))
    std::abort();
  in.boolean("published", false);
  in.string("body", 1, 4000, false);
  return 0;
}
