// channel_registry_test — the channel_registry actor (with real channel
// actors) on CAF's deterministic scheduler, over the in-memory Redis twin: a
// channel is spawned by its first joiner and retired, its subscription
// dropped, when the last one left; a join that crosses the channel's "I am
// idle" report is not lost (retirement is exact: only when every join and
// leave forwarded was handled).
#define CAF_SUITE channel_registry
#include "switchboard/atoms.hpp"
#include "switchboard/live.hpp"

#include "actors/channel_registry/channel_registry.hpp"
#include "caf/test/dsl.hpp"
#include "twins/live_stand_ins.hpp"
#include "twins/memory_redis.hpp"

#include <vector>

using namespace switchboard;

namespace {

using twins::recording_sink;
using twins::stand_in_connection;

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  caf::actor redis = sys.spawn(twins::memory_redis, std::string{"redis"});
  caf::actor registry = spawn_channel_registry(sys, stats, [this] {
    channel_registry_config cfg;
    cfg.redis_bridge = redis;
    cfg.key_prefix = "t:";
    return cfg;
  }());

  twins::memory_redis_state& state() {
    return deref<caf::stateful_actor<twins::memory_redis_state>>(redis).state;
  }

  int64_t channels() const {
    return stats->of(actor_kind::channel).count.load();
  }

  std::size_t listeners(const std::string& channel) {
    return state().subscribers["t:ch:" + channel].size();
  }

  caf::actor connection() {
    return sys.spawn(stand_in_connection, std::string{"conn"});
  }

  void join(const std::string& channel, const caf::actor& conn,
            std::shared_ptr<recording_sink> sink) {
    caf::anon_send(registry, channel_join_atom::value, channel,
                   channel_join{conn, std::move(sink), 0, 1, std::nullopt});
  }

  void leave(const std::string& channel, const caf::actor& conn) {
    caf::anon_send(registry, channel_leave_atom::value, channel, conn);
  }

  void publish(const std::string& channel, int64_t offset, int64_t previous) {
    caf::anon_send(redis, redis_cmd_atom::value,
                   redis_command{"PUBLISH", "t:ch:" + channel,
                                 std::to_string(offset) + " " +
                                     std::to_string(previous) + " e {}"});
    consume_messages();
  }

  ~fixture() {
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(channel_registry_tests, fixture)

CAF_TEST(a channel lives from its first joiner to its last leaver) {
  auto sink = std::make_shared<recording_sink>();
  auto conn = connection();
  join("books:1", conn, sink);
  consume_messages();
  CAF_CHECK_EQUAL(channels(), 1);
  CAF_CHECK_EQUAL(listeners("books:1"), 1u);
  CAF_CHECK_EQUAL(sink->replies.size(), 1u);
  publish("books:1", 5, 0);
  CAF_CHECK_EQUAL(sink->pushes, std::vector<int64_t>{5});
  leave("books:1", conn);
  consume_messages();
  CAF_CHECK_EQUAL(channels(), 0);
  CAF_CHECK_EQUAL(listeners("books:1"), 0u);
}

CAF_TEST(a join that crosses the idle report is not lost) {
  auto first = std::make_shared<recording_sink>();
  auto second = std::make_shared<recording_sink>();
  auto a = connection();
  auto b = connection();
  join("books:1", a, first);
  leave("books:1", a);
  join("books:1", b, second); // all three before anything is handled
  consume_messages();
  CAF_CHECK_EQUAL(channels(), 1);
  CAF_CHECK_EQUAL(listeners("books:1"), 1u);
  CAF_CHECK_EQUAL(second->replies.size(), 1u);
  publish("books:1", 5, 0);
  CAF_CHECK_EQUAL(second->pushes, std::vector<int64_t>{5});
  CAF_CHECK(first->pushes.empty());
}

CAF_TEST(channels are kept apart) {
  auto one = std::make_shared<recording_sink>();
  auto two = std::make_shared<recording_sink>();
  auto conn = connection();
  join("books:1", conn, one);
  join("books:2", conn, two);
  consume_messages();
  CAF_CHECK_EQUAL(channels(), 2);
  publish("books:2", 9, 0);
  CAF_CHECK(one->pushes.empty());
  CAF_CHECK_EQUAL(two->pushes, std::vector<int64_t>{9});
  leave("books:1", conn);
  consume_messages();
  CAF_CHECK_EQUAL(channels(), 1);
}

CAF_TEST_FIXTURE_SCOPE_END()
