// cache_test — the cache and cache_entry actors on CAF's deterministic
// scheduler. Redis and PostgreSQL sit behind actor protocols (redis_bridge,
// db_pool); here scripted stand-ins for those two actors let each step be
// held and released, so coalescing is observed, not hoped for. The real
// servers are exercised by tests/integration.
#define CAF_SUITE cache
#define FAIL(msg) CAF_FAIL(msg)
#include "switchboard/atoms.hpp"
#include "switchboard/cache.hpp"
#include "switchboard/redis.hpp"

#include "actors/cache/cache.hpp"
#include "actors/cache_entry/cache_entry.hpp"
#include "caf/test/dsl.hpp"
#include "caf/test/unit_test_impl.hpp"

#include <map>

using namespace switchboard;

namespace {

using release_atom = caf::atom_constant<caf::atom("release")>;

/// Speaks the redis_bridge protocol over an in-memory map, and records
/// every command. `down` makes it answer like a bridge whose Redis is gone.
struct scripted_bridge_state {
  std::map<std::string, std::string> data;
  std::vector<redis_command> commands;
  bool down = false;
  std::string label; // see the note on the spawn functions
};

// Both stand-ins take a label only because CAF 0.17 binds a reference to a
// null tuple when it spawns a function with no arguments (UBSan reports it).
caf::behavior scripted_bridge(caf::stateful_actor<scripted_bridge_state>* self,
                              std::string name) {
  self->state.label = std::move(name);
  return {
      [=](redis_cmd_atom, redis_command& cmd) -> redis_reply {
        auto& st = self->state;
        st.commands.push_back(cmd);
        if (st.down)
          return redis_reply::unavailable_reply("down");
        redis_reply reply;
        if (cmd[0] == "GET") {
          auto i = st.data.find(cmd[1]);
          if (i != st.data.end()) {
            reply.type = redis_reply::kind::string;
            reply.str = i->second;
          }
        } else if (cmd[0] == "SET") {
          st.data[cmd[1]] = cmd[2];
          reply.type = redis_reply::kind::status;
          reply.str = "OK";
        }
        return reply;
      },
  };
}

/// Speaks the db_pool protocol; holds every job until told to release them
/// all with `result`.
struct held_database_state {
  std::vector<caf::response_promise> held;
  int jobs = 0;
  std::string label; // see the note on the spawn functions
};

caf::behavior held_database(caf::stateful_actor<held_database_state>* self,
                            std::string name) {
  self->state.label = std::move(name);
  return {
      [=](db_run_atom, db_job&) {
        ++self->state.jobs;
        auto promise = self->make_response_promise();
        self->state.held.push_back(promise);
        return promise;
      },
      [=](release_atom, db_result& result) {
        for (auto& promise : self->state.held)
          promise.deliver(result);
        self->state.held.clear();
      },
  };
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  caf::actor bridge = sys.spawn(scripted_bridge, std::string{"bridge"});
  caf::actor database = sys.spawn(held_database, std::string{"database"});
  caf::actor cache = spawn_cache(
      sys, stats,
      cache_config{bridge, database, "test:", std::chrono::milliseconds{100},
                   std::chrono::milliseconds{100}});

  fixture() { settle(); }

  /// Lets every actor consume its mailbox, without firing timeouts: the
  /// tests decide when a held load completes, not the clock.
  void settle() { consume_messages(); }

  using answer_handle =
      caf::response_handle<caf::blocking_actor, caf::message, true>;

  answer_handle ask(std::string key) {
    return self->request(cache, caf::infinite, cache_get_atom::value,
                         cache_request{std::move(key), {}, db_job{}});
  }

  scripted_bridge_state& bridge_state() {
    return deref<caf::stateful_actor<scripted_bridge_state>>(bridge).state;
  }

  held_database_state& database_state() {
    return deref<caf::stateful_actor<held_database_state>>(database).state;
  }

  void release(db_result result) {
    self->send(database, release_atom::value, std::move(result));
    settle();
  }

  static db_result book() {
    return {db_status::ok, boost::json::object{{"id", 1}, {"title", "T"}}, {}};
  }

  cache_result answer(answer_handle& handle) {
    cache_result out;
    handle.receive(
        [&](cache_result& r) { out = std::move(r); },
        [&](caf::error& e) { CAF_FAIL("no answer: " << sys.render(e)); });
    return out;
  }

  int64_t live_entries() {
    return stats->of(actor_kind::cache_entry).count.load();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cache_tests, fixture)

CAF_TEST(concurrent misses on one key make one database fetch) {
  auto first = ask("book:1");
  settle();
  CAF_CHECK_EQUAL(database_state().jobs, 1);
  // Two more readers arrive while the load is still in flight.
  auto second = ask("book:1");
  auto third = ask("book:1");
  settle();
  CAF_CHECK_EQUAL(database_state().jobs, 1);
  CAF_CHECK_EQUAL(live_entries(), 1);
  release(book());
  auto a = answer(first);
  auto b = answer(second);
  auto c = answer(third);
  CAF_CHECK(a.status == cache_status::found);
  CAF_CHECK(a.source == cache_source::miss);
  CAF_CHECK(b.source == cache_source::coalesced);
  CAF_CHECK(c.source == cache_source::coalesced);
  CAF_CHECK_EQUAL(*a.body, R"({"id":1,"title":"T"})");
  CAF_CHECK_EQUAL(*b.body, *a.body);
  CAF_CHECK_EQUAL(a.etag, c.etag);
  CAF_CHECK_EQUAL(database_state().jobs, 1);
  CAF_CHECK_EQUAL(stats->cache.db_fetches.load(), 1u);
  CAF_CHECK_EQUAL(stats->cache.coalesced.load(), 2u);
  // Exactly one GET and one SET reached Redis, with the TTL attached.
  auto& commands = bridge_state().commands;
  CAF_REQUIRE_EQUAL(commands.size(), 2u);
  CAF_CHECK_EQUAL(commands[0][0], "GET");
  CAF_CHECK_EQUAL(commands[0][1], "test:book:1");
  CAF_CHECK_EQUAL(commands[1][0], "SET");
  CAF_CHECK_EQUAL(commands[1][3], "PX");
  // Once everyone is answered the entry actor retires.
  CAF_CHECK_EQUAL(live_entries(), 0);
}

CAF_TEST(a stored value is a hit and reaches no database) {
  auto first = ask("book:1");
  settle();
  release(book());
  CAF_CHECK(answer(first).source == cache_source::miss);
  auto again = ask("book:1");
  settle();
  auto hit = answer(again);
  CAF_CHECK(hit.status == cache_status::found);
  CAF_CHECK(hit.source == cache_source::hit);
  CAF_CHECK_EQUAL(database_state().jobs, 1);
  CAF_CHECK_EQUAL(stats->cache.hits.load(), 1u);
}

CAF_TEST(a missing row is remembered as not found) {
  auto first = ask("book:404");
  settle();
  release(db_result{db_status::not_found, {}, "no such book"});
  CAF_CHECK(answer(first).status == cache_status::not_found);
  CAF_CHECK_EQUAL(bridge_state().data["test:book:404"],
                  std::string{negative_marker});
  auto again = ask("book:404");
  settle();
  auto second = answer(again);
  CAF_CHECK(second.status == cache_status::not_found);
  CAF_CHECK(second.source == cache_source::hit);
  CAF_CHECK_EQUAL(database_state().jobs, 1);
}

CAF_TEST(redis down falls through to the database and still coalesces) {
  bridge_state().down = true;
  auto first = ask("book:7");
  auto second = ask("book:7");
  settle();
  release(book());
  CAF_CHECK(answer(first).status == cache_status::found);
  CAF_CHECK(answer(second).source == cache_source::coalesced);
  CAF_CHECK_EQUAL(database_state().jobs, 1);
}

CAF_TEST(a failed database load answers unavailable and stores nothing) {
  auto first = ask("book:9");
  settle();
  release(db_result{db_status::unavailable, {}, "down"});
  CAF_CHECK(answer(first).status == cache_status::unavailable);
  CAF_CHECK_EQUAL(bridge_state().data.count("test:book:9"), 0u);
  CAF_CHECK_EQUAL(live_entries(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
