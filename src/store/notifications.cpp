// notifications — see notifications.hpp.
#include "src/store/notifications.hpp"

#include "src/store/rows.hpp"
#include "src/store/write_transaction.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace switchboard::store {

db_job load_notifications(int64_t user_id, int64_t limit) {
  return {"load_notifications", [=](pqxx::connection_base& conn) -> db_result {
            pqxx::work tx{conn}; // one snapshot for the items and the count
            auto rows =
                tx.exec_prepared("notifications_newest", user_id, limit);
            auto unread = tx.exec_prepared("notifications_unread", user_id);
            boost::json::array items;
            for (const auto& row : rows)
              items.push_back(notification_json(row));
            tx.commit();
            return {db_status::ok,
                    boost::json::object{{"items", std::move(items)},
                                        {"unread", unread[0][0].as<int64_t>()}},
                    {}};
          }};
}

db_job mark_notification_read(int64_t user_id, int64_t id) {
  return {"mark_notification_read",
          [=](pqxx::connection_base& conn) -> db_result {
            pqxx::work tx{conn};
            auto row =
                tx.exec_prepared("notification_owner_for_update", id, user_id);
            if (row.empty())
              return {db_status::not_found, {}, "no such notification"};
            bool changed = !row[0][0].as<bool>();
            if (changed)
              tx.exec_prepared("notification_mark_read", id);
            auto unread = tx.exec_prepared("notifications_unread", user_id);
            commit_in_time(tx);
            return {db_status::ok,
                    boost::json::object{{"changed", changed},
                                        {"unread", unread[0][0].as<int64_t>()}},
                    {}};
          }};
}

} // namespace switchboard::store
