// feed_keeper_test — the feed_keeper actor on CAF's deterministic scheduler,
// against a stand-in bridge that fails as long as it is told to: a suspect
// feed is dropped (its generation moved, list and count gone) and retried
// each retry_every until Redis confirms; a user suspected again while its
// drop is in flight is dropped once more; the set is bounded and what it
// refuses is counted. The drop script itself runs against the real Redis in
// tests/integration/platform_notifications.test.mjs.
#define CAF_SUITE feed_keeper
#include "switchboard/atoms.hpp"
#include "switchboard/redis.hpp"

#include "actors/feed_keeper/feed_keeper.hpp"
#include "caf/test/dsl.hpp"

#include <vector>

using namespace switchboard;

namespace {

using release_atom = caf::atom_constant<caf::atom("release")>;

struct failing_bridge_state {
  int failures_left = 0;               // answer this many with an error
  std::vector<redis_command> commands; // every command received
  bool hold = false;                   // keep replies until release_atom
  std::vector<caf::response_promise> held;
  std::string label; // CAF 0.17 needs an argument (see cache_test.cpp)
};

redis_reply ok_reply() {
  redis_reply r;
  r.type = redis_reply::kind::integer;
  r.integer = 1;
  return r;
}

caf::behavior failing_bridge(caf::stateful_actor<failing_bridge_state>* self,
                             std::string label) {
  self->state.label = std::move(label);
  return {
      [=](redis_cmd_atom, redis_command& cmd) -> caf::result<redis_reply> {
        auto& st = self->state;
        st.commands.push_back(cmd);
        if (st.failures_left > 0) {
          --st.failures_left;
          return redis_reply::unavailable_reply("down");
        }
        if (st.hold) {
          auto promise = self->make_response_promise<redis_reply>();
          st.held.push_back(promise);
          return promise;
        }
        return ok_reply();
      },
      [=](release_atom) {
        auto& st = self->state;
        st.hold = false;
        for (auto& promise : st.held)
          promise.deliver(ok_reply());
        st.held.clear();
      },
  };
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  caf::actor bridge = sys.spawn(failing_bridge, std::string{"bridge"});
  caf::actor keeper = spawn_feed_keeper(sys, stats, [this] {
    feed_keeper_config cfg;
    cfg.redis_bridge = bridge;
    cfg.key_prefix = "t:";
    cfg.max_suspects = 2;
    cfg.retry_every = std::chrono::milliseconds{1000};
    cfg.redis_timeout = std::chrono::hours{1}; // never, within a test
    return cfg;
  }());

  /// Every actor consumes its mailbox; no clock moves (timers wait for
  /// `later`).
  void settle() { consume_messages(); }

  /// The clock moves on by one retry_every.
  void later() {
    advance_time(std::chrono::milliseconds{1000});
    settle();
  }

  failing_bridge_state& redis() {
    return deref<caf::stateful_actor<failing_bridge_state>>(bridge).state;
  }

  /// The users the drops sent so far were for (KEYS[1] is "t:nl:<user>").
  std::vector<std::string> dropped_lists() {
    std::vector<std::string> out;
    for (auto& cmd : redis().commands)
      out.push_back(cmd.at(3));
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(feed_keeper_tests, fixture)

CAF_TEST(a suspect feed is dropped once Redis confirms) {
  caf::anon_send(keeper, feed_suspect_atom::value, int64_t{7});
  settle();
  CAF_CHECK_EQUAL(dropped_lists(), std::vector<std::string>{"t:nl:7"});
  auto& cmd = redis().commands.at(0);
  CAF_CHECK_EQUAL(cmd.at(4), "t:nu:7");
  CAF_CHECK_EQUAL(cmd.at(5), "t:ng:7");
  CAF_CHECK_EQUAL(stats->feeds.repaired.load(), 1u);
  CAF_CHECK_EQUAL(stats->feeds.suspect.load(), 0);
}

CAF_TEST(a failed drop is retried each retry_every until it succeeds) {
  redis().failures_left = 2;
  caf::anon_send(keeper, feed_suspect_atom::value, int64_t{7});
  settle();
  CAF_CHECK_EQUAL(redis().commands.size(), 1u);
  CAF_CHECK_EQUAL(stats->feeds.suspect.load(), 1);
  CAF_CHECK_EQUAL(stats->feeds.repaired.load(), 0u);
  later();
  CAF_CHECK_EQUAL(redis().commands.size(), 2u);
  later();
  CAF_CHECK_EQUAL(redis().commands.size(), 3u);
  CAF_CHECK_EQUAL(stats->feeds.repaired.load(), 1u);
  CAF_CHECK_EQUAL(stats->feeds.suspect.load(), 0);
  // Nothing left to drop: time passing sends nothing more.
  later();
  CAF_CHECK_EQUAL(redis().commands.size(), 3u);
}

CAF_TEST(a user suspected again while its drop is in flight is dropped again) {
  redis().hold = true;
  caf::anon_send(keeper, feed_suspect_atom::value, int64_t{7});
  settle();
  CAF_CHECK_EQUAL(redis().commands.size(), 1u); // in flight, unanswered
  caf::anon_send(keeper, feed_suspect_atom::value, int64_t{7});
  settle();
  CAF_CHECK_EQUAL(redis().commands.size(), 1u); // not twice at once
  caf::anon_send(bridge, release_atom::value);
  settle();
  CAF_CHECK_EQUAL(dropped_lists(),
                  (std::vector<std::string>{"t:nl:7", "t:nl:7"}));
  CAF_CHECK_EQUAL(stats->feeds.suspect.load(), 0);
}

CAF_TEST(past max_suspects a suspect is refused and counted) {
  redis().hold = true;
  for (int64_t user : {1, 2, 3})
    caf::anon_send(keeper, feed_suspect_atom::value, user);
  settle();
  CAF_CHECK_EQUAL(stats->feeds.unrepaired.load(), 1u);
  CAF_CHECK_EQUAL(stats->feeds.suspect.load(), 2);
  caf::anon_send(bridge, release_atom::value);
  settle();
  CAF_CHECK_EQUAL(dropped_lists(),
                  (std::vector<std::string>{"t:nl:1", "t:nl:2"}));
  CAF_CHECK_EQUAL(stats->feeds.repaired.load(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
