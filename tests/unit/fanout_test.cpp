// fanout_test — the fanout actor on CAF's deterministic scheduler, with a
// scripted database (it answers the fan-out jobs by name) and the in-memory
// Redis twin: a claimed job is worked through batch by batch, and the next
// batch is asked for only once Redis has answered every command of the one
// before (bounded work in flight); each follower gets a feed push and a
// notification.created publish; a feed push that fails hands the follower's
// feed to the feed_keeper. The SQL runs against the real PostgreSQL in
// tests/integration (platform_follows).
#define CAF_SUITE fanout
#include "switchboard/atoms.hpp"
#include "switchboard/db.hpp"

#include "actors/fanout/fanout.hpp"
#include "caf/test/dsl.hpp"
#include "twins/memory_redis.hpp"

#include <boost/json.hpp>

#include <deque>
#include <vector>

using namespace switchboard;

namespace {

/// Answers claim_fanout_job with job 1 once, run_fanout_batch with the
/// batches it was given, in order; counts what it was asked.
struct scripted_database_state {
  bool job_pending = true;
  std::deque<boost::json::value> batches;
  int batches_asked = 0;
  std::string label; // CAF 0.17 needs an argument (see cache_test.cpp)
};

caf::behavior
scripted_database(caf::stateful_actor<scripted_database_state>* self,
                  std::string label) {
  self->state.label = std::move(label);
  return {[=](db_run_atom, db_job& job) -> db_result {
    auto& st = self->state;
    if (job.name == "claim_fanout_job") {
      if (!st.job_pending)
        return {db_status::not_found, {}, "no job"};
      st.job_pending = false;
      return {db_status::ok, boost::json::object{{"job_id", 1}}, {}};
    }
    if (job.name == "run_fanout_batch") {
      ++st.batches_asked;
      if (st.batches.empty())
        return {db_status::not_found, {}, "finished"};
      auto batch = std::move(st.batches.front());
      st.batches.pop_front();
      return {db_status::ok, std::move(batch), {}};
    }
    return {db_status::ok, {}, {}}; // forget_done_fanout
  }};
}

struct keeper_state {
  std::vector<int64_t> suspects;
};

caf::behavior stand_in_keeper(caf::stateful_actor<keeper_state>* self,
                              std::string) {
  return {[=](feed_suspect_atom, int64_t user) {
    self->state.suspects.push_back(user);
  }};
}

boost::json::value batch(std::vector<int64_t> users, bool done) {
  boost::json::array notified;
  for (auto user : users)
    notified.push_back(boost::json::object{
        {"user_id", user},
        {"notification", boost::json::object{{"id", user * 10},
                                             {"kind", "new_chapter"},
                                             {"read", false}}}});
  return boost::json::object{{"notified", std::move(notified)}, {"done", done}};
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  caf::actor redis = sys.spawn(twins::memory_redis, std::string{"redis"});
  caf::actor database = sys.spawn(scripted_database, std::string{"db"});
  caf::actor keeper = sys.spawn(stand_in_keeper, std::string{"keeper"});
  caf::actor fanout;

  void start() {
    fanout_config cfg;
    cfg.feed_keeper = keeper;
    cfg.db_pool = database;
    cfg.redis_bridge = redis;
    cfg.node_id = "n1";
    cfg.key_prefix = "t:";
    fanout = spawn_fanout(sys, stats, cfg);
    consume_messages();
  }

  twins::memory_redis_state& redis_state() {
    return deref<caf::stateful_actor<twins::memory_redis_state>>(redis).state;
  }
  scripted_database_state& db() {
    return deref<caf::stateful_actor<scripted_database_state>>(database).state;
  }
  std::vector<int64_t>& suspects() {
    return deref<caf::stateful_actor<keeper_state>>(keeper).state.suspects;
  }

  /// The keys of the Redis commands sent so far (KEYS[1] of each EVAL).
  std::vector<std::string> touched() {
    std::vector<std::string> out;
    for (auto& cmd : redis_state().commands)
      out.push_back(cmd.at(3));
    return out;
  }

  ~fixture() {
    caf::anon_send_exit(fanout, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(fanout_tests, fixture)

CAF_TEST(the next batch waits until Redis has answered the one before) {
  redis_state().scripts_ok = true;
  redis_state().hold = true;
  db().batches = {batch({2, 3}, false), batch({4}, true)};
  start();
  CAF_CHECK_EQUAL(db().batches_asked, 1);
  // Each follower: its feed push and its notification.created publish.
  CAF_CHECK_EQUAL(touched(),
                  (std::vector<std::string>{"t:nl:2", "t:q:user:2", "t:nl:3",
                                            "t:q:user:3"}));
  caf::anon_send(redis, twins::memory_redis_release_atom::value);
  consume_messages();
  CAF_CHECK_EQUAL(db().batches_asked, 2);
  caf::anon_send(redis, twins::memory_redis_release_atom::value);
  consume_messages();
  CAF_CHECK_EQUAL(touched().size(), 6u);
  CAF_CHECK_EQUAL(stats->fanout.jobs_done.load(), 1u);
  CAF_CHECK_EQUAL(stats->fanout.notified.load(), 3u);
  CAF_CHECK_EQUAL(stats->fanout.running.load(), 0);
  CAF_CHECK(suspects().empty());
}

CAF_TEST(a feed push that fails hands the follower to the feed_keeper) {
  // scripts_ok false: every EVAL (feed push and publish) fails.
  db().batches = {batch({2, 3}, true)};
  start();
  CAF_CHECK_EQUAL(suspects(), (std::vector<int64_t>{2, 3}));
  CAF_CHECK_EQUAL(stats->fanout.jobs_done.load(), 1u); // the job goes on
}

CAF_TEST_FIXTURE_SCOPE_END()
