// channel — see channel.hpp.
//
// Ready state: the channel subscribes through the bridge, waits for the
// subscription to be confirmed, then reads the channel's current offset
// (the sequence key); messages with offsets at or below it were published
// before we listened. From then on `delivered` is the last offset sent.
// Offsets increase but are not consecutive (src/live/publisher.cpp): each
// message names the one before it. One whose `previous` is `delivered`
// goes out at once; a later `previous` means Pub/Sub lost something, so the
// gap is read from the history (XRANGE) first, while newer messages wait in
// order; an earlier `previous` means Redis lost what we delivered after it
// (a crash, a failover): the new message goes out, and resumes from before
// the loss are told recovered:false. After a lost subscription the same
// read catches up on everything published meanwhile.
//
// Resume: a joiner with `since` gets its reply, then the history after
// `since` up to `delivered`, then live messages — all sent by this actor
// through one sink, so they cannot be reordered. If the history no longer
// reaches back to `since` (its first message after `since` does not follow
// it) or Redis lost messages after `since`, the reply says recovered:false.
// A joiner whose `since` is past what this node delivered (it saw those
// messages through another node, whose Pub/Sub was quicker) waits until
// delivery reaches `since`, so it is not sent them a second time; one that
// names an offset the channel never had, or waits longer than
// ahead_wait, joins with recovered:false.
// History goes out in batches (history_batch messages or history_batch_bytes),
// each after the joiner's socket drained the last: a resume is never queued
// whole, so it stays within the connection's outbound bound however long it is.
// A joiner is the channel's from its join on: while its admission waits
// for Redis the channel does not report itself idle (the registry would
// retire it with the resume half done), and a joiner whose connection left
// meanwhile is dropped when Redis answers.
#include "actors/channel/channel.hpp"

#include "switchboard/atoms.hpp"
#include "switchboard/instrumented.hpp"
#include "switchboard/live.hpp"
#include "switchboard/redis.hpp"

#include "src/live/client_frames.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <vector>

namespace switchboard {

namespace {

struct subscriber {
  caf::actor connection;
  push_sink_ptr sink;
  int64_t user_id = 0;
};

struct channel_state {
  static inline const char* name = "channel";
  std::unique_ptr<kind_counter> counter;
  channel_config config;
  caf::actor parent;
  std::vector<subscriber> subscribers;
  // The subscribers' sinks grouped by delivery lane (one post per lane and
  // message), rebuilt after the subscribers change; sinks without a lane
  // get one push each.
  bool sinks_changed = true;
  std::vector<std::pair<delivery_lane*, delivery_lane::sink_list>> lanes;
  std::vector<push_sink_ptr> unlaned;
  std::vector<channel_join> waiting_joins; // until ready
  // Resuming joiners between two history batches, by connection.
  std::map<caf::actor_addr, channel_join> catching_up;
  // Resuming joiners ahead of `delivered`, by their since (see top).
  std::multimap<int64_t, channel_join> ahead_joins;
  // Joins whose admission waits for Redis (the resume check, a history
  // batch, the counter), by admission: while one does, the channel is not
  // idle; one whose connection left meanwhile is dropped when Redis answers
  // (a connection that left and joined again has a new admission).
  std::map<uint64_t, caf::actor_addr> admitting;
  uint64_t last_admission = 0;
  bool ready = false;    // subscribed and `delivered` known
  bool filling = false;  // a history read is in flight
  int64_t delivered = 0; // last offset delivered (or known published)
  // Redis lost messages this actor had delivered, up to this offset: a
  // resume from before it missed them, whatever the history says now.
  int64_t lost_upto = 0;
  std::map<int64_t, push_ptr> ahead; // by offset
  uint64_t handled = 0;              // joins and leaves handled
  std::map<int64_t, int> present;    // presence channels: user -> subscribers
  std::size_t max_ahead = 10'000;
};

using channel_actor = instrumented_actor<channel_state>;

constexpr std::size_t history_batch = 100;
constexpr std::chrono::seconds ahead_wait{5};
constexpr std::size_t history_batch_bytes = 256 * 1024;

std::string history_key(const channel_state& st) {
  return live::history_key(st.config.prefix, st.config.name);
}

/// Marks a join of `who` as waiting for Redis (channel_state::admitting);
/// returns the admission to end when Redis answers.
uint64_t admission_waits(channel_actor* self, const caf::actor_addr& who) {
  auto& st = self->state;
  st.admitting.emplace(++st.last_admission, who);
  return st.last_admission;
}

/// Ends that wait: false if the join's connection left meanwhile, and the
/// join is to be dropped.
bool admission_goes_on(channel_actor* self, uint64_t admission) {
  return self->state.admitting.erase(admission) == 1;
}

void group_sinks(channel_state& st) {
  st.sinks_changed = false;
  st.lanes.clear();
  st.unlaned.clear();
  std::map<delivery_lane*, std::vector<push_sink_ptr>> by_lane;
  for (auto& s : st.subscribers) {
    if (auto* lane = s.sink->lane())
      by_lane[lane].push_back(s.sink);
    else
      st.unlaned.push_back(s.sink);
  }
  for (auto& [lane, sinks] : by_lane)
    st.lanes.emplace_back(
        lane,
        std::make_shared<const std::vector<push_sink_ptr>>(std::move(sinks)));
}

void deliver(channel_actor* self, const push_ptr& message) {
  auto& st = self->state;
  if (st.sinks_changed)
    group_sinks(st);
  for (auto& [lane, sinks] : st.lanes)
    lane->deliver(sinks, message);
  for (auto& sink : st.unlaned)
    sink->push(message);
}

/// Sends `command` to Redis; a failure is logged as "<what>: <why>" (the
/// command's effect is best-effort: nothing waits for it).
void send_logged(channel_actor* self, redis_command command, const char* what) {
  auto name = self->state.config.name;
  self->request(self->state.config.redis_bridge,
                self->state.config.redis_timeout, redis_cmd_atom::value,
                std::move(command))
      .then(
          [name, what](redis_reply& reply) {
            if (!reply.ok())
              spdlog::warn("channel {}: {}: {}", name, what, reply.str);
          },
          [name, what](caf::error& e) {
            spdlog::warn("channel {}: {}: {}", name, what, caf::to_string(e));
          });
}

/// A message newer than `delivered` that follows an older one: Redis lost
/// what came after `previous` (its counter and history went back).
void note_loss(channel_actor* self, const push_message& message) {
  auto& st = self->state;
  if (st.delivered == 0)
    return;
  bump(st.counter->stats().pubsub.offsets_went_back);
  spdlog::warn("channel {}: offset {} follows {} but {} was delivered: Redis "
               "lost the messages after {}; resumes from before {} are told "
               "recovered:false",
               st.config.name, message.offset, message.previous, st.delivered,
               message.previous, st.delivered);
  st.lost_upto = std::max(st.lost_upto, st.delivered);
  // Every node must know, not only this one: the mark is kept in Redis.
  send_logged(self,
              live::loss_mark_command(st.config.prefix, st.config.name,
                                      st.lost_upto, st.config.history),
              "loss mark not kept");
}

void join_now(channel_actor* self, channel_join& join, bool recovered);

/// Lets in the joiners waiting ahead whose `since` is in (after, upto]:
/// `recovered` says whether `since` was one of the channel's offsets.
void release_ahead_joins(channel_actor* self, int64_t after, int64_t upto,
                         bool recovered) {
  auto& st = self->state;
  auto first = st.ahead_joins.upper_bound(after);
  auto last = st.ahead_joins.upper_bound(upto);
  std::vector<channel_join> ready;
  for (auto i = first; i != last; ++i)
    ready.push_back(std::move(i->second));
  st.ahead_joins.erase(first, last);
  for (auto& join : ready)
    join_now(self, join, recovered);
}

/// Sends everything in `ahead` that is next in line: up to the first gap.
void flush_ahead(channel_actor* self) {
  auto& st = self->state;
  while (!st.ahead.empty()) {
    auto i = st.ahead.begin();
    if (i->first <= st.delivered) { // a duplicate
      st.ahead.erase(i);
      continue;
    }
    if (!i->second || i->second->previous > st.delivered)
      return; // a gap (or a mark of how far to read): fill_gap reads it
    if (i->second->previous < st.delivered)
      note_loss(self, *i->second);
    // A joiner waiting for an offset between this message and the one
    // before it named one the channel never had: it gets this one on.
    auto message = i->second;
    if (!st.ahead_joins.empty())
      release_ahead_joins(self, message->previous, message->offset - 1, false);
    deliver(self, message);
    st.delivered = message->offset;
    st.ahead.erase(i);
    if (!st.ahead_joins.empty())
      release_ahead_joins(self, st.delivered - 1, st.delivered, true);
  }
}

/// Decodes an XRANGE reply into (offset, message) pairs.
std::vector<std::pair<int64_t, push_ptr>>
history_entries(const std::string& channel, const redis_reply& reply) {
  std::vector<std::pair<int64_t, push_ptr>> out;
  if (reply.type != redis_reply::kind::array)
    return out;
  for (auto& entry : reply.elements) {
    if (entry.elements.size() != 2)
      continue;
    auto& id = entry.elements[0].str; // "0-<offset>"
    int64_t offset = 0;
    if (id.size() < 3 || !live::parse_offset(id.substr(2), offset))
      continue;
    auto message = std::make_shared<push_message>();
    message->channel = channel;
    message->offset = offset;
    message->from_history = true;
    // Entries written by earlier nodes have no 'p': theirs were
    // consecutive, and 'o' marked a channel's first.
    message->previous = offset - 1;
    auto& fields = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str == "m")
        message->json = fields[i + 1].str;
      else if (fields[i].str == "e")
        message->event = fields[i + 1].str;
      else if (fields[i].str == "p")
        live::parse_offset(fields[i + 1].str, message->previous);
      else if (fields[i].str == "o")
        message->previous = 0;
    }
    if (!message->json.empty())
      out.emplace_back(offset, std::move(message));
  }
  return out;
}

void fill_gap(channel_actor* self);

/// Tells the registry when nothing is subscribed, joining or waiting: it
/// retires the channel if no join was forwarded since (channel_registry).
void report_if_idle(channel_actor* self);

void process_joins(channel_actor* self);

/// Reads the current offset once subscribed; then catches up or starts.
void become_ready(channel_actor* self) {
  auto& st = self->state;
  self->request(st.config.redis_bridge, st.config.redis_timeout,
                redis_cmd_atom::value,
                redis_command{"GET", live::sequence_key(st.config.prefix,
                                                        st.config.name)})
      .then(
          [=](redis_reply& reply) {
            auto& st = self->state;
            int64_t current = 0;
            if (reply.type == redis_reply::kind::string)
              live::parse_offset(reply.str, current);
            else if (reply.type != redis_reply::kind::nil) {
              // Try again shortly; joins wait.
              self->delayed_send(self, std::chrono::milliseconds{200},
                                 redis_resub_atom::value);
              return;
            }
            if (!st.ready) {
              st.delivered = std::max(st.delivered, current);
              st.ready = true;
              flush_ahead(self);
              process_joins(self);
              // A message that arrived while we were not ready and is not
              // next in line (the channel's first one, say) waits in
              // `ahead`: read the gap now, not when the next one comes.
              if (!st.ahead.empty())
                fill_gap(self);
            } else if (current > st.delivered) {
              // We were resubscribed: read what was published meanwhile.
              st.ahead.emplace(current, nullptr); // marks how far to read
              fill_gap(self);
            }
          },
          [=](caf::error&) {
            self->delayed_send(self, std::chrono::milliseconds{200},
                               redis_resub_atom::value);
          });
}

/// Reads the history from delivered+1 up to the first message we hold.
void fill_gap(channel_actor* self) {
  auto& st = self->state;
  if (st.filling || st.ahead.empty())
    return;
  auto upto = st.ahead.rbegin()->first;
  st.filling = true;
  self->request(st.config.redis_bridge, st.config.redis_timeout,
                redis_cmd_atom::value,
                redis_command{"XRANGE", history_key(st),
                              "0-" + std::to_string(st.delivered + 1),
                              "0-" + std::to_string(upto)})
      .then(
          [=](redis_reply& reply) {
            auto& st = self->state;
            st.filling = false;
            for (auto& [offset, message] :
                 history_entries(st.config.name, reply))
              if (offset > st.delivered &&
                  (!st.ahead.count(offset) || !st.ahead[offset]))
                st.ahead[offset] = message;
            // Drop placeholder marks that the history did not fill.
            for (auto i = st.ahead.begin(); i != st.ahead.end();)
              i = i->second ? std::next(i) : st.ahead.erase(i);
            // Whatever the history no longer holds is lost for good here:
            // skip it (clients resuming from before it are told so).
            auto first = st.ahead.begin();
            while (first != st.ahead.end() && first->first <= st.delivered)
              first = st.ahead.erase(first);
            if (first != st.ahead.end() &&
                first->second->previous > st.delivered) {
              spdlog::warn("channel {}: the messages after {} up to {} are "
                           "gone from history",
                           st.config.name, st.delivered,
                           first->second->previous);
              // Joiners waiting for a skipped offset cannot be complete.
              release_ahead_joins(self, st.delivered, first->second->previous,
                                  false);
              st.delivered = first->second->previous;
            }
            flush_ahead(self);
            if (!st.ahead.empty())
              fill_gap(self);
          },
          [=](caf::error&) {
            self->state.filling = false;
            self->delayed_send(self, std::chrono::milliseconds{200},
                               redis_resub_atom::value);
          });
}

std::string reply_json(int64_t id, const std::string& channel, int64_t offset,
                       std::optional<bool> recovered) {
  boost::json::object reply{
      {"ok", true}, {"channel", channel}, {"offset", std::to_string(offset)}};
  if (id > 0)
    reply["id"] = id;
  if (recovered)
    reply["recovered"] = *recovered;
  return boost::json::serialize(reply);
}

void send_presence(channel_actor* self, redis_command command) {
  send_logged(self, std::move(command), "presence not updated");
}

void user_arrived(channel_actor* self, int64_t user_id) {
  auto& st = self->state;
  if (!st.config.has_presence || user_id == 0)
    return;
  if (++st.present[user_id] == 1)
    send_presence(self, live::channel_presence_refresh_command(
                            st.config.presence, st.config.name, {user_id},
                            st.config.history));
}

void user_left(channel_actor* self, int64_t user_id) {
  auto& st = self->state;
  auto i = st.present.find(user_id);
  if (i == st.present.end() || --i->second > 0)
    return;
  st.present.erase(i);
  send_presence(self, live::channel_presence_leave_command(
                          st.config.presence, st.config.name, user_id,
                          st.config.history));
}

void add_subscriber(channel_actor* self, const channel_join& join) {
  auto& st = self->state;
  // A joiner that caught up in batches is monitored already.
  if (st.catching_up.erase(join.connection.address()) == 0)
    self->monitor(join.connection);
  st.subscribers.push_back({join.connection, join.sink, join.user_id});
  st.sinks_changed = true;
  user_arrived(self, join.user_id);
}

/// Sends `join` the history from `from` up to what the channel has
/// delivered, one batch at a time, each once the last has drained; repeats
/// while live delivery moved on meanwhile, and adds the joiner in the same
/// step as it has caught up, so nothing falls between.
void catch_up(channel_actor* self, channel_join join, int64_t from) {
  auto& st = self->state;
  auto upto = st.delivered;
  if (from > upto) {
    add_subscriber(self, join);
    return;
  }
  auto joiner = join.connection.address();
  auto admission = admission_waits(self, joiner);
  self->request(st.config.redis_bridge, st.config.redis_timeout,
                redis_cmd_atom::value,
                redis_command{"XRANGE", history_key(st),
                              "0-" + std::to_string(from),
                              "0-" + std::to_string(upto), "COUNT",
                              std::to_string(history_batch)})
      .then(
          [=](redis_reply& reply) mutable {
            if (!admission_goes_on(self, admission))
              return;
            auto entries = history_entries(self->state.config.name, reply);
            // Fewer than asked for: the history holds nothing more up to
            // `upto` (what it lost is lost).
            int64_t next = entries.size() < history_batch ? upto + 1 : from;
            std::size_t bytes = 0;
            for (auto& [offset, message] : entries) {
              if (bytes >= history_batch_bytes) {
                next = offset;
                break;
              }
              bytes += message->json.size();
              join.sink->push(message);
              if (entries.size() >= history_batch)
                next = offset + 1;
            }
            if (next > self->state.delivered && next > upto) {
              // Caught up: live messages follow, under the same bound.
              add_subscriber(self, join);
              return;
            }
            auto who = join.connection.address();
            auto sink = join.sink;
            if (self->state.catching_up.count(who) == 0)
              self->monitor(join.connection); // a leave or DOWN ends it
            self->state.catching_up[who] = std::move(join);
            sink->when_drained(
                [channel = caf::actor_cast<caf::actor>(self), who, next] {
                  caf::anon_send(channel, channel_more_atom::value, who, next);
                });
          },
          [=](caf::error&) {
            if (!admission_goes_on(self, admission))
              return;
            self->state.catching_up.erase(joiner);
            join.sink->close(close_code::going_away, "history unavailable");
            report_if_idle(self);
          });
}

/// Replies to a joiner at `delivered` and adds it to live delivery.
void join_now(channel_actor* self, channel_join& join, bool recovered) {
  auto& st = self->state;
  join.sink->reply(
      reply_json(join.request_id, st.config.name, st.delivered,
                 join.since ? std::optional<bool>{recovered} : std::nullopt));
  add_subscriber(self, join);
}

void admit(channel_actor* self, channel_join join);

/// A resume from past what this node delivered: waits for delivery to reach
/// `since` when the channel has that offset (this node lags behind another),
/// else joins now as not recovered.
void wait_for_since(channel_actor* self, channel_join join) {
  auto& st = self->state;
  auto admission = admission_waits(self, join.connection.address());
  self->request(st.config.redis_bridge, st.config.redis_timeout,
                redis_cmd_atom::value,
                redis_command{"GET", live::sequence_key(st.config.prefix,
                                                        st.config.name)})
      .then(
          [=](redis_reply& reply) mutable {
            if (!admission_goes_on(self, admission))
              return;
            auto& st = self->state;
            if (*join.since <= st.delivered) { // caught up meanwhile
              admit(self, std::move(join));
              return;
            }
            int64_t current = 0;
            if (reply.type == redis_reply::kind::string)
              live::parse_offset(reply.str, current);
            if (*join.since > current) { // never one of the channel's
              join_now(self, join, false);
              return;
            }
            auto since = *join.since;
            st.ahead_joins.emplace(since, std::move(join));
            self->delayed_send(self, ahead_wait, channel_lag_atom::value,
                               since);
            // Read what Pub/Sub has not brought yet, up to `current`.
            if (!st.ahead.count(current))
              st.ahead.emplace(current, nullptr);
            fill_gap(self);
          },
          [=](caf::error&) mutable {
            if (admission_goes_on(self, admission))
              join_now(self, join, false);
          });
}

void admit(channel_actor* self, channel_join join) {
  auto& st = self->state;
  if (join.since && *join.since > st.delivered) {
    wait_for_since(self, std::move(join));
    return;
  }
  if (!join.since || *join.since == st.delivered) {
    join_now(self, join, true);
    return;
  }
  // Resume: first learn whether the history still reaches back to `since`
  // (the reply must say so before any push), then catch up.
  auto since = *join.since;
  auto admission = admission_waits(self, join.connection.address());
  self->request(
          st.config.redis_bridge, st.config.redis_timeout,
          redis_cmd_atom::value,
          live::resume_check_command(st.config.prefix, st.config.name, since))
      .then(
          [=](redis_reply& reply) {
            if (!admission_goes_on(self, admission))
              return;
            auto& st = self->state;
            std::vector<std::pair<int64_t, push_ptr>> first;
            int64_t lost_upto = st.lost_upto, marked = 0;
            if (reply.type == redis_reply::kind::array &&
                reply.elements.size() == 2) {
              first = history_entries(st.config.name, reply.elements[0]);
              if (reply.elements[1].type == redis_reply::kind::string &&
                  live::parse_offset(reply.elements[1].str, marked))
                lost_upto = std::max(lost_upto, marked);
            }
            // The history's next message must follow `since`, and nothing
            // after `since` may have been lost by Redis.
            bool recovered = !first.empty() &&
                             first.front().second->previous == since &&
                             since >= lost_upto;
            join.sink->reply(reply_json(join.request_id, st.config.name,
                                        st.delivered, recovered));
            // Not recovered: a WebSocket client refetches and goes on live
            // from here; an SSE stream gets what the history still holds.
            auto from = recovered ? since + 1
                        : join.deliver_what_is_kept && !first.empty()
                            ? first.front().first
                            : st.delivered + 1;
            catch_up(self, join, from);
          },
          [=](caf::error&) mutable {
            if (admission_goes_on(self, admission))
              join_now(self, join, false);
          });
}

void process_joins(channel_actor* self) {
  auto& st = self->state;
  auto joins = std::move(st.waiting_joins);
  st.waiting_joins.clear();
  for (auto& join : joins)
    admit(self, std::move(join));
}

void remove_subscriber(channel_actor* self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto& subs = st.subscribers;
  auto gone = std::find_if(subs.begin(), subs.end(), [&](const subscriber& s) {
    return s.connection.address() == who;
  });
  if (gone != subs.end()) {
    auto user_id = gone->user_id;
    subs.erase(gone);
    st.sinks_changed = true;
    user_left(self, user_id);
  }
  auto& waiting = st.waiting_joins;
  waiting.erase(std::remove_if(waiting.begin(), waiting.end(),
                               [&](const channel_join& j) {
                                 return j.connection.address() == who;
                               }),
                waiting.end());
  st.catching_up.erase(who);
  for (auto i = st.admitting.begin(); i != st.admitting.end();)
    i = i->second == who ? st.admitting.erase(i) : std::next(i);
  for (auto i = st.ahead_joins.begin(); i != st.ahead_joins.end();)
    i = i->second.connection.address() == who ? st.ahead_joins.erase(i)
                                              : std::next(i);
  report_if_idle(self);
}

void report_if_idle(channel_actor* self) {
  auto& st = self->state;
  if (st.subscribers.empty() && st.waiting_joins.empty() &&
      st.catching_up.empty() && st.ahead_joins.empty() && st.admitting.empty())
    self->send(st.parent, channel_idle_atom::value, st.config.name, st.handled);
}

caf::behavior channel_impl(channel_actor* self,
                           std::shared_ptr<node_stats> stats,
                           channel_config config, caf::actor parent) {
  auto& st = self->state;
  st.counter =
      std::make_unique<kind_counter>(std::move(stats), actor_kind::channel);
  st.config = std::move(config);
  st.parent = std::move(parent);
  self->send(st.config.redis_bridge, redis_sub_atom::value,
             live::pubsub_channel(st.config.prefix, st.config.name));
  self->monitor(st.parent);
  if (st.config.has_presence)
    self->delayed_send(self, st.config.presence_refresh, tick_atom::value);
  self->set_down_handler([=](caf::down_msg& down) {
    if (down.source == self->state.parent.address()) {
      self->quit(); // the registry is gone: nobody would retire us
      return;
    }
    remove_subscriber(self, down.source);
  });
  return {
      [=](channel_join_atom, channel_join& join) {
        auto& st = self->state;
        ++st.handled;
        if (!st.ready)
          st.waiting_joins.push_back(std::move(join));
        else
          admit(self, std::move(join));
      },
      [=](channel_leave_atom, const caf::actor& connection) {
        ++self->state.handled;
        self->demonitor(connection);
        remove_subscriber(self, connection.address());
      },
      [=](channel_lag_atom, int64_t since) {
        // Still short of `since` after ahead_wait: join as not recovered.
        if (self->state.ahead_joins.count(since))
          release_ahead_joins(self, since - 1, since, false);
      },
      [=](channel_more_atom, const caf::actor_addr& who, int64_t from) {
        auto& st = self->state;
        auto i = st.catching_up.find(who);
        if (i == st.catching_up.end())
          return; // it left meanwhile
        catch_up(self, i->second, from);
      },
      [=](channel_stop_atom) {
        auto& st = self->state;
        self->send(st.config.redis_bridge, redis_unsub_atom::value,
                   live::pubsub_channel(st.config.prefix, st.config.name));
        self->quit();
      },
      [=](redis_msg_atom, const std::string&, const std::string& payload) {
        auto& st = self->state;
        auto message = live::parse_published(st.config.name, payload);
        if (!message)
          return;
        auto offset = message->offset;
        if (st.ready && offset <= st.delivered)
          return; // a duplicate, or published before we listened
        if (st.ahead.size() >= st.max_ahead) {
          bump(st.counter->stats().pubsub.dropped);
          return; // history will fill it in
        }
        st.ahead[offset] = std::move(message);
        if (!st.ready)
          return;
        flush_ahead(self);
        if (!st.ahead.empty())
          fill_gap(self);
      },
      [=](tick_atom) {
        // Renew this node's presence entries (and retire a dead node's).
        auto& st = self->state;
        std::vector<int64_t> users;
        for (auto& [user, n] : st.present)
          users.push_back(user);
        if (!users.empty())
          send_presence(self, live::channel_presence_refresh_command(
                                  st.config.presence, st.config.name, users,
                                  st.config.history));
        self->delayed_send(self, st.config.presence_refresh, tick_atom::value);
      },
      [=](redis_resub_atom) { become_ready(self); },
      [=](redis_lost_atom) {}, // the resubscription catches up by offset
      [=](redis_up_atom) {},
      [=](redis_down_atom) {},
  };
}

} // namespace

caf::actor spawn_channel(caf::local_actor* parent,
                         std::shared_ptr<node_stats> stats,
                         channel_config config) {
  return parent->system().spawn(channel_impl, std::move(stats),
                                std::move(config),
                                caf::actor_cast<caf::actor>(parent));
}

} // namespace switchboard
