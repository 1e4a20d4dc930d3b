// credentials_test — the one reading of a session credential (HTTP,
// WebSocket and SSE alike): an Authorization header is the credential even
// when a query token is there too; without one, the access_token parameter
// (given twice: a bad credential).
#define CAF_SUITE credentials
#include "caf/test/unit_test.hpp"
#include "src/common/credentials.hpp"

using namespace switchboard;

namespace {

credential of(std::optional<std::string_view> header, std::string_view target) {
  return credential_of(header, target);
}

} // namespace

CAF_TEST(a bearer header is the credential and its scheme is in any case) {
  for (const char* h : {"Bearer abc", "bearer abc", "BEARER abc"}) {
    auto c = of(std::string_view{h}, "/api/me/balance");
    CAF_CHECK(c.given);
    CAF_CHECK_EQUAL(c.token, "abc");
  }
}

CAF_TEST(any other header is a bad credential whatever the query says) {
  for (const char* h :
       {"", "Bearer", "Bearer ", "Basic abc", "Token abc", "abc"}) {
    auto c = of(std::string_view{h}, "/ws?access_token=good");
    CAF_CHECK(c.given);
    CAF_CHECK_EQUAL(c.token, "");
  }
}

CAF_TEST(without a header the access_token parameter counts) {
  auto c = of(std::nullopt, "/sse?channels=a&access_token=one");
  CAF_CHECK(c.given);
  CAF_CHECK_EQUAL(c.token, "one");
  auto twice = of(std::nullopt, "/sse?access_token=one&access_token=one");
  CAF_CHECK(twice.given);
  CAF_CHECK_EQUAL(twice.token, ""); // ambiguous: a bad credential
  auto empty = of(std::nullopt, "/sse?access_token=");
  CAF_CHECK(empty.given);
  CAF_CHECK_EQUAL(empty.token, "");
  auto decoded = of(std::nullopt, "/ws?access_token=a%2Bb");
  CAF_CHECK_EQUAL(decoded.token, "a+b");
  auto none = of(std::nullopt, "/ws?channels=a");
  CAF_CHECK(!none.given);
  CAF_CHECK(!of(std::nullopt, "not a target").given);
}
