// fanout — see fanout.hpp.
#include "src/store/fanout.hpp"

#include "src/store/rows.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>

namespace switchboard::store {

db_job claim_fanout_job(std::string owner, int64_t lease_s) {
  return {"claim_fanout_job", [=](pqxx::connection_base& conn) -> db_result {
            pqxx::work tx{conn};
            auto rows = tx.exec_prepared("fanout_claim", owner,
                                         static_cast<double>(lease_s));
            tx.commit();
            if (rows.empty())
              return {db_status::not_found, {}, "no pending fan-out"};
            return {db_status::ok,
                    boost::json::object{{"job_id", rows[0][0].as<int64_t>()}},
                    {}};
          }};
}

db_job run_fanout_batch(int64_t job_id, std::string owner, int64_t batch,
                        int64_t lease_s) {
  return {
      "run_fanout_batch", [=](pqxx::connection_base& conn) -> db_result {
        pqxx::work tx{conn};
        auto job = tx.exec_prepared("fanout_job_for_update", job_id);
        if (job.empty())
          return {db_status::not_found, {}, "fan-out done"};
        if (job[0][4].is_null() || job[0][4].c_str() != owner)
          return {db_status::conflict, {}, "the lease passed on"};
        auto book_id = job[0][0].as<int64_t>();
        auto author_id = job[0][1].as<int64_t>();
        std::string data = job[0][2].c_str();
        auto after = job[0][3].as<int64_t>();
        auto rows = tx.exec_prepared("fanout_notify_batch", book_id, after,
                                     data, author_id, batch);
        boost::json::array notified;
        int64_t last = after;
        for (const auto& row : rows) {
          auto user_id = row[5].as<int64_t>();
          last = std::max(last, user_id);
          notified.push_back(boost::json::object{
              {"user_id", user_id}, {"notification", notification_json(row)}});
        }
        bool done = static_cast<int64_t>(rows.size()) < batch;
        tx.exec_prepared("fanout_advance", job_id, last,
                         static_cast<int64_t>(rows.size()), done,
                         static_cast<double>(lease_s));
        tx.commit();
        return {db_status::ok,
                boost::json::object{{"done", done},
                                    {"notified", std::move(notified)}},
                {}};
      }};
}

db_job forget_done_fanout() {
  return {"forget_done_fanout", [](pqxx::connection_base& conn) -> db_result {
            pqxx::work tx{conn};
            auto gone = tx.exec_prepared("fanout_forget_done").affected_rows();
            tx.commit();
            return {
                db_status::ok,
                boost::json::object{{"deleted", static_cast<int64_t>(gone)}},
                {}};
          }};
}

} // namespace switchboard::store
