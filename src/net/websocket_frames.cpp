// websocket_frames — see websocket_frames.hpp.
#include "src/net/websocket_frames.hpp"

#include <algorithm>

namespace switchboard::net::ws {

frame_header make_header(uint8_t op, std::size_t payload_size) {
  frame_header h;
  h.bytes[0] = static_cast<uint8_t>(0x80 | op);
  if (payload_size < 126) {
    h.bytes[1] = static_cast<uint8_t>(payload_size);
    h.size = 2;
  } else if (payload_size <= 0xFFFF) {
    h.bytes[1] = 126;
    h.bytes[2] = static_cast<uint8_t>(payload_size >> 8);
    h.bytes[3] = static_cast<uint8_t>(payload_size);
    h.size = 4;
  } else {
    h.bytes[1] = 127;
    auto size = static_cast<uint64_t>(payload_size);
    for (int i = 0; i < 8; ++i)
      h.bytes[2 + i] = static_cast<uint8_t>(size >> (56 - 8 * i));
    h.size = 10;
  }
  return h;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  // Reasons are ours (ASCII): cutting cannot split a code point.
  out.append(reason.substr(0, 123));
  return out;
}

namespace {

// Close codes a peer may send (RFC 6455 7.4.1, IANA registry, private use).
bool valid_close_code(uint16_t code) {
  if (code >= 3000 && code <= 4999)
    return true;
  switch (code) {
  case 1000:
  case 1001:
  case 1002:
  case 1003:
  case 1007:
  case 1008:
  case 1009:
  case 1010:
  case 1011:
  case 1012:
  case 1013:
  case 1014:
    return true;
  default:
    return false;
  }
}

} // namespace

read_event frame_reader::fail(uint16_t code, std::string reason) {
  failed_ = true;
  read_event event;
  event.what = read_event::kind::fail;
  event.code = code;
  event.reason = std::move(reason);
  return event;
}

read_event frame_reader::next(std::string& in) {
  if (taken_ > in.size())
    taken_ = 0; // the caller replaced the buffer without drop_input()
  return next_frame(in);
}

void frame_reader::take(std::string& in, std::size_t n) {
  taken_ += n;
  // Erase in chunks: one erase per frame would move the rest of the buffer
  // once per frame (quadratic in a read full of tiny frames).
  if (taken_ == in.size()) {
    in.clear();
    taken_ = 0;
  } else if (taken_ >= 16 * 1024) {
    in.erase(0, taken_);
    taken_ = 0;
  }
}

read_event frame_reader::next_frame(std::string& in) {
  read_event event;
  std::size_t avail = in.size() - taken_;
  if (failed_ || avail < 2)
    return event;
  const std::size_t base = taken_;
  auto byte = [&](std::size_t i) {
    return static_cast<uint8_t>(in[base + i]);
  };
  bool fin = (byte(0) & 0x80) != 0;
  uint8_t op = byte(0) & 0x0F;
  if ((byte(0) & 0x70) != 0)
    return fail(1002, "reserved bits set");
  if ((byte(1) & 0x80) == 0)
    return fail(1002, "client frames must be masked");
  bool control = (op & 0x8) != 0;
  if (control) {
    if (op != opcode::close && op != opcode::ping && op != opcode::pong)
      return fail(1002, "unknown opcode");
    if (!fin)
      return fail(1002, "fragmented control frame");
  } else if (op == opcode::continuation) {
    if (!in_message_)
      return fail(1002, "continuation without a message");
  } else if (op == opcode::text || op == opcode::binary) {
    if (in_message_)
      return fail(1002, "new message inside a fragmented one");
    if (op == opcode::binary)
      return fail(1003, "text frames only");
  } else {
    return fail(1002, "unknown opcode");
  }

  uint64_t length = byte(1) & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    if (avail < 4)
      return event;
    length = (uint64_t{byte(2)} << 8) | byte(3);
    if (length < 126)
      return fail(1002, "length not in its shortest form");
    header = 4;
  } else if (length == 127) {
    if (avail < 10)
      return event;
    length = 0;
    for (int i = 0; i < 8; ++i)
      length = (length << 8) | byte(2 + static_cast<std::size_t>(i));
    if (length >> 63)
      return fail(1002, "length with its top bit set");
    if (length <= 0xFFFF)
      return fail(1002, "length not in its shortest form");
    header = 10;
  }
  if (control && length > 125)
    return fail(1002, "control frame too long");
  // Refused on the header: the bytes of an oversized message never wait.
  if (!control && length > max_message_bytes_ -
                               std::min(max_message_bytes_, message_.size()))
    return fail(too_large_code_, "frame too large");
  std::size_t mask_at = header;
  header += 4;
  if (avail < header + length)
    return event;

  auto payload_begin = in.begin() + static_cast<std::ptrdiff_t>(base + header);
  auto payload_end = payload_begin + static_cast<std::ptrdiff_t>(length);
  uint8_t mask[4] = {byte(mask_at), byte(mask_at + 1), byte(mask_at + 2),
                     byte(mask_at + 3)};
  std::size_t i = 0;
  for (auto it = payload_begin; it != payload_end; ++it, ++i)
    *it = static_cast<char>(static_cast<uint8_t>(*it) ^ mask[i & 3]);

  if (control) {
    std::string payload(payload_begin, payload_end);
    take(in, header + length);
    if (op == opcode::ping) {
      event.what = read_event::kind::ping;
      event.payload = std::move(payload);
      return event;
    }
    if (op == opcode::pong) {
      event.what = read_event::kind::pong;
      return event;
    }
    // close
    if (payload.size() == 1)
      return fail(1002, "close payload of one byte");
    event.what = read_event::kind::close;
    event.code = 1005;
    if (payload.size() >= 2) {
      event.code =
          static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                static_cast<uint8_t>(payload[1]));
      if (!valid_close_code(event.code))
        return fail(1002, "invalid close code");
      boost::beast::websocket::detail::utf8_checker reason_check;
      if (!reason_check.write(reinterpret_cast<const uint8_t*>(payload.data()) +
                                  2,
                              payload.size() - 2) ||
          !reason_check.finish())
        return fail(1002, "close reason is not UTF-8");
    }
    return event;
  }

  if (!in_message_) {
    in_message_ = true;
    utf8_.reset();
    message_.clear();
  }
  if (!utf8_.write(reinterpret_cast<const uint8_t*>(in.data() + base + header),
                   static_cast<std::size_t>(length)))
    return fail(1007, "text is not UTF-8");
  message_.append(payload_begin, payload_end);
  take(in, header + length);
  if (!fin) {
    event.what = read_event::kind::fragment;
    return event;
  }
  if (!utf8_.finish())
    return fail(1007, "text is not UTF-8");
  in_message_ = false;
  event.what = read_event::kind::text;
  event.payload = std::move(message_);
  message_.clear();
  return event;
}

} // namespace switchboard::net::ws
