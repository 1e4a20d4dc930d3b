// redis_connection — see redis_connection.hpp. hiredis frees a context by
// itself after a failed connect or a disconnect; we only free it ourselves
// (redisAsyncFree) from timer or stop handlers, never from inside one of its
// callbacks. `generation_` tells late callbacks of an old context apart.
#include "src/redis/redis_connection.hpp"

#include "src/redis/hiredis_asio.hpp"
#include "src/redis/script_digest.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/url/parse.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstring>

namespace switchboard::redis {

namespace asio = boost::asio;

std::optional<endpoint> parse_url(std::string_view url, std::string& error) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "redis") {
    error = "expected redis://[:password@]host[:port][/db]";
    return std::nullopt;
  }
  endpoint result;
  if (!parsed->host().empty())
    result.host = parsed->host();
  if (parsed->has_port()) {
    if (parsed->port_number() == 0) {
      error = "bad port";
      return std::nullopt;
    }
    result.port = parsed->port_number();
  }
  if (parsed->has_password())
    result.password = parsed->password();
  auto path = std::string{parsed->path()};
  if (!path.empty() && path != "/") {
    auto digits = std::string_view{path}.substr(1);
    auto [end, ec] = std::from_chars(
        digits.data(), digits.data() + digits.size(), result.database);
    if (ec != std::errc{} || end != digits.data() + digits.size() ||
        result.database < 0) {
      error = "bad database number";
      return std::nullopt;
    }
  }
  return result;
}

namespace {

redis_reply convert(const redisReply* reply) {
  redis_reply out;
  switch (reply->type) {
  case REDIS_REPLY_STRING:
    out.type = redis_reply::kind::string;
    out.str.assign(reply->str, reply->len);
    break;
  case REDIS_REPLY_STATUS:
    out.type = redis_reply::kind::status;
    out.str.assign(reply->str, reply->len);
    break;
  case REDIS_REPLY_ERROR:
    out.type = redis_reply::kind::error;
    out.str.assign(reply->str, reply->len);
    break;
  case REDIS_REPLY_INTEGER:
    out.type = redis_reply::kind::integer;
    out.integer = reply->integer;
    break;
  case REDIS_REPLY_ARRAY:
    out.type = redis_reply::kind::array;
    out.elements.reserve(reply->elements);
    for (size_t i = 0; i < reply->elements; ++i)
      out.elements.push_back(convert(reply->element[i]));
    break;
  default:
    out.type = redis_reply::kind::nil;
  }
  return out;
}

} // namespace

connection::connection(asio::io_context& io, endpoint where, options opts)
    : strand_(asio::make_strand(io)),
      endpoint_(std::move(where)),
      options_(std::move(opts)),
      reconnect_timer_(strand_),
      probe_timer_(strand_),
      connect_timer_(strand_) {}

connection::~connection() = default;

void connection::start(state_handler on_state) {
  asio::post(strand_, [self = shared_from_this(),
                       on_state = std::move(on_state)]() mutable {
    self->on_state_ = std::move(on_state);
    self->connect();
  });
}

void connection::stop(std::function<void()> done) {
  asio::post(strand_, [self = shared_from_this(), done = std::move(done)] {
    self->stopped_ = true;
    self->reconnect_timer_.cancel();
    self->probe_timer_.cancel();
    self->connect_timer_.cancel();
    if (self->context_ != nullptr) {
      auto* ctx = self->context_;
      self->context_ = nullptr;
      self->connected_ = false;
      redisAsyncFree(ctx);
    }
    self->on_state_ = nullptr;
    if (done)
      done();
  });
}

void connection::send(redis_command command, reply_handler handler) {
  asio::post(strand_, [self = shared_from_this(), command = std::move(command),
                       handler = std::move(handler)]() mutable {
    self->send_now(command, std::move(handler));
  });
}

void connection::send_now(const redis_command& command, reply_handler handler) {
  if (!connected_ || context_ == nullptr) {
    handler(redis_reply::unavailable_reply("redis not connected"));
    return;
  }
  if (command.size() >= 3 && command[0] == "EVAL")
    return send_eval(command, std::move(handler));
  send_argv(command, std::move(handler));
}

void connection::send_eval(const redis_command& command,
                           reply_handler handler) {
  auto known = script_digests_.find(command[1]);
  if (known == script_digests_.end()) {
    // The first EVAL loads the script; later ones send only its digest.
    if (script_digests_.size() < 64)
      script_digests_.emplace(command[1], script_digest(command[1]));
    return send_argv(command, std::move(handler));
  }
  redis_command by_digest = command;
  by_digest[0] = "EVALSHA";
  by_digest[1] = known->second;
  send_argv(by_digest,
            [self = shared_from_this(), command,
             handler = std::move(handler)](redis_reply reply) mutable {
              if (reply.type == redis_reply::kind::error &&
                  reply.str.rfind("NOSCRIPT", 0) == 0) {
                if (self->connected_ && self->context_ != nullptr)
                  return self->send_argv(command, std::move(handler));
              }
              handler(std::move(reply));
            });
}

void connection::send_argv(const redis_command& command,
                           reply_handler handler) {
  if (!connected_ || context_ == nullptr) {
    handler(redis_reply::unavailable_reply("redis not connected"));
    return;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(command.size());
  lengths.reserve(command.size());
  for (auto& word : command) {
    argv.push_back(word.data());
    lengths.push_back(word.size());
  }
  auto* data = new reply_handler(std::move(handler));
  if (redisAsyncCommandArgv(context_, &connection::reply_callback, data,
                            static_cast<int>(argv.size()), argv.data(),
                            lengths.data()) != REDIS_OK) {
    std::unique_ptr<reply_handler> owned{data};
    (*owned)(redis_reply::unavailable_reply("redis command rejected"));
  }
}

void connection::connect() {
  if (stopped_)
    return;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(endpoint_.host, ec);
  if (!ec) {
    connect_to(address.to_string());
    return;
  }
  resolve_then_connect();
}

void connection::resolve_then_connect() {
  // Resolve asynchronously: hiredis would call getaddrinfo on our thread.
  auto resolver = std::make_shared<asio::ip::tcp::resolver>(strand_);
  resolver->async_resolve(
      endpoint_.host, std::to_string(endpoint_.port),
      asio::bind_executor(
          strand_, [self = shared_from_this(),
                    resolver](boost::system::error_code ec,
                              asio::ip::tcp::resolver::results_type r) {
            if (self->stopped_)
              return;
            if (ec || r.empty()) {
              if (!self->logged_failure_)
                spdlog::error("{}: cannot resolve {}: {}", self->options_.name,
                              self->endpoint_.host, ec.message());
              self->logged_failure_ = true;
              self->schedule_reconnect();
              return;
            }
            self->connect_to(r.begin()->endpoint().address().to_string());
          }));
}

void connection::connect_to(const std::string& ip) {
  auto* ctx = redisAsyncConnect(ip.c_str(), endpoint_.port);
  if (ctx == nullptr || ctx->err) {
    if (!logged_failure_)
      spdlog::error("{}: cannot connect to {}:{}: {}", options_.name, ip,
                    endpoint_.port, ctx ? ctx->errstr : "out of memory");
    logged_failure_ = true;
    if (ctx != nullptr)
      redisAsyncFree(ctx);
    schedule_reconnect();
    return;
  }
  ++generation_;
  context_ = ctx;
  ctx->data = this;
  adapter_ = attach_to_asio(ctx, strand_);
  redisAsyncSetConnectCallback(ctx, &connection::connect_callback);
  redisAsyncSetDisconnectCallback(ctx, &connection::disconnect_callback);
  // hiredis 0.14 has no connect timeout of its own.
  connect_timer_.expires_after(options_.timeout);
  connect_timer_.async_wait([self = shared_from_this(),
                             gen = generation_](boost::system::error_code ec) {
    if (ec || gen != self->generation_ || self->connected_ ||
        self->context_ == nullptr)
      return;
    self->force_close("connect timed out");
  });
}

void connection::connect_callback(const redisAsyncContext* c, int status) {
  auto* self = static_cast<connection*>(c->data);
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback returns.
    if (!self->logged_failure_)
      spdlog::error("{}: connect to {}:{} failed: {}", self->options_.name,
                    self->endpoint_.host, self->endpoint_.port, c->errstr);
    self->logged_failure_ = true;
    self->context_ = nullptr;
    self->connect_timer_.cancel();
    self->schedule_reconnect();
    return;
  }
  self->on_connected(true);
}

void connection::on_connected(bool) {
  connect_timer_.cancel();
  connected_ = true;
  backoff_ = std::chrono::milliseconds{100};
  // Sent directly (not posted) so they precede anything else on the wire.
  if (!endpoint_.password.empty())
    send_now({"AUTH", endpoint_.password}, [](redis_reply r) {
      if (!r.ok())
        spdlog::error("redis: AUTH failed: {}", r.str);
    });
  if (endpoint_.database != 0)
    send_now({"SELECT", std::to_string(endpoint_.database)}, [](redis_reply r) {
      if (!r.ok())
        spdlog::error("redis: SELECT failed: {}", r.str);
    });
  spdlog::info("{}: connected to {}:{}", options_.name, endpoint_.host,
               endpoint_.port);
  logged_failure_ = false;
  ping_sent_.reset();
  if (!options_.subscriber) {
    set_up(true);
    probe();
    return;
  }
  // Messages published before Redis confirms a subscription are lost to us:
  // report "up" (which owners take as "you may have missed messages") only
  // after every confirmation has arrived.
  awaiting_confirmations_ = channels_.size();
  if (awaiting_confirmations_ == 0)
    set_up(true);
  else
    send_subscription("SUBSCRIBE", {channels_.begin(), channels_.end()});
}

void connection::on_message(message_handler handler) {
  on_message_ = std::move(handler);
}

void connection::on_subscribed(subscribed_handler handler) {
  on_subscribed_ = std::move(handler);
}

void connection::subscribe(std::string channel) {
  asio::post(strand_, [self = shared_from_this(),
                       channel = std::move(channel)]() mutable {
    if (!self->channels_.insert(channel).second)
      return;
    if (self->connected_ && self->context_ != nullptr) {
      // Its confirmation must not count towards the batch sent at connect.
      if (self->awaiting_confirmations_ > 0)
        ++self->awaiting_confirmations_;
      self->send_subscription("SUBSCRIBE", {channel});
    }
  });
}

void connection::unsubscribe(std::string channel) {
  asio::post(strand_, [self = shared_from_this(),
                       channel = std::move(channel)]() mutable {
    if (self->channels_.erase(channel) == 0)
      return;
    if (self->connected_ && self->context_ != nullptr)
      self->send_subscription("UNSUBSCRIBE", {channel});
  });
}

void connection::reconnect(std::string why) {
  asio::post(strand_, [self = shared_from_this(), why = std::move(why)] {
    if (!self->stopped_ && self->context_ != nullptr)
      self->force_close(why.c_str());
  });
}

void connection::send_subscription(const char* verb,
                                   const std::vector<std::string>& channels) {
  std::vector<const char*> argv{verb};
  std::vector<size_t> lengths{std::strlen(verb)};
  for (auto& ch : channels) {
    argv.push_back(ch.data());
    lengths.push_back(ch.size());
  }
  // hiredis keeps this callback per channel and calls it for every message.
  redisAsyncCommandArgv(context_, &connection::subscription_callback, nullptr,
                        static_cast<int>(argv.size()), argv.data(),
                        lengths.data());
}

void connection::subscription_callback(redisAsyncContext* c, void* reply,
                                       void*) {
  if (reply == nullptr || c->data == nullptr)
    return; // the context is going away
  auto* self = static_cast<connection*>(c->data);
  auto* r = static_cast<redisReply*>(reply);
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
      r->element[0]->type != REDIS_REPLY_STRING)
    return;
  std::string_view kind{r->element[0]->str, r->element[0]->len};
  if (kind == "message" && r->element[1]->type == REDIS_REPLY_STRING &&
      r->element[2]->type == REDIS_REPLY_STRING) {
    if (self->on_message_)
      self->on_message_(std::string{r->element[1]->str, r->element[1]->len},
                        std::string{r->element[2]->str, r->element[2]->len});
  } else if (kind == "subscribe") {
    if (self->awaiting_confirmations_ > 0 &&
        --self->awaiting_confirmations_ == 0)
      self->set_up(true);
    if (self->on_subscribed_ && r->element[1]->type == REDIS_REPLY_STRING)
      self->on_subscribed_(std::string{r->element[1]->str, r->element[1]->len});
  }
}

void connection::disconnect_callback(const redisAsyncContext* c, int status) {
  auto* self = static_cast<connection*>(c->data);
  if (self->context_ != c)
    return; // we freed it ourselves and have already handled the loss
  self->context_ = nullptr;
  self->on_lost(status == REDIS_OK ? "disconnected" : c->errstr);
}

void connection::on_lost(const char* why) {
  connected_ = false;
  probe_timer_.cancel();
  if (!stopped_) {
    spdlog::warn("{}: connection lost: {}", options_.name, why);
    set_up(false);
    schedule_reconnect();
  }
}

void connection::force_close(const char* why) {
  auto* ctx = context_;
  context_ = nullptr;
  bool was_connected = connected_;
  connected_ = false;
  if (ctx != nullptr)
    redisAsyncFree(ctx); // pending handlers get `unavailable`
  if (was_connected) {
    on_lost(why);
  } else {
    if (!logged_failure_)
      spdlog::error("{}: {}", options_.name, why);
    logged_failure_ = true;
    schedule_reconnect();
  }
}

void connection::schedule_reconnect() {
  if (stopped_)
    return;
  reconnect_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds{2000});
  reconnect_timer_.async_wait(
      [self = shared_from_this()](boost::system::error_code ec) {
        if (!ec && !self->stopped_ && self->context_ == nullptr)
          self->connect();
      });
}

void connection::probe() {
  // A connection can die silently (a failover, a dropped NAT entry): PING it
  // and tear it down when the answer is late, so reconnect logic kicks in.
  probe_timer_.expires_after(options_.probe_interval);
  probe_timer_.async_wait([self = shared_from_this(),
                           gen = generation_](boost::system::error_code ec) {
    if (ec || gen != self->generation_ || !self->connected_)
      return;
    auto now = std::chrono::steady_clock::now();
    if (self->ping_sent_ && now - *self->ping_sent_ > self->options_.timeout) {
      self->force_close("PING unanswered");
      return;
    }
    if (!self->ping_sent_) {
      self->ping_sent_ = now;
      self->send({"PING"}, [self, gen](redis_reply) {
        if (gen == self->generation_)
          self->ping_sent_.reset();
      });
    }
    self->probe();
  });
}

void connection::set_up(bool up) {
  if (up == up_reported_)
    return;
  up_reported_ = up;
  if (on_state_)
    on_state_(up);
}

void connection::reply_callback(redisAsyncContext*, void* reply, void* data) {
  std::unique_ptr<reply_handler> handler{static_cast<reply_handler*>(data)};
  if (reply == nullptr)
    (*handler)(redis_reply::unavailable_reply("redis connection lost"));
  else
    (*handler)(convert(static_cast<redisReply*>(reply)));
}

} // namespace switchboard::redis
