// live_stand_ins — the two ends of live delivery as the actors' unit tests
// stand them in: a push sink that records what a channel writes to one
// connection, and a connection actor that counts the logouts it is told of
// (and ignores everything else a channel or session sends it).
#pragma once

#include "switchboard/atoms.hpp"
#include "switchboard/live.hpp"

#include <caf/all.hpp>

#include <string>
#include <vector>

namespace switchboard::twins {

struct recording_sink : push_sink {
  std::vector<int64_t> pushes; // offsets, in the order pushed
  std::vector<std::string> replies;
  void push(push_ptr message) override { pushes.push_back(message->offset); }
  void reply(std::string message) override {
    replies.push_back(std::move(message));
  }
  void close(uint16_t, std::string) override {}
};

struct connection_state {
  int logouts = 0;
};

/// (A label argument: CAF 0.17 mishandles spawning a function without.)
inline caf::behavior
stand_in_connection(caf::stateful_actor<connection_state>* self, std::string) {
  return {[=](logout_atom) {
    ++self->state.logouts;
  }};
}

} // namespace switchboard::twins
