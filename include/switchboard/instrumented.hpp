// instrumented.hpp — the base every Switchboard actor is spawned with. It
// counts live actors, consumed messages and mailbox depth per actor kind into
// node_stats (Debian's CAF 0.17 is built without its actor profiler). It must
// stay cheap: it runs on every message of every actor.
#pragma once

#include "switchboard/actor_kind.hpp"
#include "switchboard/node_stats.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <memory>

namespace switchboard {

/// Ties an actor state's lifetime to the live-actor count of its kind. A
/// state holds one as `std::unique_ptr<kind_counter> counter`, created first
/// thing in the actor's spawn function.
class kind_counter {
public:
  kind_counter(std::shared_ptr<node_stats> stats, actor_kind kind)
      : stats_(std::move(stats)), kind_(kind) {
    stats_->of(kind_).count.fetch_add(1, std::memory_order_relaxed);
  }
  kind_counter(const kind_counter&) = delete;
  kind_counter& operator=(const kind_counter&) = delete;
  ~kind_counter() {
    stats_->of(kind_).count.fetch_sub(1, std::memory_order_relaxed);
  }

  node_stats& stats() const { return *stats_; }
  const std::shared_ptr<node_stats>& stats_ptr() const { return stats_; }
  actor_kind kind() const { return kind_; }

private:
  std::shared_ptr<node_stats> stats_;
  actor_kind kind_;
};

/// A stateful, event-based actor that reports to node_stats. The state must
/// expose `std::unique_ptr<kind_counter> counter`; until it is set, the actor
/// is simply not counted. Mailbox depth is counted here (enqueued minus
/// consumed) rather than read from CAF's queue: walking CAF 0.17's intrusive
/// queue from outside is undefined behaviour that UBSan reports.
// ThreadSanitizer cannot see the ordering inside Debian's uninstrumented
// libcaf_core, so it would take every message handed between threads for
// a race. The handoff is told to it here instead: the sender's thread
// releases the mailbox element when it is enqueued, the receiver acquires
// it when it is consumed (both are ours: enqueue/consume below).
#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
inline void tsan_release(void* addr) {
  __tsan_release(addr);
}
inline void tsan_acquire(void* addr) {
  __tsan_acquire(addr);
}
#else
inline void tsan_release(void*) {}
inline void tsan_acquire(void*) {}
#endif

/// What a Switchboard actor does with a message it has no handler for: log
/// it once and drop it. CAF 0.17's default reflects it to the sender and
/// quits — one stray reply could then take down the redis_bridge (it did).
inline caf::result<caf::message> drop_unexpected(caf::scheduled_actor* self,
                                                 caf::message_view& x) {
  spdlog::error("{} (actor {}): dropped an unexpected message: {}",
                self->name(), self->id(), caf::to_string(x.content()));
  return caf::sec::unexpected_message;
}

template <class State>
class instrumented_actor : public caf::stateful_actor<State> {
public:
  using super = caf::stateful_actor<State>;

  template <class... Ts>
  explicit instrumented_actor(caf::actor_config& cfg, Ts&&... xs)
      : super(cfg, std::forward<Ts>(xs)...) {
    this->set_default_handler(drop_unexpected);
  }

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    tsan_release(ptr.get());
    depth_.fetch_add(1, std::memory_order_relaxed);
    super::enqueue(std::move(ptr), eu);
  }

  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    tsan_acquire(&x);
    auto result = super::consume(x);
    if (result == caf::invoke_message_result::skipped)
      return result; // stays in the mailbox: counted when finally consumed
    auto depth = depth_.fetch_sub(1, std::memory_order_relaxed) - 1;
    if (auto* counter = this->state.counter.get()) {
      auto& kind_stats = counter->stats().of(counter->kind());
      kind_stats.processed.fetch_add(1, std::memory_order_relaxed);
      if (depth > 0)
        counter->stats().record_mailbox(counter->kind(),
                                        static_cast<uint64_t>(depth));
    }
    return result;
  }

private:
  std::atomic<int64_t> depth_{0};
};

} // namespace switchboard
