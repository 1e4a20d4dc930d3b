// redis_bridge_test — the redis_bridge actor on CAF's deterministic
// scheduler, over two in-memory links (twins/memory_link.hpp) the test plays
// Redis on: a subscriber hears redis_resub only once Redis confirmed its
// channel's SUBSCRIBE (told earlier it could read the offset before Redis
// listens, and miss what comes between: the race of 4b20eeb); a lost
// subscription is said, and the resubscription too; a command Redis never
// answers is answered unavailable after command_timeout; a probe that does
// not come back within probe_timeout reconnects the subscriber link.
#define CAF_SUITE redis_bridge
#include "switchboard/atoms.hpp"

#include "actors/redis_bridge/redis_bridge.hpp"
#include "caf/test/dsl.hpp"
#include "twins/memory_link.hpp"

#include <vector>

using namespace switchboard;

namespace {

/// A subscriber of one channel: records what the bridge tells it.
struct listener_state {
  std::vector<std::string> heard; // "resub", "lost", "msg:<payload>"
};

caf::behavior listener(caf::stateful_actor<listener_state>* self,
                       caf::actor bridge, std::string channel) {
  self->send(bridge, redis_sub_atom::value, channel);
  return {
      [=](redis_resub_atom) { self->state.heard.push_back("resub"); },
      [=](redis_lost_atom) { self->state.heard.push_back("lost"); },
      [=](redis_msg_atom, const std::string&, const std::string& payload) {
        self->state.heard.push_back("msg:" + payload);
      },
      [=](redis_up_atom) {},
      [=](redis_down_atom) {},
  };
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  std::shared_ptr<twins::memory_link> commands =
      std::make_shared<twins::memory_link>();
  std::shared_ptr<twins::memory_link> subscriber =
      std::make_shared<twins::memory_link>();
  caf::actor bridge;

  fixture() {
    redis_bridge_config cfg;
    cfg.probe_channel = "t:n:1:probe";
    cfg.probe_interval = std::chrono::milliseconds{1000};
    cfg.probe_timeout = std::chrono::milliseconds{3000};
    cfg.command_timeout = std::chrono::milliseconds{1000};
    bridge = spawn_redis_bridge(sys, stats, commands, subscriber, cfg);
    consume_messages();
    commands->set_up(true);
    subscriber->set_up(true);
    consume_messages();
  }

  caf::actor listen(const std::string& channel) {
    auto who = sys.spawn(listener, bridge, channel);
    consume_messages();
    return who;
  }

  std::vector<std::string>& heard(const caf::actor& who) {
    return deref<caf::stateful_actor<listener_state>>(who).state.heard;
  }

  /// One probe_interval later.
  void later() {
    advance_time(std::chrono::milliseconds{1000});
    consume_messages();
  }

  ~fixture() {
    caf::anon_send_exit(bridge, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(redis_bridge_tests, fixture)

CAF_TEST(a subscriber is told it listens only once Redis confirmed) {
  auto who = listen("t:ch:books:1");
  CAF_CHECK_EQUAL(subscriber->channels.count("t:ch:books:1"), 1u);
  CAF_CHECK(heard(who).empty()); // SUBSCRIBE sent, not confirmed yet
  subscriber->confirm("t:ch:books:1");
  consume_messages();
  CAF_CHECK_EQUAL(heard(who), std::vector<std::string>{"resub"});
  subscriber->deliver("t:ch:books:1", "5 0 e {}");
  consume_messages();
  CAF_CHECK_EQUAL(heard(who),
                  (std::vector<std::string>{"resub", "msg:5 0 e {}"}));
  // A second subscriber of a confirmed channel learns so at once.
  auto late = listen("t:ch:books:1");
  CAF_CHECK_EQUAL(heard(late), std::vector<std::string>{"resub"});
}

CAF_TEST(a lost subscription is said and so is its return ) {
  auto who = listen("t:ch:books:1");
  subscriber->confirm("t:ch:books:1");
  consume_messages();
  subscriber->set_up(false);
  consume_messages();
  CAF_CHECK_EQUAL(heard(who), (std::vector<std::string>{"resub", "lost"}));
  CAF_CHECK(!stats->pubsub_up.load());
  subscriber->set_up(true); // reconnected: the link resubscribes itself
  consume_messages();
  CAF_CHECK_EQUAL(heard(who),
                  (std::vector<std::string>{"resub", "lost", "resub"}));
  CAF_CHECK(stats->pubsub_up.load());
}

CAF_TEST(a command Redis never answers is answered unavailable in time) {
  std::vector<redis_reply> replies;
  auto asker = sys.spawn(
      [&](caf::event_based_actor* self, std::string) {
        self->request(bridge, caf::infinite, redis_cmd_atom::value,
                      redis_command{"GET", "k"})
            .then([&](redis_reply& r) { replies.push_back(std::move(r)); });
      },
      std::string{"asker"});
  consume_messages();
  CAF_CHECK(replies.empty());
  later(); // the probe tick sweeps commands past command_timeout
  later();
  CAF_REQUIRE_EQUAL(replies.size(), 1u);
  CAF_CHECK(replies[0].type == redis_reply::kind::unavailable);
  // Redis's late answer finds nobody waiting.
  while (!commands->sent.empty())
    commands->answer(redis_reply{});
  consume_messages();
  CAF_CHECK_EQUAL(replies.size(), 1u);
  caf::anon_send_exit(asker, caf::exit_reason::user_shutdown);
}

CAF_TEST(a probe that does not come back reconnects the subscriber) {
  // The probe goes out as a PUBLISH on the command link...
  auto probes = [&] {
    int n = 0;
    for (auto& [cmd, handler] : commands->sent)
      n += cmd.at(0) == "PUBLISH" && cmd.at(1) == "t:n:1:probe";
    return n;
  };
  later(); // the first probe tick came before the links were up
  CAF_CHECK_EQUAL(probes(), 1);
  // ...and coming back on the subscriber proves the subscription live.
  subscriber->deliver("t:n:1:probe", "probe 1");
  consume_messages();
  later();
  CAF_CHECK_EQUAL(probes(), 2);
  CAF_CHECK(subscriber->reconnects.empty());
  // This one never comes back.
  for (int i = 0; i < 4; ++i)
    later();
  CAF_CHECK_EQUAL(subscriber->reconnects,
                  std::vector<std::string>{"probe lost"});
}

CAF_TEST_FIXTURE_SCOPE_END()
