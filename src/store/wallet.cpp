// wallet — see wallet.hpp. Purchases and gifts are write jobs
// (write_transaction.hpp): with an Idempotency-Key a repeat answers the
// first result; a refused gift rolls back its key with it, so a retry after
// a top-up works.
#include "src/store/wallet.hpp"

#include "src/store/rows.hpp"
#include "src/store/write_transaction.hpp"

#include <boost/json.hpp>
#include <pqxx/pqxx>

namespace switchboard::store {

namespace {

// SQLSTATE 22003: a bigint balance would pass 2^63-1 (the transaction is
// rolled back: nothing moves).
constexpr const char* numeric_out_of_range = "22003";

} // namespace

db_job load_balance(int64_t user_id) {
  return {"load_balance", [=](pqxx::connection_base& conn) -> db_result {
            pqxx::nontransaction tx{conn};
            auto rows = tx.exec_prepared("wallet_balance", user_id);
            int64_t coins = rows.empty() ? 0 : rows[0][0].as<int64_t>();
            int64_t version = rows.empty() ? 0 : rows[0][1].as<int64_t>();
            return {db_status::ok,
                    boost::json::object{{"coins", coins}, {"version", version}},
                    {}};
          }};
}

db_job purchase_package(int64_t user_id, int64_t package_id,
                        std::optional<idempotency_claim> claim) {
  return write_job(
      "purchase_package", std::move(claim),
      [=](pqxx::transaction_base& tx) -> db_result {
        auto package = tx.exec_prepared("coin_package_by_id", package_id);
        if (package.empty())
          return {db_status::not_found, {}, "no such coin package"};
        auto coins = package[0][0].as<int64_t>();
        tx.exec_prepared("purchase_insert", user_id, package_id, coins);
        pqxx::result balance;
        try {
          balance = tx.exec_prepared("wallet_credit", user_id, coins);
        } catch (const pqxx::sql_error& e) {
          if (e.sqlstate() != numeric_out_of_range)
            throw;
          return {db_status::conflict, {}, "the balance would overflow"};
        }
        return {db_status::ok,
                boost::json::object{{"coins", balance[0][0].as<int64_t>()},
                                    {"version", balance[0][1].as<int64_t>()}},
                {}};
      });
}

db_job send_gift(int64_t from, int64_t to, int64_t coins,
                 std::optional<idempotency_claim> claim) {
  std::optional<std::string> key;
  if (claim)
    key = claim->key;
  return write_job(
      "send_gift", std::move(claim),
      [=](pqxx::transaction_base& tx) -> db_result {
        auto recipient = tx.exec_prepared("user_alive", to);
        if (recipient.empty())
          return {db_status::not_found, {}, "no such recipient"};
        auto sender = tx.exec_prepared("user_alive", from);
        auto inserted = tx.exec_prepared("gift_insert", from, to, coins, key);
        auto gift_id = inserted[0][0].as<int64_t>();
        tx.exec_prepared("wallet_ensure", from);
        tx.exec_prepared("wallet_ensure", to);
        auto wallets = tx.exec_prepared("wallets_lock_pair", from, to);
        int64_t held = 0;
        for (const auto& row : wallets)
          if (row[0].as<int64_t>() == from)
            held = row[1].as<int64_t>();
        if (held < coins)
          return {db_status::insufficient_funds,
                  {},
                  "the balance is " + std::to_string(held) + " coins"};
        pqxx::result balance, received;
        try {
          balance = tx.exec_prepared("wallet_add", from, -coins);
          received = tx.exec_prepared("wallet_add", to, coins);
        } catch (const pqxx::sql_error& e) {
          if (e.sqlstate() != numeric_out_of_range)
            throw;
          return {db_status::conflict,
                  {},
                  "the recipient's balance would overflow"};
        }
        boost::json::object data{
            {"gift_id", gift_id},
            {"from_user_id", from},
            {"from_display_name", sender.empty() ? "" : sender[0][0].c_str()},
            {"coins", coins}};
        auto n = tx.exec_prepared("notification_insert", to, "gift_received",
                                  boost::json::serialize(data));
        boost::json::object gift{{"id", gift_id},
                                 {"from_user_id", from},
                                 {"to_user_id", to},
                                 {"coins", coins},
                                 {"balance", balance[0][0].as<int64_t>()}};
        return {db_status::ok,
                boost::json::object{
                    {"gift", std::move(gift)},
                    {"balance_version", balance[0][1].as<int64_t>()},
                    {"recipient_balance", received[0][0].as<int64_t>()},
                    {"recipient_version", received[0][1].as<int64_t>()},
                    {"notification", notification_json(n[0])}},
                {}};
      });
}

} // namespace switchboard::store
