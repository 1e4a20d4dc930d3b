// db_worker_test — the db_worker actor on CAF's deterministic scheduler (in
// tests it runs there instead of on a thread of its own), with no database:
// a write whose deadline passed is answered without being started or even
// connecting (a write answered 503 must never land later); a database that
// cannot be reached is answered unavailable, counted, and the pool is told
// the worker is idle after every job. The jobs' SQL runs against the real
// PostgreSQL in tests/integration.
#define CAF_SUITE db_worker
#include "switchboard/atoms.hpp"
#include "switchboard/db.hpp"

#include "actors/db_worker/db_worker.hpp"
#include "caf/test/dsl.hpp"

#include <vector>

using namespace switchboard;

namespace {

struct pool_state {
  int idle = 0;
};

caf::behavior stand_in_pool(caf::stateful_actor<pool_state>* self,
                            std::string) {
  return {[=](db_idle_atom) {
    ++self->state.idle;
  }};
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  caf::actor pool = sys.spawn(stand_in_pool, std::string{"pool"});
  caf::actor worker = spawn_db_worker(
      sys, stats,
      [] {
        db_worker_config cfg;
        // Nothing listens on port 1: a connection is refused at once.
        cfg.database_url = "postgresql://127.0.0.1:1/none?connect_timeout=1";
        cfg.detached = false;
        return cfg;
      }(),
      pool);
  std::vector<db_result> answers;
  bool ran = false;

  void submit(std::chrono::steady_clock::time_point deadline) {
    db_job job{"a_write", [this](pqxx::connection_base&) {
                 ran = true;
                 return db_result{};
               }};
    job.deadline = deadline;
    sys.spawn(
        [this, job](caf::event_based_actor* self, std::string) {
          self->request(worker, caf::infinite, db_run_atom::value, job)
              .then([this](db_result& r) { answers.push_back(std::move(r)); });
        },
        std::string{"asker"});
    consume_messages();
  }

  int idle() { return deref<caf::stateful_actor<pool_state>>(pool).state.idle; }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(db_worker_tests, fixture)

CAF_TEST(a write past its deadline is answered without being started) {
  submit(std::chrono::steady_clock::now() - std::chrono::seconds{1});
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK(answers[0].status == db_status::unavailable);
  CAF_CHECK_EQUAL(answers[0].message, "database busy"); // not "unavailable":
  CAF_CHECK(!ran);                                      // no connection tried
  CAF_CHECK_EQUAL(idle(), 1);
}

CAF_TEST(a database that cannot be reached is answered unavailable) {
  submit(std::chrono::steady_clock::time_point::max());
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK(answers[0].status == db_status::unavailable);
  CAF_CHECK_EQUAL(answers[0].message, "database unavailable");
  CAF_CHECK(!ran);
  CAF_CHECK(!stats->db_up.load());
  CAF_CHECK_EQUAL(idle(), 1);
}

CAF_TEST_FIXTURE_SCOPE_END()
