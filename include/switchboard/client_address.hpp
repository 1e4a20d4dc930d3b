// client_address — what a per-address limit counts as "one client": an IPv4
// address as it is, an IPv6 address by its /64 (one subscriber's network:
// a host picks any address in it at will, so counting whole IPv6 addresses
// would give one client billions of allowances). IPv4-mapped IPv6 is IPv4.
// Pure; shared by the net layer (request rates) and the live layer
// (anonymous subscriptions).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <string>
#include <string_view>

namespace switchboard {

inline std::string address_key(std::string_view address) {
  boost::system::error_code ec;
  auto parsed = boost::asio::ip::make_address(std::string{address}, ec);
  if (ec)
    return std::string{address}; // unknown form: counted as it is
  if (parsed.is_v6()) {
    auto v6 = parsed.to_v6();
    if (v6.is_v4_mapped())
      return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6)
          .to_string();
    auto bytes = v6.to_bytes();
    for (std::size_t i = 8; i < bytes.size(); ++i)
      bytes[i] = 0;
    return boost::asio::ip::address_v6{bytes}.to_string() + "/64";
  }
  return parsed.to_string();
}

} // namespace switchboard
