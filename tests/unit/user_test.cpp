// user_test — the user actor on CAF's deterministic scheduler, over
// the in-memory Redis twin (twins/memory_redis.hpp): a token is trusted only
// once the control subscription proved live (its hello came back) and the
// token was then found in Redis; a hello lost on the way is sent again; a
// logout message closes that token's connections and no others; the
// periodic re-check closes a token that ended without a message.
#define CAF_SUITE user
#include "switchboard/atoms.hpp"
#include "switchboard/session_keys.hpp"

#include "actors/user/user.hpp"
#include "caf/test/dsl.hpp"
#include "twins/live_stand_ins.hpp"
#include "twins/memory_redis.hpp"

#include <vector>

using namespace switchboard;

namespace {

using twins::connection_state;
using twins::stand_in_connection;

/// Spawns the user actor as the registry would, and stays its parent.
caf::behavior stand_in_registry(caf::event_based_actor* self,
                                std::shared_ptr<node_stats> stats,
                                user_config config, caf::actor* out) {
  *out = spawn_user(self, std::move(stats), std::move(config));
  return {[](user_idle_atom, int64_t, uint64_t) {
  }};
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  caf::actor redis = sys.spawn(twins::memory_redis, std::string{"redis"});
  caf::actor user_actor;
  caf::actor registry;

  twins::memory_redis_state& state() {
    return deref<caf::stateful_actor<twins::memory_redis_state>>(redis).state;
  }

  /// Spawns user 7's actor (through the stand-in registry); its first
  /// messages are left for the test to run.
  void spawn_user_actor() {
    user_config cfg;
    cfg.user_id = 7;
    cfg.prefix = "t:";
    cfg.redis_bridge = redis;
    cfg.token_check = std::chrono::seconds{30};
    registry = sys.spawn(stand_in_registry, stats, cfg, &user_actor);
  }

  void start() {
    spawn_user_actor();
    consume_messages();
  }

  void live_token(const std::string& token) {
    state().strings[sessions::token_key("t:", token)] = "7";
  }

  caf::actor join(const std::string& token) {
    auto conn = sys.spawn(stand_in_connection, std::string{"conn"});
    caf::anon_send(user_actor, user_join_atom::value, token, conn);
    consume_messages();
    return conn;
  }

  int logouts(const caf::actor& conn) {
    return deref<caf::stateful_actor<connection_state>>(conn).state.logouts;
  }

  int published_hellos() {
    int n = 0;
    for (auto& cmd : state().commands)
      n += cmd.at(0) == "PUBLISH" && cmd.at(2).rfind("hello ", 0) == 0;
    return n;
  }

  ~fixture() {
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(user_tests, fixture)

CAF_TEST(a token already gone when the subscription proves live is closed) {
  live_token("good");
  start(); // subscribed and hello sent; it comes back at once
  auto good = join("good");
  auto gone = join("gone"); // its key is not in Redis
  CAF_CHECK_EQUAL(logouts(good), 0);
  CAF_CHECK_EQUAL(logouts(gone), 1);
}

CAF_TEST(
    a hello lost on the way is sent again and then the tokens are checked) {
  state().drop_publishes = 1;
  start();
  auto gone = join("gone");
  CAF_CHECK_EQUAL(published_hellos(), 1);
  CAF_CHECK_EQUAL(logouts(gone), 0); // not trusted, not checked yet
  advance_time(std::chrono::milliseconds{250});
  consume_messages();
  CAF_CHECK_EQUAL(published_hellos(), 2);
  CAF_CHECK_EQUAL(logouts(gone), 1);
}

CAF_TEST(a logout message closes the connections of that token and no others) {
  live_token("a");
  live_token("b");
  start();
  auto a1 = join("a");
  auto a2 = join("a");
  auto b = join("b");
  state().strings.erase(sessions::token_key("t:", "a"));
  caf::anon_send(
      redis, redis_cmd_atom::value,
      redis_command{"PUBLISH", sessions::control_channel("t:", 7), "logout a"});
  consume_messages();
  CAF_CHECK_EQUAL(logouts(a1), 1);
  CAF_CHECK_EQUAL(logouts(a2), 1);
  CAF_CHECK_EQUAL(logouts(b), 0);
}

// The messages themselves: Redis delivers the logout to the user actor,
// which tells the connections opened with that token and asks Redis
// nothing (the message is the proof); the others hear nothing.
CAF_TEST(a logout goes from the bridge to the token connections only) {
  live_token("a");
  live_token("b");
  start();
  auto a = join("a");
  auto b = join("b");
  auto channel = sessions::control_channel("t:", 7);
  caf::anon_send(redis, redis_cmd_atom::value,
                 redis_command{"PUBLISH", channel, "logout a"});
  expect((redis_cmd_atom, redis_command), to(redis));
  expect((redis_msg_atom, std::string, std::string),
         from(redis).to(user_actor).with(_, channel, std::string{"logout a"}));
  disallow((redis_cmd_atom, redis_command), from(user_actor).to(redis));
  expect((logout_atom), from(user_actor).to(a));
  disallow((logout_atom), from(user_actor).to(b));
}

// Until its hello comes back, the user actor cannot know its subscription
// is live, so it checks no token; the hello's return starts the checks.
CAF_TEST(tokens are checked once the hello came back and not before) {
  live_token("a");
  spawn_user_actor();
  while (!user_actor && sched.try_run_once()) {
  } // the registry spawned it; now let it start
  CAF_REQUIRE(user_actor);
  sched.prioritize(user_actor);
  sched.run_once();
  expect((redis_sub_atom, std::string), from(user_actor).to(redis));
  expect((redis_resub_atom), from(redis).to(user_actor));
  // The hello is on its way to Redis; a joiner's token waits for it.
  auto conn = sys.spawn(stand_in_connection, std::string{"conn"});
  caf::anon_send(user_actor, user_join_atom::value, std::string{"a"}, conn);
  expect((user_join_atom, std::string, caf::actor), to(user_actor));
  expect((redis_cmd_atom, redis_command), from(user_actor).to(redis));
  CAF_REQUIRE_EQUAL(state().commands.size(), 1u); // the hello, nothing else
  CAF_CHECK_EQUAL(state().commands.back().at(0), "PUBLISH");
  disallow((redis_cmd_atom, redis_command), from(user_actor).to(redis));
  expect((redis_msg_atom, std::string, std::string),
         from(redis).to(user_actor));
  // Now the token is checked: EXISTS, found, nothing closes.
  expect((redis_cmd_atom, redis_command), from(user_actor).to(redis));
  CAF_CHECK_EQUAL(state().commands.back().at(0), "EXISTS");
  consume_messages();
  CAF_CHECK_EQUAL(logouts(conn), 0);
}

CAF_TEST(the periodic re - check closes a token that ended without a message) {
  live_token("a");
  start();
  auto a = join("a");
  CAF_CHECK_EQUAL(logouts(a), 0);
  state().strings.erase(sessions::token_key("t:", "a")); // expired unused
  advance_time(std::chrono::seconds{30});
  consume_messages();
  CAF_CHECK_EQUAL(logouts(a), 1);
}

CAF_TEST_FIXTURE_SCOPE_END()
