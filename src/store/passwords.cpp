// passwords — see passwords.hpp.
#include "src/store/passwords.hpp"

#include <crypt.h>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace switchboard::store {

std::string hash_password(const std::string& password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // "$y$" = yescrypt; count 0 = the library's recommended cost; a null
  // random buffer makes libxcrypt draw the salt from the OS.
  if (crypt_gensalt_rn("$y$", 0, nullptr, 0, setting, sizeof(setting)) ==
      nullptr)
    throw std::runtime_error("crypt_gensalt_rn failed");
  auto data = std::make_unique<crypt_data>();
  const char* out =
      crypt_rn(password.c_str(), setting, data.get(), sizeof(crypt_data));
  if (out == nullptr || out[0] == '*')
    throw std::runtime_error("crypt_rn failed");
  return out;
}

bool verify_password(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  const char* out =
      crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || out[0] == '*')
    return false;
  auto len = std::strlen(out);
  if (len != hash.size())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < len; ++i)
    diff |= static_cast<unsigned char>(out[i] ^ hash[i]);
  return diff == 0;
}

void spend_verification_time(const std::string& password) {
  static const std::string dummy = hash_password("not a real password");
  verify_password(password, dummy);
}

} // namespace switchboard::store
