// wallet — db_jobs that read and move coins: the balance, a (simulated)
// purchase of a coin package, and a gift between two users. A gift is one
// transaction that locks both wallets in id order, never drives a balance
// below zero, and records the receiver's notification; an Idempotency-Key
// makes a repeated gift (on any node, even at the same moment) return the
// first one instead of moving coins again. Never touches Redis.
#pragma once

#include "switchboard/db.hpp"

#include "src/store/write_transaction.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace switchboard::store {

/// {coins, version}: version rises with every change of the balance.
db_job load_balance(int64_t user_id);

/// {coins, version}: the balance after the purchase; not_found for an
/// unknown package.
db_job purchase_package(int64_t user_id, int64_t package_id,
                        std::optional<idempotency_claim> claim);

/// {gift:{id, from_user_id, to_user_id, coins, balance}, balance_version,
///  recipient_balance, recipient_version, notification}; not_found
/// (recipient), insufficient_funds, conflict (the key was used for another
/// request, or a balance would overflow).
db_job send_gift(int64_t from_user_id, int64_t to_user_id, int64_t coins,
                 std::optional<idempotency_claim> claim);

} // namespace switchboard::store
