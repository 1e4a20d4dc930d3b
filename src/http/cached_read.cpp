// cached_read — see cached_read.hpp. `Cache-Control: no-cache` lets a
// browser keep a copy but revalidate it on every use: a write must be
// visible to the very next read (contract), and the ETag makes the
// revalidation a cheap 304.
#include "src/http/cached_read.hpp"

#include "switchboard/atoms.hpp"

#include "src/http/errors.hpp"
#include "src/store/users.hpp"

#include <caf/all.hpp>

namespace switchboard::http {

void serve_cached(route_call& call, std::string key, std::string group,
                  freshness_class kind, db_job load, std::string_view what) {
  const auto& cfg = *call.node->config;
  auto ttl = kind == freshness_class::item   ? cfg.cache_ttl_s
             : kind == freshness_class::list ? cfg.cache_list_ttl_s
                                             : cfg.cache_packages_ttl_s;
  cache_policy policy{std::chrono::seconds{ttl},
                      std::chrono::seconds{cfg.cache_negative_ttl_s},
                      std::chrono::seconds{cfg.cache_stale_s},
                      std::chrono::seconds{cfg.cache_grace_s}};
  std::string if_none_match{call.request.header("if-none-match").value_or("")};
  auto respond = call.respond;
  std::string resource{what};
  // Anything a user can write must be revalidated on every use (the ETag
  // makes that a 304); the coin packages change only by deployment.
  const char* cache_control =
      kind == freshness_class::packages ? "public, max-age=60" : "no-cache";
  // No timeout of our own: the cache answers every get, each of its steps
  // (Redis, the lease wait, the database) under its own deadline, and a
  // CAF 0.17 request timeout wakes the clock thread twice per request —
  // on a hit that costs more than the hit itself.
  call.self
      ->request(call.node->cache, caf::infinite, cache_get_atom::value,
                cache_request{std::move(key), std::move(group), policy,
                              std::move(load)})
      .then(
          [respond, if_none_match, resource,
           cache_control](cache_result& result) {
            http_response response;
            switch (result.status) {
            case cache_status::found:
              if (!if_none_match.empty() &&
                  etag_matches(if_none_match, result.etag)) {
                response.status = 304;
              } else {
                response.body = *result.body;
              }
              response.with("ETag", result.etag);
              response.with("Cache-Control", cache_control);
              response.reuse_generation = result.generation;
              response.reuse_until_ms = result.fresh_until_ms;
              break;
            case cache_status::not_found:
              response = not_found("no such " + resource);
              break;
            case cache_status::unavailable:
              respond(unavailable("database unavailable"));
              return;
            }
            response.with("X-Cache", to_string(result.source));
            respond(std::move(response));
          },
          [respond](caf::error&) {
            respond(unavailable("cache did not answer in time"));
          });
}

void user_exists(caf::event_based_actor* self, const node_context_ptr& node,
                 int64_t user_id, std::function<void(bool)> then) {
  const auto& cfg = *node->config;
  cache_policy policy{std::chrono::seconds{cfg.cache_ttl_s},
                      std::chrono::seconds{cfg.cache_negative_ttl_s},
                      std::chrono::seconds{cfg.cache_stale_s},
                      std::chrono::seconds{cfg.cache_grace_s}};
  auto key = "user:" + std::to_string(user_id);
  // No timeout of our own: see serve_cached.
  self->request(node->cache, caf::infinite, cache_get_atom::value,
                cache_request{key, key, policy, store::load_user(user_id)})
      .then(
          [then](cache_result& result) {
            then(result.status != cache_status::not_found);
          },
          [then](caf::error&) { then(true); });
}

void serve_item(route_call& call, std::string_view kind,
                db_job (*load)(int64_t id)) {
  int64_t id = 0;
  if (!id_param(call, 0, id))
    return;
  auto key = std::string{kind} + ":" + std::to_string(id);
  serve_cached(call, key, key, freshness_class::item, load(id), kind);
}

} // namespace switchboard::http
