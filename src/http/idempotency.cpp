// idempotency — see idempotency.hpp.
#include "src/http/idempotency.hpp"

#include "src/http/errors.hpp"

#include <openssl/sha.h>

namespace switchboard::http {

bool read_idempotency_key(route_call& call, std::optional<std::string>& key) {
  key.reset();
  auto header = call.request.header("idempotency-key");
  if (!header)
    return true;
  bool printable = !header->empty() && header->size() <= 200;
  for (char c : *header)
    printable = printable && ((c >= 0x20 && c <= 0x7E) || c == '\t');
  if (!printable) {
    call.respond(bad_request(
        "Idempotency-Key: must be 1 to 200 printable ASCII characters"));
    return false;
  }
  key = std::string{*header};
  return true;
}

std::string user_caller(int64_t user_id) {
  return "user:" + std::to_string(user_id);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof digest);
  for (unsigned char b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 0xF]);
  }
  return out;
}

std::optional<store::idempotency_claim>
idempotency_claim_for(const route_call& call, std::string caller,
                      const std::optional<std::string>& key,
                      std::string_view covered) {
  if (!key)
    return std::nullopt;
  std::string request = call.request.method;
  request.append(" ").append(call.path).append("\n").append(covered);
  return store::idempotency_claim{std::move(caller), *key, sha256_hex(request)};
}

std::optional<store::idempotency_claim>
idempotency_claim_for(const route_call& call, std::string caller,
                      const std::optional<std::string>& key) {
  return idempotency_claim_for(call, std::move(caller), key, call.request.body);
}

} // namespace switchboard::http
