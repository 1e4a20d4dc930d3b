// channel_test — the channel actor on CAF's deterministic scheduler, with a
// stand-in bridge holding one channel's counter and history in memory and a
// recording push sink: live delivery follows the offsets' chain (a gap is
// read from the history, a duplicate dropped), and a resume from past what
// this node delivered (the client saw those messages through a node whose
// Pub/Sub was quicker) waits for delivery to reach it instead of getting
// them twice; an offset the channel never had, or one it does not reach in
// time, joins as not recovered. The scripts themselves run against the real
// Redis in tests/integration (live_resume, live_redis_restart).
#define CAF_SUITE channel
#include "switchboard/atoms.hpp"
#include "switchboard/live.hpp"
#include "switchboard/redis.hpp"

#include "actors/channel/channel.hpp"
#include "caf/test/dsl.hpp"
#include "twins/live_stand_ins.hpp"

#include <map>
#include <vector>

using namespace switchboard;

namespace {

using twins::recording_sink;
using twins::stand_in_connection;

struct entry {
  int64_t previous;
  std::string json;
};

/// The channel as Redis holds it: its last offset and its history.
struct bridge_state {
  int64_t current = 0;
  std::map<int64_t, entry> history;
  std::string label; // CAF 0.17 needs an argument (see cache_test.cpp)
};

redis_reply string_reply(std::string s) {
  redis_reply r;
  r.type = redis_reply::kind::string;
  r.str = std::move(s);
  return r;
}

redis_reply array_reply(std::vector<redis_reply> elements) {
  redis_reply r;
  r.type = redis_reply::kind::array;
  r.elements = std::move(elements);
  return r;
}

int64_t offset_of(const std::string& id) { // "0-<offset>"
  return id == "+" ? INT64_MAX : std::stoll(id.substr(2));
}

redis_reply xrange(bridge_state& st, int64_t from, int64_t to,
                   std::size_t count = SIZE_MAX) {
  std::vector<redis_reply> out;
  for (auto i = st.history.lower_bound(from);
       i != st.history.end() && i->first <= to && out.size() < count; ++i)
    out.push_back(array_reply(
        {string_reply("0-" + std::to_string(i->first)),
         array_reply({string_reply("m"), string_reply(i->second.json),
                      string_reply("e"), string_reply("e"), string_reply("p"),
                      string_reply(std::to_string(i->second.previous))})}));
  return array_reply(std::move(out));
}

caf::behavior stand_in_bridge(caf::stateful_actor<bridge_state>* self,
                              std::string label) {
  self->state.label = std::move(label);
  return {
      [=](redis_cmd_atom, redis_command& cmd) -> redis_reply {
        auto& st = self->state;
        if (cmd[0] == "GET")
          return st.current ? string_reply(std::to_string(st.current))
                            : redis_reply{};
        if (cmd[0] == "XRANGE") {
          auto count = cmd.size() > 5 ? std::stoul(cmd[5]) : SIZE_MAX;
          return xrange(st, offset_of(cmd[2]), offset_of(cmd[3]), count);
        }
        if (cmd[0] == "EVAL" && cmd[2] == "2") // resume_check_command
          return array_reply({xrange(st, offset_of(cmd[5]), INT64_MAX, 1), {}});
        redis_reply ok;
        ok.type = redis_reply::kind::integer;
        ok.integer = 1;
        return ok;
      },
      [=](redis_sub_atom, const std::string&) {
        // Redis confirms at once.
        self->send(caf::actor_cast<caf::actor>(self->current_sender()),
                   redis_resub_atom::value);
      },
      [=](redis_unsub_atom, const std::string&) {},
  };
}

/// Spawns the channel as its registry would, and stays its parent.
caf::behavior stand_in_registry(caf::event_based_actor* self,
                                std::shared_ptr<node_stats> stats,
                                channel_config config, caf::actor* out) {
  *out = spawn_channel(self, std::move(stats), std::move(config));
  return {[](channel_idle_atom, const std::string&, uint64_t) {
  }};
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  caf::actor bridge = sys.spawn(stand_in_bridge, std::string{"bridge"});
  caf::actor channel;
  caf::actor registry;

  fixture() {
    bridge_state& redis = state();
    redis.current = 100;
    redis.history[100] = {0, message(100)};
    channel_config cfg;
    cfg.name = "books:1";
    cfg.prefix = "t:";
    cfg.redis_bridge = bridge;
    registry = sys.spawn(stand_in_registry, stats, cfg, &channel);
    settle(); // subscribed and ready: delivered = 100
  }

  void settle() { consume_messages(); }

  bridge_state& state() {
    return deref<caf::stateful_actor<bridge_state>>(bridge).state;
  }

  static std::string message(int64_t offset) {
    return "{\"channel\":\"books:1\",\"offset\":\"" + std::to_string(offset) +
           "\"}";
  }

  /// Redis numbers and keeps a message (a publish by any node).
  void publish(int64_t offset) {
    auto& redis = state();
    redis.history[offset] = {redis.current, message(offset)};
    redis.current = offset;
  }

  /// Pub/Sub brings the message at `offset` to this node's channel.
  void arrives(int64_t offset) {
    auto& e = state().history.at(offset);
    caf::anon_send(channel, redis_msg_atom::value, std::string{"t:ch:books:1"},
                   std::to_string(offset) + " " + std::to_string(e.previous) +
                       " e " + e.json);
    settle();
  }

  std::shared_ptr<recording_sink> join(std::optional<int64_t> since) {
    auto [sink, conn] = send_join(since);
    settle();
    return sink;
  }

  /// A new connection's join, sent and not yet handled.
  std::pair<std::shared_ptr<recording_sink>, caf::actor>
  send_join(std::optional<int64_t> since) {
    auto sink = std::make_shared<recording_sink>();
    auto conn = sys.spawn(stand_in_connection, std::string{"conn"});
    caf::anon_send(channel, channel_join_atom::value,
                   channel_join{conn, sink, 0, 1, since});
    return {sink, conn};
  }

  /// `conn` joins again with `request_id`, sent and not yet handled.
  std::shared_ptr<recording_sink> send_join_as(const caf::actor& conn,
                                               int64_t request_id,
                                               std::optional<int64_t> since) {
    auto sink = std::make_shared<recording_sink>();
    caf::anon_send(channel, channel_join_atom::value,
                   channel_join{conn, sink, 0, request_id, since});
    return sink;
  }

  void leave(const caf::actor& conn) {
    caf::anon_send(channel, channel_leave_atom::value, conn);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(channel_tests, fixture)

CAF_TEST(live messages follow the chain; a gap is read from the history) {
  auto sink = join(std::nullopt);
  publish(200);
  publish(300);
  arrives(300); // Pub/Sub lost 200: read from the history first
  arrives(200); // late: a duplicate
  CAF_CHECK_EQUAL(sink->pushes, (std::vector<int64_t>{200, 300}));
}

CAF_TEST(a message that follows the last one goes out without asking Redis) {
  auto sink = join(std::nullopt);
  publish(200);
  caf::anon_send(channel, redis_msg_atom::value, std::string{"t:ch:books:1"},
                 "200 100 e " + message(200));
  expect((redis_msg_atom, std::string, std::string), to(channel));
  disallow((redis_cmd_atom, redis_command), from(channel).to(bridge));
  CAF_CHECK_EQUAL(sink->pushes, std::vector<int64_t>{200});
}

CAF_TEST(a message past a gap waits while the channel reads the gap) {
  auto sink = join(std::nullopt);
  publish(200);
  publish(300);
  caf::anon_send(channel, redis_msg_atom::value, std::string{"t:ch:books:1"},
                 "300 200 e " + message(300));
  expect((redis_msg_atom, std::string, std::string), to(channel));
  CAF_CHECK(sink->pushes.empty()); // 300 waits for 200
  expect((redis_cmd_atom, redis_command), from(channel).to(bridge)); // XRANGE
  settle();
  CAF_CHECK_EQUAL(sink->pushes, (std::vector<int64_t>{200, 300}));
}

CAF_TEST(
    a resume from past what this node delivered waits and repeats nothing) {
  publish(200); // delivered through another node, not yet through this one
  auto sink = join(200);
  CAF_REQUIRE_EQUAL(sink->replies.size(), 1u);
  CAF_CHECK(sink->replies[0].find("\"recovered\":true") != std::string::npos);
  CAF_CHECK(sink->replies[0].find("\"offset\":\"200\"") != std::string::npos);
  arrives(200); // Pub/Sub catches up: the client saw it already
  publish(300);
  arrives(300);
  CAF_CHECK_EQUAL(sink->pushes, std::vector<int64_t>{300});
}

CAF_TEST(a resume from an offset the channel never had joins not recovered) {
  auto sink = join(150); // between 100 and the next
  CAF_REQUIRE_EQUAL(sink->replies.size(), 1u);
  CAF_CHECK(sink->replies[0].find("\"recovered\":false") != std::string::npos);
  auto beyond = join(999'999);
  CAF_REQUIRE_EQUAL(beyond->replies.size(), 1u);
  CAF_CHECK(beyond->replies[0].find("\"recovered\":false") !=
            std::string::npos);
  publish(200);
  arrives(200);
  CAF_CHECK_EQUAL(sink->pushes, std::vector<int64_t>{200});
  CAF_CHECK_EQUAL(beyond->pushes, std::vector<int64_t>{200});
}

CAF_TEST(a waiting resume whose offset never arrives joins after ahead_wait) {
  publish(200);
  state().history.erase(200); // the history lost it; Pub/Sub never brings it
  auto sink = join(200);
  CAF_CHECK(sink->replies.empty()); // waiting for delivery to reach 200
  advance_time(std::chrono::seconds{5});
  settle();
  CAF_REQUIRE_EQUAL(sink->replies.size(), 1u);
  CAF_CHECK(sink->replies[0].find("\"recovered\":false") != std::string::npos);
  publish(300);
  arrives(300);
  CAF_CHECK_EQUAL(sink->pushes, std::vector<int64_t>{300});
}

CAF_TEST(a resume waiting for Redis keeps the channel from going idle) {
  // The last subscriber leaves while a resume's check is with Redis (their
  // connections run on different loops, so nothing orders the two): the
  // registry must not be told the channel is idle, or it retires the
  // channel with the resume half done and the stream never hears back.
  auto [first, first_conn] = send_join(std::nullopt);
  settle();
  publish(200);
  arrives(200);
  auto [resumer, resumer_conn] = send_join(100);
  expect((channel_join_atom, channel_join), to(channel));
  leave(first_conn);
  expect((redis_cmd_atom, redis_command), from(channel).to(bridge));
  expect((channel_leave_atom, caf::actor), to(channel)); // before the answer
  disallow((channel_idle_atom, std::string, uint64_t),
           from(channel).to(registry));
  settle();
  CAF_REQUIRE_EQUAL(resumer->replies.size(), 1u);
  CAF_CHECK(resumer->replies[0].find("\"recovered\":true") !=
            std::string::npos);
  CAF_CHECK_EQUAL(resumer->pushes, std::vector<int64_t>{200});
  publish(300);
  arrives(300);
  CAF_CHECK_EQUAL(resumer->pushes, (std::vector<int64_t>{200, 300}));
  CAF_CHECK_EQUAL(first->pushes, std::vector<int64_t>{200});
}

CAF_TEST(a resume whose connection left while Redis answered is dropped) {
  publish(200);
  arrives(200);
  auto [resumer, conn] = send_join(100);
  expect((channel_join_atom, channel_join), to(channel));
  leave(conn);
  expect((redis_cmd_atom, redis_command), from(channel).to(bridge));
  expect((channel_leave_atom, caf::actor), to(channel));
  // Nothing left to wait for: the channel is idle now, not after Redis.
  expect((channel_idle_atom, std::string, uint64_t),
         from(channel).to(registry));
  settle();
  publish(300);
  arrives(300);
  CAF_CHECK(resumer->replies.empty());
  CAF_CHECK(resumer->pushes.empty());
}

CAF_TEST(a connection that left and joined again during a resume gets its second
             join) {
  // Redis answers the first join's check after the connection has left and
  // joined again: that answer belongs to the join that left, and must not be
  // taken for the new one (whose reply carries the new request id).
  publish(200);
  arrives(200);
  auto [first, conn] = send_join(100);
  expect((channel_join_atom, channel_join), to(channel));
  leave(conn);
  auto second = send_join_as(conn, 2, 100);
  expect((channel_leave_atom, caf::actor), to(channel));
  expect((channel_join_atom, channel_join), to(channel));
  settle(); // Redis answers both checks, the first one first
  CAF_CHECK(first->replies.empty());
  CAF_REQUIRE_EQUAL(second->replies.size(), 1u);
  CAF_CHECK(second->replies[0].find("\"id\":2") != std::string::npos);
  CAF_CHECK_EQUAL(second->pushes, std::vector<int64_t>{200});
}

CAF_TEST_FIXTURE_SCOPE_END()
