// cache_test — the cache and cache_entry actors on CAF's deterministic
// scheduler. Redis and PostgreSQL sit behind actor protocols (redis_bridge,
// db_pool); here scripted stand-ins for those two actors let each step be
// held and released, so coalescing and the invalidation race are observed,
// not hoped for. The stand-in bridge answers the cache's Lua scripts with
// the same semantics over a map; the real scripts run against the real Redis
// in tests/integration.
#define CAF_SUITE cache
#define FAIL(msg) CAF_FAIL(msg)
#include "switchboard/atoms.hpp"
#include "switchboard/cache.hpp"
#include "switchboard/redis.hpp"

#include "actors/cache/cache.hpp"
#include "actors/cache/l1_store.hpp"
#include "actors/cache_entry/cache_entry.hpp"
#include "caf/test/dsl.hpp"
#include "caf/test/unit_test_impl.hpp"
#include "src/cache/cache_keys.hpp"

#include <map>
#include <optional>
#include <set>

using namespace switchboard;

namespace {

using release_atom = caf::atom_constant<caf::atom("release")>;

redis_reply string_reply(std::string s) {
  redis_reply r;
  r.type = redis_reply::kind::string;
  r.str = std::move(s);
  return r;
}

redis_reply integer_reply(long long n) {
  redis_reply r;
  r.type = redis_reply::kind::integer;
  r.integer = n;
  return r;
}

/// Speaks the redis_bridge protocol over an in-memory map and records every
/// command. `down` makes it answer like a bridge whose Redis is gone.
struct scripted_bridge_state {
  std::map<std::string, std::string> data;
  std::map<std::string, std::set<std::string>> sets; // the m: member sets
  uint64_t serial = 0; // version tokens, never reused (s:version + TIME)
  std::vector<redis_command> commands;
  bool down = false;
  /// Replies are computed when a command arrives (when "Redis runs it") but
  /// held back until `release_atom`: a reply still on its way.
  bool hold_replies = false;
  std::vector<std::pair<caf::response_promise, redis_reply>> held;
  std::string label; // see the note on the spawn functions
};

std::string get(scripted_bridge_state& st, const std::string& key) {
  auto i = st.data.find(key);
  return i == st.data.end() ? std::string{} : i->second;
}

redis_reply run(scripted_bridge_state& st, const redis_command& cmd) {
  if (cmd[0] == "GET") {
    if (st.data.count(cmd[1]))
      return string_reply(st.data[cmd[1]]);
    return {};
  }
  if (cmd[0] == "PUBLISH")
    return integer_reply(0); // nobody subscribed in this test
  if (cmd[0] != "EVAL")
    return string_reply("OK");
  const auto& script = cmd[1];
  if (script == cache_keys::get_or_lease_script) {
    // KEYS value version lease serial; ARGV token ms mode now stale ttl
    const auto &value = cmd[3], &version = cmd[4], &lease = cmd[5];
    auto ver = get(st, version);
    if (ver.empty()) // unknown: a token never used before
      st.data[version] = ver = "t" + std::to_string(++st.serial);
    std::optional<std::string> payload;
    if (st.data.count(value)) {
      const auto& v = st.data[value];
      auto space = v.find(' ');
      if (space != std::string::npos && v.substr(0, space) == ver)
        payload = v.substr(space + 1);
      else
        st.data.erase(value); // stored under another version: invalidated
    }
    const auto& mode = cmd[9];
    bool want = mode == "3" || ((mode == "1" || mode == "2") && !payload);
    if ((mode == "1" || mode == "2") && payload) { // see get_or_lease_script
      auto fresh_until = std::stoll(payload->substr(0, 13));
      auto window = mode == "1" ? std::stoll(cmd[11]) : 0;
      want = fresh_until + window <= std::stoll(cmd[10]);
    }
    redis_reply r;
    r.type = redis_reply::kind::array;
    r.elements.push_back(payload ? string_reply(*payload) : redis_reply{});
    r.elements.push_back(string_reply(ver));
    bool leased = want && !st.data.count(lease);
    if (leased)
      st.data[lease] = cmd[7];
    r.elements.push_back(integer_reply(leased ? 1 : 0));
    r.elements.push_back(integer_reply(want ? 1 : 0));
    return r;
  }
  if (script == cache_keys::store_script) {
    // KEYS value version members lease; ARGV ver value px token ttl max
    if (get(st, cmd[6]) == cmd[10])
      st.data.erase(cmd[6]);
    if (get(st, cmd[4]) != cmd[7])
      return integer_reply(0);
    st.data[cmd[3]] = cmd[7] + " " + cmd[8];
    auto& members = st.sets[cmd[5]];
    if (members.size() < std::stoul(cmd[12]))
      members.insert(cmd[3]);
    return integer_reply(1);
  }
  if (script == cache_keys::release_script) {
    if (get(st, cmd[3]) == cmd[4])
      st.data.erase(cmd[3]);
    return integer_reply(1);
  }
  if (script == cache_keys::invalidate_script) {
    // KEYS serial version1 members1 ...: a new version, members dropped
    auto count = std::stoul(cmd[2]);
    for (size_t i = 1; i < count; i += 2) {
      st.data[cmd[3 + i]] = "t" + std::to_string(++st.serial);
      for (auto& key : st.sets[cmd[4 + i]])
        st.data.erase(key);
      st.sets.erase(cmd[4 + i]);
    }
    return integer_reply(1);
  }
  return redis_reply::unavailable_reply("unknown script");
}

// Both stand-ins take a label only because CAF 0.17 binds a reference to a
// null tuple when it spawns a function with no arguments (UBSan reports it).
caf::behavior scripted_bridge(caf::stateful_actor<scripted_bridge_state>* self,
                              std::string label) {
  self->state.label = std::move(label);
  return {
      [=](redis_cmd_atom, redis_command& cmd) -> caf::result<redis_reply> {
        auto& st = self->state;
        st.commands.push_back(cmd);
        if (st.down)
          return redis_reply::unavailable_reply("down");
        if (!st.hold_replies)
          return run(st, cmd);
        auto promise = self->make_response_promise<redis_reply>();
        st.held.emplace_back(promise, run(st, cmd));
        return promise;
      },
      [=](release_atom) {
        auto& st = self->state;
        st.hold_replies = false;
        for (auto& [promise, reply] : st.held)
          promise.deliver(reply);
        st.held.clear();
      },
      [=](redis_sub_atom, const std::string&) {},
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
                            std::string label) {
  self->state.label = std::move(label);
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
  caf::actor cache = spawn_cache(sys, stats, [this] {
    cache_config cfg;
    cfg.redis_bridge = bridge;
    cfg.db_pool = database;
    cfg.node_id = "n1";
    cfg.key_prefix = "test:";
    cfg.replay_interval = std::chrono::milliseconds{0}; // no endless timers
    return cfg;
  }());

  fixture() { settle(); }

  /// Lets every actor consume its mailbox, without firing timeouts: the
  /// tests decide when a held load completes, not the clock.
  void settle() { consume_messages(); }

  using answer_handle =
      caf::response_handle<caf::blocking_actor, caf::message, true>;

  answer_handle ask(std::string key) {
    cache_policy policy;
    policy.ttl = std::chrono::seconds{300};
    return self->request(cache, caf::infinite, cache_get_atom::value,
                         cache_request{key, key, policy, db_job{}});
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

  void enable_l1() {
    // What the bridge says once the node's subscription is confirmed.
    self->send(cache, redis_resub_atom::value);
    settle();
  }

  static db_result book(std::string title = "T") {
    return {db_status::ok,
            boost::json::object{{"id", 1}, {"title", std::move(title)}},
            {}};
  }

  cache_result answer(answer_handle& handle) {
    cache_result out;
    handle.receive(
        [&](cache_result& r) { out = std::move(r); },
        [&](caf::error& e) { CAF_FAIL("no answer: " << sys.render(e)); });
    return out;
  }

  size_t commands_named(const std::string& name) {
    size_t n = 0;
    for (auto& c : bridge_state().commands)
      n += c[0] == name;
    return n;
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
  CAF_CHECK_EQUAL(stats->cache.db_fetches.load(), 1u);
  CAF_CHECK_EQUAL(stats->cache.coalesced.load(), 2u);
  // One lookup (with the lease) and one conditional store reached Redis.
  CAF_CHECK_EQUAL(commands_named("EVAL"), 2u);
  auto stored = bridge_state().data["test:v:book:1"];
  CAF_CHECK_NOT_EQUAL(stored.find(R"({"id":1,"title":"T"})"),
                      std::string::npos);
  CAF_CHECK_EQUAL(bridge_state().data.count("test:l:book:1"), 0u);
  // Once everyone is answered the entry actor retires.
  CAF_CHECK_EQUAL(live_entries(), 0);
}

CAF_TEST(a value in redis is a hit and reaches no database) {
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
}

CAF_TEST(with the subscription confirmed a hit comes from the l1) {
  enable_l1();
  auto first = ask("book:1");
  settle();
  release(book());
  answer(first);
  auto commands_before = bridge_state().commands.size();
  auto again = ask("book:1");
  settle();
  auto hit = answer(again);
  CAF_CHECK(hit.source == cache_source::hit);
  CAF_CHECK_EQUAL(bridge_state().commands.size(), commands_before);
  CAF_CHECK_EQUAL(stats->cache.entries.load(), 1);
  CAF_CHECK_GREATER(stats->cache.l1_bytes.load(), 0);
  // Losing the subscription clears the L1: invalidations may be missed.
  self->send(cache, redis_lost_atom::value);
  settle();
  CAF_CHECK_EQUAL(stats->cache.entries.load(), 0);
}

CAF_TEST(a load that began before an invalidation is never stored) {
  enable_l1();
  auto before = ask("book:1");
  settle();
  CAF_CHECK_EQUAL(database_state().jobs, 1);
  // A write commits and invalidates while the load is in flight.
  auto invalidated =
      self->request(cache, caf::infinite, cache_inval_atom::value,
                    std::vector<std::string>{"book:1"});
  settle();
  invalidated.receive([](bool) {}, [](caf::error&) { CAF_FAIL("no answer"); });
  // A reader arriving after the write must not join the old load.
  auto after = ask("book:1");
  settle();
  release(book("old"));              // the old load finishes with the old row
  auto overlapping = answer(before); // it overlapped the write: old is fine
  CAF_CHECK_EQUAL(*overlapping.body, R"({"id":1,"title":"old"})");
  CAF_CHECK_EQUAL(bridge_state().data.count("test:v:book:1"), 0u);
  // The old loader released its lease and published "fill"; our node hears
  // it through Pub/Sub.
  self->send(cache, redis_msg_atom::value, std::string{"test:c:events"},
             std::string{"fill book:1"});
  settle();
  CAF_CHECK_EQUAL(database_state().jobs, 2);
  release(book("new"));
  auto fresh = answer(after);
  CAF_CHECK_EQUAL(*fresh.body, R"({"id":1,"title":"new"})");
  CAF_CHECK_NOT_EQUAL(bridge_state().data["test:v:book:1"].find("new"),
                      std::string::npos);
  // And the L1 holds the new value, not the old one.
  auto l1 = ask("book:1");
  settle();
  auto cached = answer(l1);
  CAF_CHECK_EQUAL(to_string(cached.source), std::string{"hit"});
  CAF_CHECK_EQUAL(*cached.body, R"({"id":1,"title":"new"})");
}

CAF_TEST(a fill that overtakes the lookup reply is not missed) {
  // Another node holds the lease: our lookup is answered "wait for it".
  bridge_state().data["test:l:book:7"] = "other-node-token";
  bridge_state().hold_replies = true;
  auto reader = ask("book:7");
  settle();
  CAF_REQUIRE_EQUAL(bridge_state().held.size(), 1u);
  // The other node stores and announces the fill; Pub/Sub delivers it
  // before our lookup's reply (another connection).
  bridge_state().data.erase("test:l:book:7");
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  // Stored under the version our lookup read (and minted: it was unknown).
  bridge_state().data["test:v:book:7"] =
      bridge_state().data["test:g:book:7"] + " " +
      std::to_string(now_ms + 300'000) + " 5 {\"id\":7}";
  self->send(cache, redis_msg_atom::value, cache_keys::events_channel("test:"),
             std::string{"fill book:7"});
  settle();
  self->send(bridge, release_atom::value);
  settle();
  // The stale "wait" is not believed: the entry looks again at once and
  // finds the value, instead of sleeping until lease_wait runs out.
  size_t lookups = 0;
  for (auto& c : bridge_state().commands)
    lookups += c[0] == "EVAL" && c[1] == cache_keys::get_or_lease_script;
  CAF_REQUIRE_EQUAL(lookups, 2u);
  auto a = answer(reader);
  CAF_CHECK(a.status == cache_status::found);
  CAF_CHECK_EQUAL(*a.body, R"({"id":7})");
  CAF_CHECK_EQUAL(database_state().jobs, 0);
}

CAF_TEST(a missing row is remembered as not found) {
  auto first = ask("book:404");
  settle();
  release(db_result{db_status::not_found, {}, "no such book"});
  CAF_CHECK(answer(first).status == cache_status::not_found);
  CAF_CHECK_NOT_EQUAL(
      bridge_state().data["test:v:book:404"].find(std::string{negative_marker}),
      std::string::npos);
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

CAF_TEST(a failed load serves the expired value within grace as stale) {
  // A value that expired a minute ago: past the stale window, within grace.
  cached_value old;
  old.found = true;
  old.body = std::make_shared<const std::string>(R"({"id":9})");
  old.fresh_until_ms = wall_clock_ms() - 120'000;
  bridge_state().data["test:g:book:9"] = "t-old";
  bridge_state().data["test:v:book:9"] = "t-old " + old.encode();
  auto first = ask("book:9");
  settle();
  CAF_CHECK_EQUAL(database_state().jobs, 1);
  release(db_result{db_status::unavailable, {}, "down"});
  auto result = answer(first);
  CAF_CHECK(result.status == cache_status::found);
  CAF_CHECK(result.source == cache_source::stale);
  CAF_CHECK_EQUAL(*result.body, R"({"id":9})");
  CAF_CHECK_EQUAL(stats->cache.stale.load(), 1u);
}

CAF_TEST(a value whose member set was lost is not served after invalidation) {
  // Under allkeys-lru Redis may evict m:book:1 and keep v:book:1.
  auto first = ask("book:1");
  settle();
  release(book("old"));
  answer(first);
  bridge_state().sets.erase("test:m:book:1");
  auto invalidated =
      self->request(cache, caf::infinite, cache_inval_atom::value,
                    std::vector<std::string>{"book:1"});
  settle();
  invalidated.receive([](bool) {}, [](caf::error&) { CAF_FAIL("no answer"); });
  CAF_REQUIRE_EQUAL(bridge_state().data.count("test:v:book:1"), 1u);
  // The old value is still in Redis, but under a version no longer current.
  auto after = ask("book:1");
  settle();
  CAF_CHECK_EQUAL(database_state().jobs, 2);
  release(book("new"));
  auto fresh = answer(after);
  CAF_CHECK(fresh.source == cache_source::miss);
  CAF_CHECK_EQUAL(*fresh.body, R"({"id":1,"title":"new"})");
}

CAF_TEST(a lost group version never makes an invalidated value match again) {
  auto first = ask("book:1");
  settle();
  release(book("old"));
  answer(first);
  auto stored_under = bridge_state().data["test:g:book:1"];
  CAF_REQUIRE(!stored_under.empty());
  // Evicted: the version and the member set, leaving the value behind.
  bridge_state().data.erase("test:g:book:1");
  bridge_state().sets.erase("test:m:book:1");
  auto invalidated =
      self->request(cache, caf::infinite, cache_inval_atom::value,
                    std::vector<std::string>{"book:1"});
  settle();
  invalidated.receive([](bool) {}, [](caf::error&) { CAF_FAIL("no answer"); });
  CAF_CHECK_NOT_EQUAL(bridge_state().data["test:g:book:1"], stored_under);
  auto after = ask("book:1");
  settle();
  CAF_CHECK_EQUAL(database_state().jobs, 2);
  release(book("new"));
  auto fresh = answer(after);
  CAF_CHECK_EQUAL(*fresh.body, R"({"id":1,"title":"new"})");
  // And a version lost with nobody invalidating is a miss, not a hit.
  bridge_state().data.erase("test:g:book:1");
  auto again = ask("book:1");
  settle();
  CAF_CHECK_EQUAL(database_state().jobs, 3);
  release(book("newer"));
  CAF_CHECK(answer(again).source == cache_source::miss);
}

CAF_TEST(a failed load with nothing cached answers unavailable) {
  auto first = ask("book:9");
  settle();
  release(db_result{db_status::unavailable, {}, "down"});
  CAF_CHECK(answer(first).status == cache_status::unavailable);
  CAF_CHECK_EQUAL(bridge_state().data.count("test:v:book:9"), 0u);
  CAF_CHECK_EQUAL(bridge_state().data.count("test:l:book:9"), 0u);
  CAF_CHECK_EQUAL(live_entries(), 0);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(the l1 store keeps within its entry and byte budgets) {
  l1_store l1{10, 4000};
  size_t evicted = 0;
  for (int i = 0; i < 100; ++i) {
    cached_value v;
    v.found = true;
    v.body = std::make_shared<const std::string>(std::string(100, 'x'));
    evicted += l1.put("k" + std::to_string(i), "g" + std::to_string(i % 3),
                      std::move(v));
    CAF_CHECK_LESS_OR_EQUAL(l1.size(), 10u);
    CAF_CHECK_LESS_OR_EQUAL(l1.bytes(), 4000u);
  }
  CAF_CHECK_EQUAL(evicted + l1.size(), 100u);
  // The most recently used survive; a group drop removes only its members.
  CAF_CHECK(l1.find("k99") != nullptr);
  CAF_CHECK(l1.find("k0") == nullptr);
  auto before = l1.size();
  l1.erase_group("g0");
  CAF_CHECK_LESS(l1.size(), before);
  CAF_CHECK(l1.find("k99") == nullptr); // 99 % 3 == 0: it was in g0
  CAF_CHECK(l1.find("k98") != nullptr);
}
