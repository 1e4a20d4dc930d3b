// resume_token_fuzz — Last-Event-ID and the stream seed
// (src/live/resume_token.cpp): whatever decodes re-encodes to the same.
#include "src/live/resume_token.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace switchboard::live;
  std::string text{reinterpret_cast<const char*>(data), size};
  static const std::vector<std::string> channels{
      "books:1", "comments:chapter:2", "user:3"};
  if (auto offsets = decode_resume(text, channels)) {
    auto again = decode_resume(encode_resume(*offsets), channels);
    if (!again || *again != *offsets)
      std::abort();
  }
  if (auto seed = decode_seed(text)) {
    auto again = decode_seed(encode_seed(*seed));
    if (!again || *again != *seed)
      std::abort();
  }
  return 0;
}
