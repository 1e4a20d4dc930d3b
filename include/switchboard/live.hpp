// live.hpp — the live-update protocol between the socket layer and the
// actors: decoded client frames coming in, and the push_sink through which
// actors write pushes and replies to a WebSocket or SSE connection. A push
// is encoded once and its bytes shared by every receiver.
#pragma once

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace switchboard {

/// Close codes of the contract.
namespace close_code {
inline constexpr uint16_t going_away = 1001;
inline constexpr uint16_t unsupported_data = 1003;
inline constexpr uint16_t unauthorized = 4001;
inline constexpr uint16_t too_slow = 4008;
inline constexpr uint16_t frame_too_large = 4009;
inline constexpr uint16_t rate_limited = 4029;
} // namespace close_code

/// One client frame, decoded on the io thread. `error` is set (and the
/// rest may be empty) when the frame was not a valid request.
struct client_frame {
  int64_t id = 0; // 0: the frame had no usable id
  std::string op; // subscribe | unsubscribe | publish | ping
  std::string channel;
  std::optional<std::string> since;
  std::string data_json; // publish: the "data" member, serialized
  std::string error;     // a bad_request message, if any
};

/// One message of a channel as it is pushed: the contract's JSON (built
/// once, shared by every receiver) and what a transport needs besides it
/// (SSE writes the event name and a resume id made of offsets).
struct push_message {
  std::string channel;
  int64_t offset = 0;
  std::string event;
  std::string json;
  /// Read from the channel's history for a resuming client. It counts
  /// against the connection's outbound bound like any other frame: the
  /// channel sends history in batches, each after the last one drained.
  bool from_history = false;
  /// The offset of the message before it on its channel (0: it is the
  /// first, or Redis lost everything before it). Offsets are increasing but
  /// not consecutive (see src/live/publisher.cpp): a gap is `previous` past
  /// what a reader has, a loss in Redis is `previous` before it.
  int64_t previous = 0;
};

using push_ptr = std::shared_ptr<const push_message>;

/// Where actors write to one live connection. Thread-safe, never blocks:
/// everything is queued for the io thread. Everything queued for the
/// connection — pushes, replies, history, pongs — counts against one bound
/// in frames and bytes (live_max_queue, live_max_queue_bytes); a connection
/// over it is closed with 4008 (its client can resume).
class push_sink {
public:
  virtual ~push_sink() = default;
  /// A push of a channel message.
  virtual void push(push_ptr message) = 0;
  /// A reply to one of the client's requests (SSE uses only the offset of
  /// a subscribe reply, for its resume id).
  virtual void reply(std::string message) = 0;
  /// Closes the connection with `code` (WebSocket) or ends the stream (SSE).
  virtual void close(uint16_t code, std::string reason) = 0;
  /// The lane serving this sink; nullptr: push() each message on its own.
  virtual class delivery_lane* lane() const { return nullptr; }
  /// On the lane's io thread only (delivery_lane::deliver): queues
  /// `message`, leaving the write to the lane's flush.
  virtual void push_on_lane(const push_ptr& message) { push(message); }
  /// Calls `then` (on the io thread, or never if the connection closes
  /// first) once everything queued before this call has been written to the
  /// socket: how a sender of many messages (history) paces itself.
  virtual void when_drained(std::function<void()> then) { then(); }
};

using push_sink_ptr = std::shared_ptr<push_sink>;

/// The io thread that serves a set of sinks, seen from the actors. A
/// channel hands one message to all of its subscribers on a lane in one
/// post instead of one per subscriber; the lane queues it on each
/// connection and writes only once everything that is ready has been
/// queued, so a connection that fell behind gets several frames in one send
/// (Redis writes replies the same way, before it sleeps). Thread-safe.
class delivery_lane {
public:
  virtual ~delivery_lane() = default;
  using sink_list = std::shared_ptr<const std::vector<push_sink_ptr>>;
  /// Queues `message` on every sink of `sinks` (all served by this lane).
  virtual void deliver(sink_list sinks, push_ptr message) = 0;
};

/// A connection's request to join a channel: the channel actor answers the
/// client itself (reply first, then any history, then live pushes) so the
/// three can never be reordered.
struct channel_join {
  caf::actor connection;
  push_sink_ptr sink;
  int64_t user_id = 0;          // 0: anonymous (presence channels count users)
  int64_t request_id = 0;       // for the reply frame
  std::optional<int64_t> since; // resume after this offset
  /// When the history no longer reaches back to `since`: deliver what it
  /// still holds (SSE, which has no way to say recovered:false) instead of
  /// going straight to live messages (WebSocket, whose client refetches).
  bool deliver_what_is_kept = false;
};

} // namespace switchboard

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::client_frame)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::push_sink_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(switchboard::channel_join)
