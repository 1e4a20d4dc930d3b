// script_digest — see script_digest.hpp.
#include "src/redis/script_digest.hpp"

#include <openssl/evp.h>
#include <stdexcept>

namespace switchboard::redis {

std::string script_digest(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(),
                 nullptr) != 1 ||
      length != 20)
    throw std::runtime_error("SHA-1 unavailable in libcrypto");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(40, '0');
  for (unsigned i = 0; i < 20; ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 0xf];
  }
  return out;
}

} // namespace switchboard::redis
