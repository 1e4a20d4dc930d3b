// redis_connection — one non-blocking Redis connection confined to an Asio
// strand: connects, authenticates, selects the database, and reconnects with
// backoff after any loss. A command connection probes itself with PING; a
// subscriber connection (SUBSCRIBE mode: no other commands) re-subscribes
// after every reconnect and reports "up" only once Redis has confirmed its
// subscriptions — its liveness is probed end to end by its owner. Public
// members are thread-safe (they post to the strand); handlers run on the
// strand and must not block. It knows nothing of actors.
#pragma once

#include "switchboard/redis.hpp"
#include "switchboard/redis_link.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

struct redisAsyncContext;

namespace switchboard::redis {

class hiredis_asio_adapter;

struct endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  int database = 0;
  std::string password;
};

/// Parses `redis://[:password@]host[:port][/db]`; nullopt with `error` set
/// when the URL is not of that form.
std::optional<endpoint> parse_url(std::string_view url, std::string& error);

class connection : public redis_link,
                   public std::enable_shared_from_this<connection> {
public:
  struct options {
    std::string name = "redis";              // in log lines
    std::chrono::milliseconds timeout{1000}; // connect and PING deadline
    std::chrono::milliseconds probe_interval{2000};
    bool subscriber = false; // SUBSCRIBE mode: use subscribe(), not send()
  };

  connection(boost::asio::io_context& io, endpoint where, options opts);
  ~connection();

  // The redis_link contract (include/switchboard/redis_link.hpp). Handlers
  // run on this connection's strand; `stop`'s `done` once hiredis has freed
  // the context.
  void start(state_handler on_state) override;
  void send(redis_command command, reply_handler handler) override;
  void stop(std::function<void()> done = nullptr) override;
  void on_subscribed(subscribed_handler handler) override;
  void on_message(message_handler handler) override;
  void subscribe(std::string channel) override;
  void unsubscribe(std::string channel) override;
  void reconnect(std::string why) override;

private:
  void connect();
  void resolve_then_connect();
  void connect_to(const std::string& ip);
  void on_connected(bool ok);
  void on_lost(const char* why);
  void schedule_reconnect();
  void probe();
  void force_close(const char* why);
  void set_up(bool up);
  void send_now(const redis_command& command, reply_handler handler);
  /// EVAL as EVALSHA once the script's digest is known; on NOSCRIPT (a
  /// restarted or flushed Redis) the full EVAL is sent, which loads it.
  void send_eval(const redis_command& command, reply_handler handler);
  void send_argv(const redis_command& command, reply_handler handler);

  static void connect_callback(const redisAsyncContext* c, int status);
  static void disconnect_callback(const redisAsyncContext* c, int status);
  static void reply_callback(redisAsyncContext* c, void* reply, void* data);
  static void subscription_callback(redisAsyncContext* c, void* reply,
                                    void* data);
  void send_subscription(const char* verb, const std::vector<std::string>& ch);

  using strand_type =
      boost::asio::strand<boost::asio::io_context::executor_type>;

  strand_type strand_;
  endpoint endpoint_;
  options options_;
  state_handler on_state_;
  redisAsyncContext* context_ = nullptr;
  std::shared_ptr<hiredis_asio_adapter> adapter_;
  bool connected_ = false;
  bool up_reported_ = false;
  bool stopped_ = false;
  bool logged_failure_ = false;
  uint64_t generation_ = 0; // bumps on every new context
  std::chrono::milliseconds backoff_{100};
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer probe_timer_;
  boost::asio::steady_timer connect_timer_;
  std::optional<std::chrono::steady_clock::time_point> ping_sent_;
  message_handler on_message_;
  subscribed_handler on_subscribed_;
  std::set<std::string> channels_;         // what we want to be subscribed to
  std::size_t awaiting_confirmations_ = 0; // before reporting "up"
  std::unordered_map<std::string, std::string> script_digests_; // io only
};

} // namespace switchboard::redis
