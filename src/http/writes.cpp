// writes — see writes.hpp.
#include "src/http/writes.hpp"

#include "switchboard/atoms.hpp"

#include "src/http/errors.hpp"

#include <boost/json.hpp>
#include <caf/all.hpp>

namespace switchboard::http {

http_response error_for(const db_result& result) {
  switch (result.status) {
  case db_status::not_found:
    return not_found(result.message);
  case db_status::unauthorized:
    return error_response(401, "unauthorized", result.message);
  case db_status::forbidden:
    return error_response(403, "forbidden", result.message);
  case db_status::conflict:
    return error_response(409, "conflict", result.message);
  case db_status::insufficient_funds:
    return error_response(422, "insufficient_funds", result.message);
  case db_status::bad_request:
    return bad_request(result.message);
  case db_status::ok:
  case db_status::unavailable:
    break;
  }
  return unavailable("database unavailable");
}

void run_job(route_call& call, db_job job,
             std::function<void(db_result&)> then) {
  auto respond = call.respond;
  auto deadline =
      std::chrono::milliseconds{call.node->config->db_timeout_ms + 1000};
  call.self
      ->request(call.node->db_pool, deadline, db_run_atom::value,
                std::move(job))
      .then(
          [respond, then](db_result& result) {
            if (result.status != db_status::ok) {
              respond(error_for(result));
              return;
            }
            then(result);
          },
          [respond](caf::error&) {
            respond(unavailable("database did not answer in time"));
          });
}

http_response json_response(unsigned status, const boost::json::value& body) {
  http_response response;
  response.status = status;
  response.body = boost::json::serialize(body);
  response.with("Cache-Control", "no-store");
  return response;
}

void run_write(route_call& call, db_job job, unsigned ok_status,
               groups_of groups) {
  run_write(call, std::move(job), std::move(groups),
            [ok_status](boost::json::value& written) {
              return json_response(ok_status, written);
            });
}

void run_write(route_call& call, db_job job, groups_of groups,
               on_written after) {
  run_write(call, std::move(job), std::move(groups),
            write_answer{[after](const boost::json::value& written) {
                           auto copy = written;
                           return after(copy);
                         },
                         nullptr});
}

void run_write(route_call& call, db_job job, groups_of groups,
               write_answer answer) {
  auto self = call.self;
  auto node = call.node;
  auto respond = call.respond;
  // Whatever happens to the invalidation, the client gets its answer (the
  // cache logs what failed and retries it).
  auto invalidate_then = [self, node](std::vector<std::string> names,
                                      std::function<void()> next) {
    if (names.empty()) {
      next();
      return;
    }
    auto deadline =
        std::chrono::milliseconds{2 * node->config->redis_timeout_ms +
                                  node->config->cache_ack_timeout_ms + 500};
    self->request(node->cache, deadline, cache_inval_atom::value,
                  std::move(names))
        .then([next](bool) { next(); }, [next](caf::error&) { next(); });
  };
  // The job may not commit after db_timeout_ms (db_job::deadline); we wait
  // a second longer for its answer, so a write answered 503 because it
  // took too long was not committed (see docs/reliability.md for the one
  // exception: a COMMIT that itself outlasts that second).
  auto timeout = std::chrono::milliseconds{node->config->db_timeout_ms};
  job.deadline = std::chrono::steady_clock::now() + timeout;
  auto deadline = timeout + std::chrono::milliseconds{1000};
  self->request(node->db_pool, deadline, db_run_atom::value, std::move(job))
      .then(
          [=](db_result& result) {
            if (result.status == db_status::ok && result.replayed) {
              auto response = answer.respond(result.value);
              response.with("Idempotent-Replayed", "true");
              respond(std::move(response));
            } else if (result.status == db_status::ok) {
              auto written =
                  std::make_shared<boost::json::value>(std::move(result.value));
              invalidate_then(groups(written.get()), [respond, answer,
                                                      written] {
                // Answered once everything emit holds is done: a feed the
                // client reads next already has the change.
                answer_hold hold{nullptr, [respond, answer, written](void*) {
                                   respond(answer.respond(*written));
                                 }};
                if (answer.emit)
                  answer.emit(*written, hold);
              });
            } else if (result.status == db_status::unavailable &&
                       result.outcome_unknown) {
              // The connection died during the commit: the write may have
              // landed, so nothing cached may outlive it.
              auto answer = error_for(result);
              invalidate_then(groups(nullptr),
                              [respond, answer] { respond(answer); });
            } else {
              // Nothing was written: what is cached stays good (and keeps
              // being served while the database is away).
              respond(error_for(result));
            }
          },
          [=](caf::error&) {
            invalidate_then(groups(nullptr), [respond] {
              respond(unavailable("database did not answer in time"));
            });
          });
}

} // namespace switchboard::http
