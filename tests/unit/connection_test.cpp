// connection_test — the connection actor on CAF's deterministic scheduler,
// with the in-memory Redis twin as the node's Redis and a recording sink as
// its socket: every request is answered exactly once, whatever happens on
// the way — the router's 404, a handler that answers at once, the session
// check answering 401 for an unknown token and 503 when Redis is away.
#define CAF_SUITE connection
#include "switchboard/config.hpp"
#include "switchboard/http.hpp"
#include "switchboard/node_context.hpp"

#include "actors/connection/connection.hpp"
#include "caf/test/dsl.hpp"
#include "src/live/publisher.hpp"
#include "twins/memory_redis.hpp"

#include <vector>

using namespace switchboard;

namespace {

/// The socket's side: every response the actor sends.
struct recording_http_sink : http_sink {
  std::vector<http_response> responses;
  void send(http_response response) override {
    responses.push_back(std::move(response));
  }
  void close() override {}
};

redis_reply nil_reply() {
  return {};
}

struct fixture : test_coordinator_fixture<> {
  std::shared_ptr<node_stats> stats = std::make_shared<node_stats>();
  caf::actor redis = sys.spawn(twins::memory_redis, std::string{"redis"});
  std::shared_ptr<recording_http_sink> sink =
      std::make_shared<recording_http_sink>();
  caf::actor connection;

  fixture() {
    auto node = std::make_shared<node_context>();
    node->config = std::make_shared<node_config>();
    node->stats = stats;
    node->redis_bridge = redis;
    node->connections = std::make_shared<connection_tracker>();
    connection = spawn_connection(sys, node, sink, "127.0.0.1");
    // The session script: nobody has this token.
    state().eval = [](const redis_command&) {
      redis_reply r;
      r.type = redis_reply::kind::array;
      r.elements = {nil_reply(), twins::integer_reply(1)};
      return r;
    };
  }

  twins::memory_redis_state& state() {
    return deref<caf::stateful_actor<twins::memory_redis_state>>(redis).state;
  }

  /// Sends a request; returns the status of the one response it got.
  unsigned ask(std::string method, std::string target,
               header_list headers = {}) {
    auto before = sink->responses.size();
    http_request request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.headers = std::move(headers);
    caf::anon_send(connection, std::move(request));
    consume_messages();
    CAF_REQUIRE_EQUAL(sink->responses.size(), before + 1);
    return sink->responses.back().status;
  }

  ~fixture() {
    caf::anon_send(connection, conn_closed_atom::value);
    run();
  }
};

const std::string token(32, 'a');

} // namespace

CAF_TEST_FIXTURE_SCOPE(connection_tests, fixture)

CAF_TEST(every request is answered once) {
  CAF_CHECK_EQUAL(ask("GET", "/healthz"), 200u);
  CAF_CHECK_EQUAL(ask("GET", "/api/no/such/thing"), 404u);
  CAF_CHECK_EQUAL(ask("GET", "/api/me/balance"), 401u); // no token
  CAF_CHECK_EQUAL(
      ask("GET", "/api/me/balance", {{"authorization", "Bearer " + token}}),
      401u); // unknown token
  state().down = true;
  CAF_CHECK_EQUAL(
      ask("GET", "/api/me/balance", {{"authorization", "Bearer " + token}}),
      503u); // Redis away: unavailable, not unauthorized
  CAF_CHECK_EQUAL(sink->responses.size(), 5u);
}

CAF_TEST(errors are the JSON of the contract) {
  ask("GET", "/api/no/such/thing");
  auto& body = sink->responses.back().body;
  CAF_CHECK(body.find("\"code\":\"not_found\"") != std::string::npos);
}

CAF_TEST(the live paths are routes of the one table) {
  // A GET /ws that is no handshake (the socket layer upgrades those).
  CAF_CHECK_EQUAL(ask("GET", "/ws"), 426u);
  CAF_CHECK_EQUAL(ask("GET", "/ws?junk=1"), 400u);
  // GET /sse is the router's too: its query rule, its method rule.
  CAF_CHECK_EQUAL(ask("GET", "/sse?channels=books:1&junk=1"), 400u);
  CAF_CHECK_EQUAL(ask("HEAD", "/sse?channels=books:1"), 405u);
  CAF_CHECK_EQUAL(ask("POST", "/sse"), 405u);
  CAF_CHECK_EQUAL(ask("GET", "/sse"), 400u); // no channel named
}

CAF_TEST(an event stream opens through its route) {
  auto key = live::sequence_key(node_config{}.redis_key_prefix, "books:1");
  state().strings[key] = "41";
  CAF_CHECK_EQUAL(ask("GET", "/sse?channels=books:1"), 200u);
  CAF_CHECK(sink->responses.back().event_stream);
  // Its channel's offset was read before the head went out.
  CAF_REQUIRE(!state().commands.empty());
  CAF_CHECK_EQUAL(state().commands.back().at(0), "MGET");
  CAF_CHECK_EQUAL(state().commands.back().at(1), key);
}

CAF_TEST_FIXTURE_SCOPE_END()
