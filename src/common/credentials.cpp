// credentials — see credentials.hpp.
#include "src/common/credentials.hpp"

#include <boost/url/parse.hpp>

#include <cctype>

namespace switchboard {

credential credential_of(std::optional<std::string_view> authorization,
                         std::string_view target) {
  credential out;
  if (authorization) {
    out.given = true;
    constexpr std::string_view scheme = "bearer ";
    if (authorization->size() > scheme.size()) {
      bool bearer = true;
      for (std::size_t i = 0; i < scheme.size(); ++i)
        bearer = bearer && std::tolower(static_cast<unsigned char>(
                               (*authorization)[i])) == scheme[i];
      if (bearer)
        out.token = std::string{authorization->substr(scheme.size())};
    }
    return out;
  }
  auto url = boost::urls::parse_origin_form(target);
  if (!url)
    return out;
  for (auto param : url->params())
    if (param.key == "access_token") {
      if (out.given) { // twice: which one was meant? Neither.
        out.token.clear();
        return out;
      }
      out.given = true;
      out.token = param.value;
    }
  return out;
}

} // namespace switchboard
