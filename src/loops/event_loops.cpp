// event_loops — see event_loops.hpp. The traps this file avoids are in
// ../shared/notes/stack-facts.md ("CAF actors on the Asio loop"): stop()
// drains every loop before the clocks and the loops go away, and a woken
// actor is sent home instead of run where its sender runs.
#include "src/loops/event_loops.hpp"

#include <boost/asio/post.hpp>
#include <caf/actor_system.hpp>
#include <caf/scheduled_actor.hpp>
#include <spdlog/spdlog.h>

#include <string>

namespace switchboard::loops {

namespace asio = boost::asio;

namespace {

thread_local event_loop* this_thread_loop = nullptr;

} // namespace

// A queued job owns one reference to its resumable; a handler that never
// runs (the loop stopped with it queued) still cleans the actor up.
struct event_loop::job_handler {
  event_loop* loop;
  caf::resumable* job;

  job_handler(event_loop* l, caf::resumable* j) : loop(l), job(j) {}
  job_handler(job_handler&& other) noexcept
      : loop(other.loop), job(std::exchange(other.job, nullptr)) {}
  job_handler& operator=(job_handler&&) = delete;
  ~job_handler() {
    if (job != nullptr)
      caf::scheduler::abstract_coordinator::cleanup_and_release(job);
  }
  void operator()() { loop->resume(std::exchange(job, nullptr)); }
};

event_loop::event_loop(loop_coordinator& owner, std::size_t index)
    : caf::execution_unit(&owner.system()),
      owner_(owner),
      index_(index),
      io_(std::make_unique<asio::io_context>(1)) {
  keep_running_.emplace(io_->get_executor());
  clock_.emplace(*io_);
}

event_loop::~event_loop() {
  if (thread_.joinable()) {
    io_->stop();
    thread_.join();
  }
}

event_loop* event_loop::current() {
  return this_thread_loop;
}

void event_loop::exec_later(caf::resumable* job) {
  owner_.home_of(job, this).post(job);
}

void event_loop::post(caf::resumable* job) {
  asio::post(*io_, job_handler{this, job});
}

void event_loop::resume(caf::resumable* job) {
  switch (job->resume(this, owner_.max_throughput())) {
  case caf::resumable::resume_later:
    // It used up its share: behind whatever queued meanwhile.
    post(job);
    break;
  case caf::resumable::done:
  case caf::resumable::awaiting_message:
    intrusive_ptr_release(job);
    break;
  case caf::resumable::shutdown_execution_unit:
    break; // not used: loops end when their io_context runs dry
  }
}

void event_loop::start() {
  thread_ = std::thread{[this] {
    this_thread_loop = this;
    owner_.system().thread_started();
    io_->run();
    owner_.system().thread_terminates();
    this_thread_loop = nullptr;
    ended_.set_value();
  }};
}

bool event_loop::finish(std::chrono::milliseconds patience) {
  // On the loop: drop the clock's events (and the actors they hold), then
  // let run() return once nothing else is pending. The last cleanups of
  // actors still run here first (they are queued before this).
  asio::post(*io_, [this] {
    clock_->stop();
    keep_running_.reset();
  });
  bool clean =
      ended_.get_future().wait_for(patience) == std::future_status::ready;
  if (!clean)
    io_->stop(); // something still waits (a socket nobody closed)
  thread_.join();
  return clean;
}

void loop_coordinator::install(caf::actor_system_config& cfg, std::size_t count,
                               std::size_t max_throughput) {
  cfg.set("scheduler.max-throughput", max_throughput);
  cfg.module_factories.push_back(
      [count](caf::actor_system& system) -> caf::actor_system::module* {
        return new loop_coordinator(system, count);
      });
}

loop_coordinator* loop_coordinator::of(caf::actor_system& system) {
  return dynamic_cast<loop_coordinator*>(&system.scheduler());
}

loop_coordinator::loop_coordinator(caf::actor_system& system, std::size_t count)
    : super(system) {
  for (std::size_t i = 0; i < std::max<std::size_t>(count, 1); ++i)
    loops_.push_back(std::make_unique<event_loop>(*this, i));
}

event_loop& loop_coordinator::home_of(caf::resumable* job,
                                      event_loop* fallback) {
  if (job->subtype() == caf::resumable::scheduled_actor) {
    // Written by the actor's last resume (or its spawn), which happened
    // before the mailbox push that woke it: no race with this read.
    auto* context = static_cast<caf::scheduled_actor*>(job)->context();
    for (auto& loop : loops_)
      if (context == loop.get())
        return *loop;
  }
  if (fallback != nullptr)
    return *fallback;
  if (auto* here = event_loop::current())
    return *here;
  return *loops_.front();
}

void loop_coordinator::enqueue(caf::resumable* job) {
  home_of(job).post(job);
}

caf::actor_clock& loop_coordinator::clock() noexcept {
  if (auto* here = event_loop::current();
      here != nullptr && &here->owner_ == this)
    return *here->clock_;
  return shared_clock_;
}

void loop_coordinator::init(caf::actor_system_config& cfg) {
  super::init(cfg);
  num_workers_ = loops_.size();
}

void loop_coordinator::start() {
  shared_clock_thread_ = std::thread{[this] {
    system().thread_started();
    shared_clock_.run_dispatch_loop();
    system().thread_terminates();
  }};
  for (auto& loop : loops_)
    loop->start();
  super::start(); // the printer (a detached utility actor)
}

void loop_coordinator::stop() {
  stop_actors();
  for (auto& loop : loops_)
    if (!loop->finish(std::chrono::seconds{2}))
      spdlog::warn("event loop {}: work was left at shutdown; stopped it",
                   loop->index());
  // No thread runs a loop now. The shared clock goes first: nothing may
  // post into a loop being freed. Then each loop's clock timer and work
  // guard, which live on its context, and then the contexts, loop 0 last:
  // handlers destroyed with another loop can still hold objects on loop 0
  // (the Redis connections). Jobs still queued are cleaned up with them.
  shared_clock_.cancel_dispatch_loop();
  shared_clock_thread_.join();
  for (auto& loop : loops_) {
    loop->clock_.reset();
    loop->keep_running_.reset();
  }
  for (auto i = loops_.rbegin(); i != loops_.rend(); ++i)
    (*i)->io_.reset();
}

} // namespace switchboard::loops
