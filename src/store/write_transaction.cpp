// write_transaction — see write_transaction.hpp. The claim is one INSERT:
// a second request with the same key waits on the first's row lock, then
// sees its committed claim (a replay) or, if the first rolled back,
// nothing, and claims it itself. An expired claim (older than the window)
// is taken over by the same statement.
#include "src/store/write_transaction.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace switchboard::store {

namespace {

thread_local std::chrono::steady_clock::time_point job_deadline =
    std::chrono::steady_clock::time_point::max();

} // namespace

void set_job_deadline(std::chrono::steady_clock::time_point deadline) {
  job_deadline = deadline;
}

void commit_in_time(pqxx::transaction_base& tx) {
  if (std::chrono::steady_clock::now() >= job_deadline)
    throw deadline_passed{};
  tx.commit();
}

db_job write_job(std::string name, std::optional<idempotency_claim> claim,
                 write_body body) {
  return {std::move(name),
          [claim = std::move(claim),
           body = std::move(body)](pqxx::connection_base& conn) -> db_result {
            pqxx::work tx{conn};
            if (claim) {
              // Bounded table: every keyed write sweeps a few expired keys.
              tx.exec_prepared("idempotency_sweep");
              auto taken = tx.exec_prepared("idempotency_claim", claim->caller,
                                            claim->key, claim->fingerprint);
              if (taken.empty()) {
                auto first = tx.exec_prepared("idempotency_first",
                                              claim->caller, claim->key);
                if (first.empty()) // the claim was swept meanwhile
                  return {db_status::unavailable, {}, "retry the request"};
                if (first[0][0].c_str() != claim->fingerprint)
                  return {db_status::conflict,
                          {},
                          "Idempotency-Key was already used for another "
                          "request"};
                db_result replay{
                    db_status::ok, boost::json::parse(first[0][1].c_str()), {}};
                replay.replayed = true;
                return replay;
              }
            }
            auto result = body(tx);
            if (result.status != db_status::ok)
              return result; // rolled back, the claim with it
            if (claim)
              tx.exec_prepared("idempotency_answer", claim->caller, claim->key,
                               boost::json::serialize(result.value));
            commit_in_time(tx);
            return result;
          }};
}

} // namespace switchboard::store
