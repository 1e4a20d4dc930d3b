// db_pool_test — the db_pool actor on CAF's deterministic scheduler, with
// stand-in workers that hold every job until the test lets one finish: jobs
// go to idle workers oldest first, a full queue answers unavailable at once
// (and changes nothing), hashing never takes the last worker from ordinary
// jobs, and a hash job that cannot start within its deadline is answered
// unavailable without running. The real workers run SQL against the real
// PostgreSQL in tests/integration.
#define CAF_SUITE db_pool
#include "switchboard/atoms.hpp"
#include "switchboard/db.hpp"

#include "actors/db_pool/db_pool.hpp"
#include "caf/test/dsl.hpp"

#include <boost/json.hpp>

#include <string>
#include <vector>

using namespace switchboard;

namespace {

using finish_atom = caf::atom_constant<caf::atom("finish")>;

/// A worker that takes a job and holds it until `finish_atom`.
struct held_worker_state {
  caf::actor pool;
  caf::response_promise held;
  std::string job; // the name of the job it holds ("" when idle)
};

caf::behavior held_worker(caf::stateful_actor<held_worker_state>* self,
                          caf::actor pool) {
  self->state.pool = std::move(pool);
  return {
      [=](db_run_atom, db_job& job) {
        self->state.job = job.name;
        self->state.held = self->make_response_promise();
        return self->state.held;
      },
      [=](finish_atom) {
        auto& st = self->state;
        st.held.deliver(
            db_result{db_status::ok, boost::json::string{st.job}, {}});
        st.job.clear();
        self->send(st.pool, db_idle_atom::value);
      },
  };
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  std::vector<caf::actor> workers;
  caf::actor pool;
  std::vector<db_result> answers; // in the order they arrived

  fixture() {
    db_pool_config cfg;
    cfg.workers = 2;
    cfg.queue_limit = 3;
    cfg.hash_concurrency = 2; // clamped to workers - 1 = 1
    cfg.hash_queue_deadline = std::chrono::milliseconds{2000};
    cfg.spawn_worker = [this](caf::actor_system& sys, caf::actor pool) {
      auto worker = sys.spawn(held_worker, std::move(pool));
      workers.push_back(worker);
      return worker;
    };
    pool = spawn_db_pool(sys, stats, std::move(cfg));
    consume_messages();
  }

  ~fixture() {
    // Held jobs keep their askers waiting: end everything, so the actor
    // system can shut down.
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    for (auto& asker : askers)
      caf::anon_send_exit(asker, caf::exit_reason::user_shutdown);
    run();
  }

  std::vector<caf::actor> askers;

  /// Sends a job (a hash job when `hashing`), collecting its answer.
  void submit(std::string name, bool hashing = false) {
    db_job job{std::move(name), [](pqxx::connection_base&) {
                 return db_result{};
               }};
    // (A label argument: CAF 0.17 mishandles spawning a function without.)
    askers.push_back(sys.spawn(
        [this, job, hashing](caf::event_based_actor* self, std::string) {
          auto* out = &answers;
          if (hashing)
            self->request(pool, caf::infinite, db_run_atom::value,
                          db_hash_job{job})
                .then([out](db_result& r) { out->push_back(std::move(r)); });
          else
            self->request(pool, caf::infinite, db_run_atom::value, job)
                .then([out](db_result& r) { out->push_back(std::move(r)); });
        },
        std::string{"asker"}));
    consume_messages();
  }

  std::string held_by(std::size_t i) {
    return deref<caf::stateful_actor<held_worker_state>>(workers.at(i))
        .state.job;
  }

  void finish(std::size_t i) {
    caf::anon_send(workers.at(i), finish_atom::value);
    consume_messages();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(db_pool_tests, fixture)

CAF_TEST(
    idle workers take jobs and a finished worker takes the oldest waiting) {
  CAF_REQUIRE_EQUAL(workers.size(), 2u);
  submit("a");
  submit("b");
  submit("c");
  CAF_CHECK_EQUAL(held_by(0) + held_by(1), "ba"); // the last idle goes first
  finish(1); // "a" done: its worker takes "c"
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK_EQUAL(answers[0].value.as_string(), "a");
  CAF_CHECK_EQUAL(held_by(1), "c");
}

CAF_TEST(a full queue answers unavailable at once) {
  for (auto name : {"a", "b", "c", "d", "e"})
    submit(name); // two running, three waiting: the queue is full
  CAF_CHECK(answers.empty());
  submit("f");
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK(answers[0].status == db_status::unavailable);
  CAF_CHECK_EQUAL(answers[0].message, "database busy");
  // The refused job never reaches a worker; the waiting ones all do.
  for (int round = 0; round < 3; ++round)
    finish(0), finish(1);
  std::vector<std::string> done;
  for (auto& a : answers)
    if (a.status == db_status::ok)
      done.push_back(std::string{a.value.as_string()});
  CAF_CHECK_EQUAL(done.size(), 5u);
  CAF_CHECK(std::find(done.begin(), done.end(), "f") == done.end());
}

CAF_TEST(hashing never takes the last worker from ordinary jobs) {
  submit("h1", true);
  submit("h2", true); // one hashing slot of two workers: h2 waits
  submit("q");        // an ordinary job still finds a worker
  CAF_CHECK_EQUAL(held_by(0) + held_by(1), "qh1");
}

CAF_TEST(a hash job that cannot start within its deadline is answered 503) {
  submit("h1", true);
  submit("h2", true); // waits for the one hashing slot
  CAF_CHECK(answers.empty());
  advance_time(std::chrono::milliseconds{2000});
  consume_messages();
  CAF_REQUIRE_EQUAL(answers.size(), 1u);
  CAF_CHECK(answers[0].status == db_status::unavailable);
  CAF_CHECK_EQUAL(answers[0].message, "password hashing is busy");
  finish(1); // h1 done; h2 is gone, never run
  CAF_CHECK_EQUAL(held_by(0) + held_by(1), "");
}

CAF_TEST_FIXTURE_SCOPE_END()
