// websocket_frames_fuzz — the WebSocket frame reader
// (src/net/websocket_frames.cpp), fed in pieces of varying size as a socket
// would: it never reads out of bounds, never returns a message over the
// limit or one that is not UTF-8, and stays failed once it failed.
#include "src/net/websocket_frames.hpp"

#include <boost/beast/websocket/detail/utf8_checker.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace switchboard::net::ws;
  if (size < 1)
    return 0;
  constexpr std::size_t limit = 4096;
  frame_reader reader{limit, 4009};
  std::string in;
  // The first byte picks the piece size, so splits are explored too.
  std::size_t piece = 1 + data[0] % 64;
  bool failed = false;
  for (std::size_t at = 1; at < size; at += piece) {
    std::size_t n = std::min(piece, size - at);
    in.append(reinterpret_cast<const char*>(data + at), n);
    for (;;) {
      std::size_t before = in.size();
      auto event = reader.next(in);
      if (failed && event.what != read_event::kind::need_more)
        std::abort(); // nothing after a failure
      if (in.size() > before)
        std::abort();
      if (event.what == read_event::kind::text) {
        if (event.payload.size() > limit)
          std::abort();
        boost::beast::websocket::detail::utf8_checker check;
        if (!check.write(reinterpret_cast<const uint8_t*>(event.payload.data()),
                         event.payload.size()) ||
            !check.finish())
          std::abort();
      }
      if (event.what == read_event::kind::fail)
        failed = true;
      if (event.what == read_event::kind::need_more ||
          event.what == read_event::kind::fail)
        break;
    }
  }
  // The header encoder round-trips through the reader's length rules.
  auto header = make_header(opcode::text, size);
  if (header.size != (size < 126 ? 2u : size <= 0xFFFF ? 4u : 10u))
    std::abort();
  return 0;
}
