// router_test — the one route table decides which layer serves a request:
// the socket layer's questions (outside_actor, refused_query) are answered
// from the same table the connection actor dispatches with, so a path can
// never be served one way on the io thread and another in the actor.
#define CAF_SUITE router
#include "caf/test/unit_test.hpp"
#include "src/http/router.hpp"

using namespace switchboard::http;

CAF_TEST(the socket layer learns the layer from the table) {
  const auto& routes = node_routes();
  CAF_CHECK(routes.outside_actor("GET", "/ws").layer == route_layer::websocket);
  CAF_CHECK(routes.outside_actor("GET", "/ws?access_token=t").layer ==
            route_layer::websocket);
  CAF_CHECK(routes.outside_actor("POST", "/api/publish").layer ==
            route_layer::io_thread);
  CAF_CHECK(routes.outside_actor("POST", "/api/publish").io_handler != nullptr);
  // Everything else is the actor's, escapes and other methods included:
  // its dispatch decodes the path and answers with the same table.
  CAF_CHECK(routes.outside_actor("GET", "/w%73").layer == route_layer::actor);
  CAF_CHECK(routes.outside_actor("GET", "/api/publish").layer ==
            route_layer::actor);
  CAF_CHECK(routes.outside_actor("POST", "/ws").layer == route_layer::actor);
  CAF_CHECK(routes.outside_actor("GET", "/sse").layer == route_layer::actor);
  CAF_CHECK(routes.outside_actor("GET", "/api/books/1").layer ==
            route_layer::actor);
}

CAF_TEST(routes outside the actor keep the query rule) {
  const auto& routes = node_routes();
  auto ws = routes.outside_actor("GET", "/ws?access_token=t");
  CAF_CHECK(router::refused_query(ws, "/ws?access_token=t").empty());
  CAF_CHECK(!router::refused_query(ws, "/ws?junk=1").empty());
  CAF_CHECK(
      !router::refused_query(ws, "/ws?access_token=a&access_token=b").empty());
  auto publish = routes.outside_actor("POST", "/api/publish?x=1");
  CAF_CHECK(!router::refused_query(publish, "/api/publish?x=1").empty());
  CAF_CHECK(router::refused_query(publish, "/api/publish").empty());
}
