// published_format_test — what travels on Pub/Sub between nodes (issue 15):
// "<offset> <previous> <event> <json>", and the format of earlier nodes,
// "<offset> <event> <json>" (read as consecutive offsets), told apart by
// the JSON's brace; anything else is refused.
#define CAF_SUITE published_format
#include "caf/test/unit_test.hpp"
#include "src/live/publisher.hpp"

using namespace switchboard;

CAF_TEST(a message names the offset before it) {
  auto m = live::parse_published("books:1", "1700000000000123 1700000000000001 "
                                            "book.updated {\"channel\":1}");
  CAF_REQUIRE(m != nullptr);
  CAF_CHECK_EQUAL(m->channel, "books:1");
  CAF_CHECK_EQUAL(m->offset, 1700000000000123);
  CAF_CHECK_EQUAL(m->previous, 1700000000000001);
  CAF_CHECK_EQUAL(m->event, "book.updated");
  CAF_CHECK_EQUAL(m->json, "{\"channel\":1}");
  auto first = live::parse_published("books:1", "5 0 e {}");
  CAF_REQUIRE(first != nullptr);
  CAF_CHECK_EQUAL(first->previous, 0);
}

CAF_TEST(a message of an earlier node is read as following the offset before) {
  auto m = live::parse_published("books:1", "42 comment.created {\"a\":1}");
  CAF_REQUIRE(m != nullptr);
  CAF_CHECK_EQUAL(m->offset, 42);
  CAF_CHECK_EQUAL(m->previous, 41);
  CAF_CHECK_EQUAL(m->event, "comment.created");
  CAF_CHECK_EQUAL(m->json, "{\"a\":1}");
  // An all-digit event name of the old format is still an event name.
  auto digits = live::parse_published("books:1", "42 123 {}");
  CAF_REQUIRE(digits != nullptr);
  CAF_CHECK_EQUAL(digits->event, "123");
  CAF_CHECK_EQUAL(digits->previous, 41);
}

CAF_TEST(malformed messages are refused) {
  for (const char* bad : {"", "42", "42 e", "x 1 e {}", "42 x e {}",
                          "42 42 e {}", "42 43 e {}", "42 1 e", "-1 0 e {}"})
    CAF_CHECK_EQUAL(live::parse_published("c", bad), nullptr);
}
