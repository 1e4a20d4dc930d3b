// passwords — slow, salted password hashes through libxcrypt (yescrypt for
// new hashes; any scheme crypt(3) knows, e.g. bcrypt from the demo seed, is
// verified). Costly on purpose (~20 ms of CPU): call only from db_jobs sent
// as db_hash_job (a db worker's thread, under the pool's hashing cap), never
// on the actor scheduler or an io thread.
#pragma once

#include <string>

namespace switchboard::store {

/// A new hash of `password` with a fresh random salt; throws on failure.
std::string hash_password(const std::string& password);

/// Whether `password` matches `hash`, in time independent of where they
/// differ. An unusable hash never matches.
bool verify_password(const std::string& password, const std::string& hash);

/// Burns the time a verification takes, for unknown users (so response time
/// does not tell which usernames exist).
void spend_verification_time(const std::string& password);

} // namespace switchboard::store
