// users — see users.hpp.
#include "src/store/users.hpp"

#include "src/store/passwords.hpp"
#include "src/store/rows.hpp"
#include "src/store/write_transaction.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace switchboard::store {

db_job load_user(int64_t id) {
  return {"load_user", [id](pqxx::connection_base& conn) -> db_result {
            pqxx::nontransaction tx{conn};
            auto rows = tx.exec_prepared("user_by_id", id);
            if (rows.empty())
              return {db_status::not_found, {}, "no such user"};
            return {db_status::ok, user_json(rows[0]), {}};
          }};
}

db_job register_user(std::string username, std::string password,
                     std::string display_name,
                     std::optional<idempotency_claim> claim) {
  return {"register_user", [=](pqxx::connection_base& conn) -> db_result {
            // Hashed (slowly) before the transaction opens: no lock is held
            // while the CPU works.
            auto hash = hash_password(password);
            auto insert = [&](pqxx::transaction_base& tx) -> db_result {
              auto rows =
                  tx.exec_prepared("user_insert", username, hash, display_name);
              if (rows.empty())
                return {db_status::conflict, {}, "username is taken"};
              auto user = user_json(rows[0]);
              tx.exec_prepared("wallet_insert", user.at("id").as_int64());
              return {db_status::ok, std::move(user), {}};
            };
            auto result = write_job("register_user", claim, insert).run(conn);
            if (!result.replayed)
              return result;
            // A repeat of a sign-up must know the password it was made with
            // (the key's fingerprint leaves the password out: no fast hash
            // of it is ever stored).
            pqxx::nontransaction tx{conn};
            auto stored = tx.exec_prepared("user_password_hash",
                                           result.value.at("id").as_int64());
            if (stored.empty() ||
                !verify_password(password, stored[0][0].c_str()))
              return {db_status::conflict,
                      {},
                      "Idempotency-Key was already used for another request"};
            return result;
          }};
}

db_job login_user(std::string username, std::string password) {
  return {
      "login_user", [=](pqxx::connection_base& conn) -> db_result {
        // The read ends before the hash starts: the connection is idle
        // (no transaction open) while the CPU works.
        std::optional<boost::json::value> user;
        std::string hash;
        {
          pqxx::nontransaction tx{conn};
          auto rows = tx.exec_prepared("user_login", username);
          if (!rows.empty()) {
            user = user_json(rows[0]);
            hash = rows[0][5].c_str();
          }
        }
        if (!user) {
          spend_verification_time(password);
          return {db_status::unauthorized, {}, "wrong username or password"};
        }
        if (!verify_password(password, hash))
          return {db_status::unauthorized, {}, "wrong username or password"};
        return {db_status::ok, std::move(*user), {}};
      }};
}

db_job update_user(int64_t id, std::optional<std::string> display_name,
                   std::optional<std::string> bio) {
  return {"update_user", [=](pqxx::connection_base& conn) -> db_result {
            pqxx::work tx{conn};
            auto rows =
                tx.exec_prepared("user_update", id,
                                 display_name ? display_name->c_str() : nullptr,
                                 bio ? bio->c_str() : nullptr);
            commit_in_time(tx);
            if (rows.empty())
              return {db_status::not_found, {}, "no such user"};
            return {db_status::ok, user_json(rows[0]), {}};
          }};
}

db_job load_coin_packages() {
  return {"load_coin_packages", [](pqxx::connection_base& conn) -> db_result {
            pqxx::nontransaction tx{conn};
            boost::json::array items;
            for (const auto& row : tx.exec_prepared("coin_packages"))
              items.push_back({{"id", row[0].as<int64_t>()},
                               {"coins", row[1].as<int64_t>()},
                               {"price_cents", row[2].as<int64_t>()},
                               {"label", row[3].c_str()}});
            return {db_status::ok,
                    boost::json::object{{"items", std::move(items)}},
                    {}};
          }};
}

db_job delete_user(int64_t id) {
  return {"delete_user", [id](pqxx::connection_base& conn) -> db_result {
            pqxx::work tx{conn};
            auto rows = tx.exec_prepared("user_delete", id);
            commit_in_time(tx);
            if (rows.empty())
              return {db_status::not_found, {}, "no such user"};
            return {db_status::ok, boost::json::object{{"id", id}}, {}};
          }};
}

db_job load_display_names(std::vector<int64_t> ids) {
  return {"load_display_names",
          [ids](pqxx::connection_base& conn) -> db_result {
            std::string array = "{";
            for (size_t i = 0; i < ids.size(); ++i)
              array += (i ? "," : "") + std::to_string(ids[i]);
            array += "}";
            pqxx::nontransaction tx{conn};
            auto rows = tx.exec_prepared("users_display_names", array);
            boost::json::array users;
            for (const auto& row : rows)
              users.push_back({{"user_id", row[0].as<int64_t>()},
                               {"display_name", row[1].c_str()}});
            return {db_status::ok,
                    boost::json::object{{"users", std::move(users)}},
                    {}};
          }};
}

} // namespace switchboard::store
