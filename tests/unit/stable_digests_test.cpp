// stable_digests_test — the digests that must agree between nodes of
// different builds (issue 15, rolling upgrades): the SSE resume id's
// channel-set checksum (FNV-1a 32) and the Lua script digests (SHA-1, as
// Redis names scripts), against published test vectors.
#define CAF_SUITE stable_digests
#include "caf/test/unit_test.hpp"
#include "src/live/resume_token.hpp"
#include "src/redis/script_digest.hpp"

using namespace switchboard;

CAF_TEST(FNV - 1a 32 matches its published vectors) {
  CAF_CHECK_EQUAL(live::fnv1a_32(""), 0x811c9dc5u);
  CAF_CHECK_EQUAL(live::fnv1a_32("a"), 0xe40c292cu);
  CAF_CHECK_EQUAL(live::fnv1a_32("foobar"), 0xbf9cf968u);
}

CAF_TEST(the channel - set checksum is FNV -
         1a over the names each ended by a newline) {
  CAF_CHECK_EQUAL(live::channel_set_checksum({"books:1"}), "c4be7b3e");
  CAF_CHECK_EQUAL(live::channel_set_checksum({"books:1", "comments:chapter:9"}),
                  "10b494f8");
  auto id = live::encode_resume({{"books:1", 5}, {"comments:chapter:9", 17}});
  CAF_CHECK_EQUAL(id, "10b494f8.5-17");
  auto back = live::decode_resume(id, {"comments:chapter:9", "books:1"});
  CAF_REQUIRE(back.has_value());
  CAF_CHECK_EQUAL(back->at("comments:chapter:9"), 17);
  CAF_CHECK(
      !live::decode_resume("c4be7b3e.5-17", {"comments:chapter:9", "books:1"}));
}

CAF_TEST(script digests are SHA - 1 in lowercase hex) {
  CAF_CHECK_EQUAL(redis::script_digest(""),
                  "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CAF_CHECK_EQUAL(redis::script_digest("abc"),
                  "a9993e364706816aba3e25717850c26c9cd0d89d");
  // What `redis-cli SCRIPT LOAD "return 1"` answers.
  CAF_CHECK_EQUAL(redis::script_digest("return 1"),
                  "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}
