// event_loops_test — the loop scheduler (src/loops) with real threads: it is
// the one piece the deterministic coordinator cannot stand in for. An actor
// lives on the loop it was spawned from and is resumed there whoever sends
// to it; its timeouts and delayed messages fire on its loop's own timer;
// the system stops with actors still waiting on timers and with work
// queued. Every wait is a receive with a deadline, never a sleep.
#define CAF_SUITE event_loops
#include "caf/test/unit_test.hpp"
#include "src/loops/event_loops.hpp"

#include <boost/asio/post.hpp>
#include <caf/all.hpp>

#include <future>
#include <thread>
#include <type_traits>

using namespace switchboard;
using namespace std::chrono_literals;

namespace {

using where_atom = caf::atom_constant<caf::atom("where")>;
using later_atom = caf::atom_constant<caf::atom("later")>;

/// Answers `where` with the loop it runs on. Every actor here is spawned
/// with an argument: CAF 0.17 binds a reference to a null tuple when it
/// spawns a function with none (UBSan reports it; see cache_test.cpp).
caf::behavior reporter(caf::event_based_actor*, int) {
  return {[](where_atom) -> int64_t {
    auto* loop = loops::event_loop::current();
    return loop == nullptr ? -1 : static_cast<int64_t>(loop->index());
  }};
}

struct loop_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  loops::loop_coordinator* coordinator = nullptr;

  explicit loop_system(std::size_t count) {
    loops::loop_coordinator::install(cfg, count, 300);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    system = std::make_unique<caf::actor_system>(cfg);
    coordinator = loops::loop_coordinator::of(*system);
  }

  /// Spawns `fn` from loop `index`'s thread, as a socket's accept would.
  template <class F> caf::actor spawn_on(std::size_t index, F fn) {
    std::promise<caf::actor> spawned;
    boost::asio::post(coordinator->loop(index).io(), [&] {
      if constexpr (std::is_invocable_v<F, caf::event_based_actor*, int>)
        spawned.set_value(system->spawn(fn, 0));
      else
        spawned.set_value(system->spawn(
            [fn](caf::event_based_actor* self, int) { return fn(self); }, 0));
    });
    return spawned.get_future().get();
  }

  int64_t loop_of(const caf::actor& actor) {
    caf::scoped_actor self{*system};
    int64_t index = -2;
    self->request(actor, 2s, where_atom::value)
        .receive([&](int64_t i) { index = i; },
                 [&](caf::error& e) { CAF_FAIL(caf::to_string(e)); });
    return index;
  }
};

} // namespace

CAF_TEST(the system runs on its loops) {
  loop_system s{2};
  CAF_REQUIRE(s.coordinator != nullptr);
  CAF_CHECK_EQUAL(s.coordinator->size(), 2u);
}

CAF_TEST(an actor lives on the loop it was spawned from) {
  loop_system s{2};
  auto on_one = s.spawn_on(1, reporter);
  auto on_zero = s.spawn_on(0, reporter);
  // Asked from the main thread, each answers from its own loop, every time.
  for (int i = 0; i < 3; ++i) {
    CAF_CHECK_EQUAL(s.loop_of(on_one), 1);
    CAF_CHECK_EQUAL(s.loop_of(on_zero), 0);
  }
  // Spawned by the main thread: loop 0 (the node-level actors).
  CAF_CHECK_EQUAL(s.loop_of(s.system->spawn(reporter, 0)), 0);
}

CAF_TEST(an actor spawned by an actor shares its loop) {
  loop_system s{2};
  auto parent = s.spawn_on(1, [](caf::event_based_actor* self) {
    return caf::behavior{[self](later_atom) {
      return self->spawn(reporter, 0); // from loop 1's thread and unit
    }};
  });
  caf::scoped_actor self{*s.system};
  caf::actor child;
  self->request(parent, 2s, later_atom::value)
      .receive([&](caf::actor& a) { child = a; },
               [&](caf::error& e) { CAF_FAIL(caf::to_string(e)); });
  CAF_CHECK_EQUAL(s.loop_of(child), 1);
}

CAF_TEST(a message from another loop wakes the actor at home) {
  loop_system s{2};
  auto home = s.spawn_on(0, reporter);
  // An actor on loop 1 asks the one on loop 0 and forwards the answer.
  auto asker = s.spawn_on(1, [home](caf::event_based_actor* self) {
    return caf::behavior{[self, home](where_atom) {
      auto rp = self->make_response_promise<int64_t>();
      self->request(home, 2s, where_atom::value).then([rp](int64_t i) mutable {
        rp.deliver(i);
      });
      return rp;
    }};
  });
  CAF_CHECK_EQUAL(s.loop_of(asker), 0); // the answer came from loop 0
}

CAF_TEST(timeouts and delayed messages fire on the actor loop) {
  loop_system s{2};
  auto timed = s.spawn_on(1, [](caf::event_based_actor* self) {
    return caf::behavior{
        [self](later_atom) {
          auto rp = self->make_response_promise<int64_t>();
          self->delayed_send(self, 20ms, where_atom::value);
          self->become(caf::keep_behavior, [self, rp](where_atom) mutable {
            auto* loop = loops::event_loop::current();
            rp.deliver(loop == nullptr ? int64_t{-1}
                                       : static_cast<int64_t>(loop->index()));
            self->unbecome();
          });
          return rp;
        },
    };
  });
  caf::scoped_actor self{*s.system};
  int64_t fired_on = -2;
  self->request(timed, 2s, later_atom::value)
      .receive([&](int64_t i) { fired_on = i; },
               [&](caf::error& e) { CAF_FAIL(caf::to_string(e)); });
  CAF_CHECK_EQUAL(fired_on, 1);
  // A request that nobody answers times out, on the asker's loop clock.
  auto silent = s.spawn_on(0, [](caf::event_based_actor*) {
    return caf::behavior{[](where_atom) -> caf::result<int64_t> {
      return caf::delegated<int64_t>{};
    }};
  });
  auto asker = s.spawn_on(1, [silent](caf::event_based_actor* self) {
    return caf::behavior{[self, silent](later_atom) {
      auto rp = self->make_response_promise<bool>();
      self->request(silent, 30ms, where_atom::value)
          .then([rp](int64_t) mutable { rp.deliver(false); },
                [rp](caf::error& e) mutable {
                  rp.deliver(e == caf::sec::request_timeout);
                });
      return rp;
    }};
  });
  bool timed_out = false;
  self->request(asker, 2s, later_atom::value)
      .receive([&](bool b) { timed_out = b; },
               [&](caf::error& e) { CAF_FAIL(caf::to_string(e)); });
  CAF_CHECK(timed_out);
}

CAF_TEST(the system stops with timers pending and work queued) {
  loop_system s{2};
  std::vector<caf::actor> waiting;
  for (std::size_t i = 0; i < 2; ++i)
    waiting.push_back(s.spawn_on(i, [](caf::event_based_actor* self) {
      self->delayed_send(self, std::chrono::hours{1}, later_atom::value);
      return caf::behavior{[](later_atom) {
      }};
    }));
  // Work queued on both loops as the stop begins.
  for (auto& actor : waiting)
    for (int i = 0; i < 100; ++i)
      caf::anon_send(actor, later_atom::value);
  for (auto& actor : waiting)
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  std::vector<caf::actor_addr> gone;
  for (auto& actor : waiting)
    gone.push_back(actor.address());
  waiting.clear();
  // The destructor waits for them, drops the hour-long timers (each holds
  // its actor) and drains the loops: a crash or a hang fails the test, and
  // so does an actor some timer or queued job still keeps alive.
  s.system.reset();
  for (auto& addr : gone)
    CAF_CHECK(caf::actor_cast<caf::actor>(addr) == nullptr);
}
