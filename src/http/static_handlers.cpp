// static_handlers — serves the demo web app (src/http/static_site.hpp) for
// GET requests no API route matched: a file if there is one, else the app's
// index.html, so the app's own routes (/books/5) survive a reload. Paths
// under /api/ stay JSON 404s.
#include "src/http/errors.hpp"
#include "src/http/handlers.hpp"
#include "src/http/static_site.hpp"

namespace switchboard::http {

void serve_web(route_call& call) {
  const auto* site = call.node->site.get();
  if (site == nullptr || site->empty() || call.path.rfind("/api/", 0) == 0) {
    call.respond(not_found("no such endpoint"));
    return;
  }
  const auto* file = site->find(call.path == "/" ? "/index.html" : call.path);
  bool is_app_route = file == nullptr && call.path.rfind("/assets/", 0) != 0;
  if (is_app_route)
    file = site->find("/index.html");
  if (file == nullptr) {
    call.respond(not_found("no such file"));
    return;
  }
  http_response response;
  response.with("ETag", file->etag);
  response.with("Cache-Control", file->immutable
                                     ? "public, max-age=31536000, immutable"
                                     : "no-cache");
  if (auto tag = call.request.header("if-none-match");
      tag && *tag == file->etag) {
    response.status = 304;
    response.content_type.clear();
    call.respond(std::move(response));
    return;
  }
  response.content_type = file->content_type;
  response.body = file->body; // for HEAD, the session sends the length only
  call.respond(std::move(response));
}

} // namespace switchboard::http
