// user_registry_test — the user_registry actor (with real user
// actors) on CAF's deterministic scheduler, over the in-memory Redis twin: a
// user's actor is spawned by their first connection and retired, its
// control subscription dropped, when the last one left; a join crossing the
// idle report is not lost; a logout reaches the user's actor.
#define CAF_SUITE user_registry
#include "switchboard/atoms.hpp"
#include "switchboard/session_keys.hpp"

#include "actors/user_registry/user_registry.hpp"
#include "caf/test/dsl.hpp"
#include "twins/live_stand_ins.hpp"
#include "twins/memory_redis.hpp"

using namespace switchboard;

namespace {

using twins::connection_state;
using twins::stand_in_connection;

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  caf::actor redis = sys.spawn(twins::memory_redis, std::string{"redis"});
  caf::actor registry;

  fixture() {
    state().scripts_ok = true; // presence scripts: not what is tested here
    user_registry_config cfg;
    cfg.redis_bridge = redis;
    cfg.key_prefix = "t:";
    registry = spawn_user_registry(sys, stats, cfg);
    consume_messages();
  }

  twins::memory_redis_state& state() {
    return deref<caf::stateful_actor<twins::memory_redis_state>>(redis).state;
  }

  int64_t users_alive() { return stats->of(actor_kind::user).count; }

  std::size_t listeners(int64_t user) {
    return state().subscribers[sessions::control_channel("t:", user)].size();
  }

  caf::actor connection() {
    return sys.spawn(stand_in_connection, std::string{"conn"});
  }

  /// The user's actor: the one listening on the user's control channel.
  caf::actor user_actor_of(int64_t user) {
    auto& subs = state().subscribers[sessions::control_channel("t:", user)];
    CAF_REQUIRE_EQUAL(subs.size(), 1u);
    return subs.front();
  }

  int logouts(const caf::actor& conn) {
    return deref<caf::stateful_actor<connection_state>>(conn).state.logouts;
  }

  void join(int64_t user, const std::string& token, const caf::actor& conn) {
    state().strings[sessions::token_key("t:", token)] = std::to_string(user);
    caf::anon_send(registry, user_join_atom::value, user, token, conn);
  }

  void leave(int64_t user, const caf::actor& conn) {
    caf::anon_send(registry, user_leave_atom::value, user, conn);
  }

  ~fixture() {
    caf::anon_send_exit(registry, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(user_registry_tests, fixture)

CAF_TEST(a user actor lives from the first connection of its user to the last) {
  auto a = connection();
  auto b = connection();
  join(7, "t1", a);
  join(7, "t2", b);
  consume_messages();
  CAF_CHECK_EQUAL(users_alive(), 1);
  CAF_CHECK_EQUAL(listeners(7), 1u);
  leave(7, a);
  consume_messages();
  CAF_CHECK_EQUAL(users_alive(), 1);
  leave(7, b);
  consume_messages();
  CAF_CHECK_EQUAL(users_alive(), 0);
  CAF_CHECK_EQUAL(listeners(7), 0u);
}

CAF_TEST(a join that crosses the idle report is not lost) {
  auto a = connection();
  auto b = connection();
  join(7, "t1", a);
  leave(7, a);
  join(7, "t2", b); // all three before anything is handled
  consume_messages();
  CAF_CHECK_EQUAL(users_alive(), 1);
  CAF_CHECK_EQUAL(listeners(7), 1u);
  caf::anon_send(registry, logout_atom::value, int64_t{7}, std::string{"t2"});
  consume_messages();
  CAF_CHECK_EQUAL(logouts(b), 1);
  CAF_CHECK_EQUAL(logouts(a), 0);
}

// The same race as above, step by step: the user actor reports idle after
// handling 2 of the 3 messages the registry forwarded, so the registry
// must not retire it (the join of b is in its mailbox).
CAF_TEST(an idle report that crossed a forwarded join retires nothing) {
  auto a = connection();
  auto b = connection();
  join(7, "t1", a);
  consume_messages();
  auto user = user_actor_of(7);
  leave(7, a);
  join(7, "t2", b);
  expect((user_leave_atom, int64_t, caf::actor), to(registry));
  expect((user_join_atom, int64_t, std::string, caf::actor), to(registry));
  expect((user_leave_atom, caf::actor), from(registry).to(user));
  expect((user_idle_atom, int64_t, uint64_t),
         from(user).to(registry).with(_, int64_t{7}, uint64_t{2}));
  disallow((user_stop_atom), from(registry).to(user));
  expect((user_join_atom, std::string, caf::actor),
         from(registry).to(user).with(_, std::string{"t2"}, b));
  consume_messages();
  CAF_CHECK_EQUAL(users_alive(), 1);
  // Once it has handled all three, its report retires it.
  leave(7, b);
  expect((user_leave_atom, int64_t, caf::actor), to(registry));
  expect((user_leave_atom, caf::actor), from(registry).to(user));
  expect((user_idle_atom, int64_t, uint64_t),
         from(user).to(registry).with(_, int64_t{7}, uint64_t{4}));
  expect((user_stop_atom), from(registry).to(user));
  consume_messages();
  CAF_CHECK_EQUAL(users_alive(), 0);
}

CAF_TEST(users are kept apart) {
  auto a = connection();
  auto b = connection();
  join(7, "t1", a);
  join(8, "t2", b);
  consume_messages();
  CAF_CHECK_EQUAL(users_alive(), 2);
  caf::anon_send(registry, logout_atom::value, int64_t{8}, std::string{"t2"});
  consume_messages();
  CAF_CHECK_EQUAL(logouts(a), 0);
  CAF_CHECK_EQUAL(logouts(b), 1);
}

CAF_TEST_FIXTURE_SCOPE_END()
