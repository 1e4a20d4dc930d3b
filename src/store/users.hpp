// users — db_jobs for accounts (see books.hpp for the rules every job
// follows). Password hashing runs inside register_user and login_user, off
// the scheduler: send those two to the db_pool as db_hash_job (its bounded
// hashing queue, actors/db_pool), never as plain jobs.
#pragma once

#include "switchboard/db.hpp"

#include "src/store/write_transaction.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace switchboard::store {

/// `user` {id, username, display_name, bio, follower_count}; not_found.
db_job load_user(int64_t id);

/// The new user (with an empty wallet); conflict if the username is taken.
/// Hashes first, then inserts in a short transaction. A hashing job.
db_job register_user(std::string username, std::string password,
                     std::string display_name,
                     std::optional<idempotency_claim> claim);

/// The user when the pair matches; unauthorized otherwise. Reads the stored
/// hash, then verifies it with no transaction open. A hashing job.
db_job login_user(std::string username, std::string password);

/// The updated user; not_found if the account is gone.
db_job update_user(int64_t id, std::optional<std::string> display_name,
                   std::optional<std::string> bio);

/// {items:[{id, coins, price_cents, label}]}
db_job load_coin_packages();

/// Marks the account deleted (it no longer signs in, reads as not found,
/// and its tokens stop working); not_found if it already is.
db_job delete_user(int64_t id);

/// {users:[{user_id, display_name}]} for those of `ids` that exist.
db_job load_display_names(std::vector<int64_t> ids);

} // namespace switchboard::store
