// sse_session — one Server-Sent Events stream, confined to its strand on
// the io thread: writes the response header, then each push as
// "id: <resume id>\nevent: <event>\ndata: <json>\n\n", a comment line every
// 15 s so proxies and clients know it is alive, one write in flight and a
// bounded queue behind it: everything queued (events, history, comments)
// counts against live_max_queue events and live_max_queue_bytes; over the
// bound the stream ends and the client resumes with Last-Event-ID. It keeps
// the stream's resume id (the last offset of each channel). Events wait
// until every channel's subscribe reply is in, so that a resume the history
// no longer reaches says so first (`event: recovered`, with the channels
// that were not recovered); comments do not wait. It makes no application
// decision.
#pragma once

#include "switchboard/live.hpp"
#include "switchboard/node_stats.hpp"

#include "src/live/resume_token.hpp"
#include "src/net/delivery_lane.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <caf/actor.hpp>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace switchboard::net {

class sse_session : public flushable,
                    public std::enable_shared_from_this<sse_session> {
public:
  sse_session(boost::beast::tcp_stream&& stream, caf::actor connection,
              std::size_t max_queue, std::size_t max_queue_bytes,
              std::shared_ptr<node_stats> stats, live::resume_offsets initial,
              std::shared_ptr<io_delivery_lane> lane);
  ~sse_session();

  /// Keeps the connection's place (connection_slots) while the socket lives.
  void hold(std::shared_ptr<void> slot) { slot_ = std::move(slot); }

  /// Writes the header (with `extra` headers), then tells the connection
  /// actor `(sse_open_atom, push_sink_ptr)`.
  void start(std::vector<std::pair<std::string, std::string>> extra);

  /// The lane's flush: writes what was queued through push_on_lane.
  void flush() override { write_next(); }
  /// Once a second: a heartbeat comment after heartbeat_every of silence.
  void tick(std::chrono::steady_clock::time_point now) override;

private:
  friend class sse_sink;

  /// Appends `bytes` (one event, or a comment when `counts` is false) to
  /// the output; `later`: leave the write to the lane's flush.
  void enqueue(std::string_view bytes, bool later = false, bool counts = true);
  /// Appends one channel message as an event.
  void enqueue_push(const push_message& message, bool later);
  /// A channel's subscribe reply: its outcome, and the gate's opening once
  /// every channel has answered.
  void channel_answered(const std::string& channel, bool recovered,
                        int64_t offset);
  /// Writes `event: recovered` for the channels not recovered, then the
  /// events held meanwhile.
  void open_gate();
  void write_next();
  void on_written();
  void heartbeat();
  void watch_client();
  void end();

  // Released from Beast's tcp_stream: its timers are not needed here.
  boost::asio::ip::tcp::socket stream_;
  caf::actor connection_;
  std::size_t max_queue_;
  std::size_t max_queue_bytes_;
  std::shared_ptr<node_stats> stats_;
  live::resume_offsets offsets_;
  std::shared_ptr<io_delivery_lane> lane_; // null: write at once
  // Events are appended to out_; a write takes all of it at once.
  std::string out_, sending_;
  std::size_t out_events_ = 0, sending_events_ = 0;
  std::vector<std::function<void()>> on_drained_; // see push_sink
  // The gate: channels whose subscribe reply is still to come, those not
  // recovered, and the events held until the last reply (or gate_limit).
  std::set<std::string> awaiting_;
  std::vector<std::string> unrecovered_;
  std::string held_;
  std::size_t held_events_ = 0;
  std::chrono::steady_clock::time_point opened_at_;
  bool gate_open_ = false;
  // Ticks without a lane (several io threads); null otherwise.
  std::unique_ptr<boost::asio::steady_timer> heartbeat_timer_;
  std::chrono::steady_clock::time_point last_write_;
  bool writing_ = false;
  bool ended_ = false;
  std::shared_ptr<void> slot_; // released when the socket closes
};

} // namespace switchboard::net
