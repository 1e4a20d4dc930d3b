// event_loops — the node's scheduler: N event loops, each an Asio
// io_context run by one thread, that run the sockets placed on them AND
// resume the CAF actors placed on them, so a message from a socket to its
// actor and back never changes thread. It is a CAF scheduler module
// (`actor_system_config::module_factories`; CAF's test_coordinator is the
// in-tree model) and replaces CAF's worker threads and clock thread.
//
// Placement: an actor lives on one loop for its whole life: the loop of the
// actor that spawned it, else the loop of the thread that spawned it, else
// loop 0 (the node-level actors, spawned by the main thread). A woken actor
// is always resumed at home, whoever sent the message (CAF would run it on
// the sender's thread). Timers are per loop (loop_clock).
//
// Must never: run a blocking call on a loop (libpqxx runs on the db
// workers' own threads: they are detached actors), or let an actor's state
// be touched from another loop.
#pragma once

#include "src/loops/loop_clock.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/execution_unit.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include <atomic>
#include <cstddef>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace switchboard::loops {

class loop_coordinator;

/// One loop: its io_context, its thread, its actors' clock.
class event_loop final : public caf::execution_unit {
public:
  event_loop(loop_coordinator& owner, std::size_t index);
  ~event_loop() override;

  boost::asio::io_context& io() { return *io_; }
  std::size_t index() const { return index_; }

  /// CAF: `job` (an actor woken by a message sent from this loop) runs at
  /// its own home, which need not be here.
  void exec_later(caf::resumable* job) override;

  /// Queues `job` on this loop (any thread).
  void post(caf::resumable* job);

  /// The loop the calling thread runs, or nullptr.
  static event_loop* current();

private:
  friend class loop_coordinator;
  struct job_handler;

  void resume(caf::resumable* job);
  void start();
  /// Lets the thread end once its io_context has no more work; waits up to
  /// `patience`, then stops it. Returns false if it had to stop it.
  bool finish(std::chrono::milliseconds patience);

  loop_coordinator& owner_;
  std::size_t index_;
  std::unique_ptr<boost::asio::io_context> io_;
  std::optional<
      boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      keep_running_;
  std::optional<loop_clock> clock_;
  std::thread thread_;
  std::promise<void> ended_;
};

class loop_coordinator final : public caf::scheduler::abstract_coordinator {
public:
  using super = caf::scheduler::abstract_coordinator;

  /// Makes the actor system of `cfg` run on `count` loops (call before
  /// constructing it). `max_throughput`: messages an actor handles before
  /// it yields its loop to the sockets and actors behind it.
  static void install(caf::actor_system_config& cfg, std::size_t count,
                      std::size_t max_throughput);

  /// The coordinator of `system`, or nullptr if it runs another scheduler.
  static loop_coordinator* of(caf::actor_system& system);

  loop_coordinator(caf::actor_system& system, std::size_t count);

  std::size_t size() const { return loops_.size(); }
  event_loop& loop(std::size_t index) { return *loops_[index]; }

  /// The home of `job`: the loop it last ran on (or was spawned from),
  /// else `fallback`, else the calling thread's loop, else loop 0.
  event_loop& home_of(caf::resumable* job, event_loop* fallback = nullptr);

  // abstract_coordinator
  void enqueue(caf::resumable* job) override;
  caf::actor_clock& clock() noexcept override;

protected:
  void init(caf::actor_system_config& cfg) override;
  void start() override;
  void stop() override;

private:
  friend class event_loop;
  /// For threads that are not loops (the main thread's scoped actors):
  /// CAF's own, with its dispatch thread, idle in a running node. Declared
  /// first: it outlives the loops, whose last cleanups may reach it.
  caf::detail::thread_safe_actor_clock shared_clock_;
  std::thread shared_clock_thread_;
  std::vector<std::unique_ptr<event_loop>> loops_;
};

} // namespace switchboard::loops
