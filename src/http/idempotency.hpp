// idempotency — the HTTP half of the contract's "Retries are safe": reads a
// write's Idempotency-Key and turns it into the store's claim (who asks,
// the key, and a SHA-256 fingerprint of the request). The store half, which
// takes the claim in the write's own transaction, is
// src/store/write_transaction.hpp; the answer of a replay is run_write's
// (writes.hpp). Never touches the database or Redis itself.
#pragma once

#include "src/http/router.hpp"
#include "src/store/write_transaction.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchboard::http {

/// The request's Idempotency-Key into `key` (nullopt when absent); false
/// when it is malformed (1 to 200 printable ASCII characters or tabs),
/// which has been answered 400.
bool read_idempotency_key(route_call& call, std::optional<std::string>& key);

/// The caller of a signed-in write.
std::string user_caller(int64_t user_id);

/// The claim for `key` by `caller` (none without a key). The fingerprint
/// covers the method, the path and `covered` (the request body unless a
/// handler must leave a secret out of it, as register does the password).
std::optional<store::idempotency_claim>
idempotency_claim_for(const route_call& call, std::string caller,
                      const std::optional<std::string>& key,
                      std::string_view covered);

/// As above, covering the whole request body.
std::optional<store::idempotency_claim>
idempotency_claim_for(const route_call& call, std::string caller,
                      const std::optional<std::string>& key);

/// Lowercase hex SHA-256 of `data` (OpenSSL).
std::string sha256_hex(std::string_view data);

} // namespace switchboard::http
