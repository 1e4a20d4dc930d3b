// websocket_frames — RFC 6455 framing for the server side, without sockets:
// the header of a frame we send (unmasked), and an incremental reader of the
// frames a client sends. Kept apart from the session so it can be fuzzed and
// so the session's write path can put many frames into one send (Beast's
// stream writes one message per call and answers pings with writes of its
// own, which would interleave with ours).
// Must never: allocate per frame on the write path, or accept a frame that
// RFC 6455 says must fail the connection.
#pragma once

#include <boost/beast/websocket/detail/utf8_checker.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchboard::net::ws {

namespace opcode {
inline constexpr uint8_t continuation = 0x0;
inline constexpr uint8_t text = 0x1;
inline constexpr uint8_t binary = 0x2;
inline constexpr uint8_t close = 0x8;
inline constexpr uint8_t ping = 0x9;
inline constexpr uint8_t pong = 0xA;
} // namespace opcode

/// The header of a final, unmasked frame: up to 10 bytes, `size` of them used.
struct frame_header {
  std::array<uint8_t, 10> bytes{};
  std::size_t size = 0;
};
frame_header make_header(uint8_t op, std::size_t payload_size);

/// A close frame's payload: the code, then the reason (cut to fit 123 bytes).
std::string close_payload(uint16_t code, std::string_view reason);

/// What the reader found in the bytes it was given.
struct read_event {
  enum class kind {
    need_more, // no complete frame yet
    text,      // a complete text message (in `payload`)
    ping,      // answer with a pong carrying `payload`
    pong,
    close,   // the client closes with `code` (1005: none given)
    fail,    // close the connection with `code` and `reason`
    fragment // a fragment of a data message was taken (it still counts as a
             // frame: the caller charges it to the frame budget)
  };
  kind what = kind::need_more;
  std::string payload;
  uint16_t code = 0;
  std::string reason;
};

/// Reads client frames incrementally: `next(in)` takes at most one frame off
/// the front of `in` and says what it was — every frame, fragments and
/// control frames included, so the caller can charge each one. Messages are
/// reassembled across fragments (control frames may come in between). A
/// data message is refused with `too_large_code` as soon as a header
/// declares more than `max_message_bytes` in total, before the bytes
/// arrive; binary messages are refused with 1003 at their first header.
/// Taken frames leave `in` in chunks, not one erase per frame: a buffer of
/// thousands of tiny frames costs linear time, not quadratic.
class frame_reader {
public:
  frame_reader(std::size_t max_message_bytes, uint16_t too_large_code)
      : max_message_bytes_(max_message_bytes),
        too_large_code_(too_large_code) {}

  read_event next(std::string& in);

  /// Forgets the input: call after clearing the buffer given to next().
  void drop_input() { taken_ = 0; }

private:
  read_event next_frame(std::string& in);
  read_event fail(uint16_t code, std::string reason);
  void take(std::string& in, std::size_t n);

  std::size_t max_message_bytes_;
  uint16_t too_large_code_;
  std::size_t taken_ = 0; // bytes at the front of `in` already read
  std::string message_;   // fragments of the message being reassembled
  bool in_message_ = false;
  bool failed_ = false;
  boost::beast::websocket::detail::utf8_checker utf8_;
};

} // namespace switchboard::net::ws
