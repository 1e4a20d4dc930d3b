// address_limits_test — the per-address bookkeeping behind the bounds on
// unauthenticated clients: address_key (IPv6 by /64), the request allowance
// (src/net/unauthenticated_requests; time is passed in, so refills are exact)
// and the anonymous subscription shares (src/live/anonymous_subscriptions).
// No actors, no sockets.
#define CAF_SUITE address_limits
#include "switchboard/client_address.hpp"

#include "caf/test/unit_test.hpp"
#include "src/live/anonymous_subscriptions.hpp"
#include "src/net/unauthenticated_requests.hpp"

using namespace switchboard;
using namespace std::chrono_literals;

CAF_TEST(address keys count an IPv6 network by its / 64) {
  CAF_CHECK_EQUAL(address_key("192.0.2.7"), "192.0.2.7");
  CAF_CHECK_EQUAL(address_key("::ffff:192.0.2.7"), "192.0.2.7");
  CAF_CHECK_EQUAL(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  CAF_CHECK_EQUAL(address_key("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::/64");
  CAF_CHECK_NOT_EQUAL(address_key("2001:db8:1:3::1"),
                      address_key("2001:db8:1:2::1"));
  CAF_CHECK_EQUAL(address_key("not an address"), "not an address");
}

CAF_TEST(
    requests without a credential spend the burst then refill at the rate) {
  net::unauthenticated_requests limits{2, 3, 100};
  auto t0 = net::unauthenticated_requests::clock::now();
  for (int i = 0; i < 3; ++i)
    CAF_CHECK_EQUAL(limits.admit("10.0.0.1", false, t0).wait.count(), 0);
  auto refused = limits.admit("10.0.0.1", false, t0);
  CAF_CHECK_GREATER(refused.wait.count(), 0);
  CAF_CHECK_LESS_OR_EQUAL(refused.wait.count(), 501); // 1 token at 2/s
  // A credential is not charged, nor refused for the anonymous bucket.
  CAF_CHECK_EQUAL(limits.admit("10.0.0.1", true, t0).wait.count(), 0);
  // Another address has its own bucket.
  CAF_CHECK_EQUAL(limits.admit("10.0.0.2", false, t0).wait.count(), 0);
  // Half a second later one token is back, and only one.
  CAF_CHECK_EQUAL(limits.admit("10.0.0.1", false, t0 + 500ms).wait.count(), 0);
  CAF_CHECK_GREATER(limits.admit("10.0.0.1", false, t0 + 500ms).wait.count(),
                    0);
}

CAF_TEST(
    refused credentials past the burst refuse every request of the address) {
  net::unauthenticated_requests limits{1, 2, 100};
  auto t0 = net::unauthenticated_requests::clock::now();
  limits.refused_credential("10.0.0.3", t0);
  CAF_CHECK_EQUAL(limits.admit("10.0.0.3", true, t0).wait.count(), 0);
  limits.refused_credential("10.0.0.3", t0);
  CAF_CHECK_GREATER(limits.admit("10.0.0.3", true, t0).wait.count(), 0);
  CAF_CHECK_GREATER(limits.admit("10.0.0.3", false, t0).wait.count(), 0);
  CAF_CHECK_EQUAL(limits.admit("10.0.0.3", true, t0 + 1s).wait.count(), 0);
}

CAF_TEST(
    a full table drops refilled addresses and lets the rest through uncounted) {
  net::unauthenticated_requests limits{1, 1, 2};
  auto t0 = net::unauthenticated_requests::clock::now();
  CAF_CHECK(!limits.admit("10.0.1.1", false, t0).untracked);
  CAF_CHECK(!limits.admit("10.0.1.2", false, t0).untracked);
  auto third = limits.admit("10.0.1.3", false, t0);
  CAF_CHECK(third.untracked);
  CAF_CHECK_EQUAL(third.wait.count(), 0);
  CAF_CHECK_EQUAL(limits.tracked(), 2u);
  // A second on, both have their allowance back: dropped for the new one.
  CAF_CHECK(!limits.admit("10.0.1.3", false, t0 + 1s).untracked);
  CAF_CHECK_EQUAL(limits.tracked(), 1u);
}

CAF_TEST(rate zero turns the limit off) {
  net::unauthenticated_requests limits{0, 1, 1};
  auto t0 = net::unauthenticated_requests::clock::now();
  for (int i = 0; i < 10; ++i)
    CAF_CHECK_EQUAL(limits.admit("10.0.0.9", false, t0).wait.count(), 0);
  CAF_CHECK_EQUAL(limits.tracked(), 0u);
}

CAF_TEST(anonymous subscription shares are bounded per address and given back) {
  auto table = std::make_shared<live::anonymous_subscriptions>(3);
  {
    auto a = table->for_address("10.0.2.1");
    auto b = table->for_address("10.0.2.1");
    CAF_CHECK(a.take(2));
    CAF_CHECK(!b.take(2)); // all or none
    CAF_CHECK_EQUAL(b.count(), 0u);
    CAF_CHECK(b.take(1));
    CAF_CHECK(!a.take());
    auto other = table->for_address("10.0.2.2");
    CAF_CHECK(other.take(3));
    a.release(1);
    CAF_CHECK(b.take());
    CAF_CHECK_EQUAL(table->addresses(), 2u);
    auto moved = std::move(b); // a moved share is given back once
    CAF_CHECK_EQUAL(moved.count(), 2u);
  }
  CAF_CHECK_EQUAL(table->addresses(), 0u); // destroyed holds gave it all back
  auto off = std::make_shared<live::anonymous_subscriptions>(0);
  auto unbounded = off->for_address("10.0.2.3");
  CAF_CHECK(unbounded.take(1000));
  CAF_CHECK_EQUAL(off->addresses(), 0u);
}
