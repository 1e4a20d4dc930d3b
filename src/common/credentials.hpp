// credentials — the one reading of a request's session credential, for
// HTTP, WebSocket and SSE alike (issue 16: one parser, one precedence rule).
// An Authorization header, when present, is the credential: it must be
// `Bearer <token>` (the scheme in any case); anything else there is a bad
// credential, whatever the query says. Without the header, the
// `access_token` query parameter is (browsers' EventSource and WebSocket
// cannot send headers); given twice, it is a bad one (the router refuses a
// repeated parameter on HTTP with 400 before this is asked). A credential that
// is there but empty or malformed is a bad one (401 / 4001), never "no
// credential" (anonymous). A leaf.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchboard {

struct credential {
  bool given = false; // a header or an access_token parameter was sent
  std::string token;  // the bearer token; empty when given but malformed
};

/// The credential of a request with `authorization` (the header, if sent)
/// and `target` (origin-form, query included).
credential credential_of(std::optional<std::string_view> authorization,
                         std::string_view target);

} // namespace switchboard
