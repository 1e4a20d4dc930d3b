// config_test — the configuration sources and their precedence: defaults,
// then the file, then SB_* environment variables, then flags; unknown keys
// and malformed values are reported, never ignored.
#define CAF_SUITE config
#include "switchboard/config.hpp"

#include "caf/test/dsl.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

using namespace switchboard;

namespace {

struct temp_file {
  std::string path;
  explicit temp_file(const std::string& text) {
    char name[] = "/tmp/sb_config_XXXXXX";
    int fd = mkstemp(name);
    close(fd);
    path = name;
    std::ofstream{path} << text;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

config_load_result load(std::vector<std::string> args) {
  std::vector<const char*> argv{"switchboard"};
  for (auto& a : args)
    argv.push_back(a.c_str());
  return load_config(static_cast<int>(argv.size()), argv.data());
}

} // namespace

CAF_TEST(file then environment then flags) {
  temp_file file{"http_port = 9000\nnode_id = from-file\ndb_pool_size = 3\n"};
  setenv("SB_NODE_ID", "from-env", 1);
  setenv("SB_DB_POOL_SIZE", "5", 1);
  auto r = load({"--config=" + file.path, "--db-pool-size=7"});
  unsetenv("SB_NODE_ID");
  unsetenv("SB_DB_POOL_SIZE");
  CAF_REQUIRE(r.errors.empty());
  CAF_CHECK_EQUAL(r.config.http_port, 9000);
  CAF_CHECK_EQUAL(r.config.node_id, "from-env");
  CAF_CHECK_EQUAL(r.config.db_pool_size, 7u);
}

CAF_TEST(bad values and unknown keys are errors) {
  temp_file file{"http_port = 70000\nno_such_key = 1\n"};
  auto r = load({"--config=" + file.path, "--log-level=loud", "stray"});
  CAF_CHECK_EQUAL(r.errors.size(), 4u);
}

CAF_TEST(an explicit missing file is an error) {
  auto r = load({"--config=/nonexistent/switchboard.ini"});
  CAF_CHECK_EQUAL(r.errors.size(), 1u);
}

CAF_TEST(migrate only and defaults) {
  auto r = load({"--config=/dev/null", "--migrate-only"});
  CAF_CHECK(r.errors.empty());
  CAF_CHECK(r.migrate_only);
  // One event loop per core by default (io_threads = 0 resolves at load).
  CAF_CHECK_EQUAL(r.config.io_threads, usable_cores());
  CAF_CHECK(r.config.io_threads >= 1 && r.config.io_threads <= 64);
  CAF_CHECK_EQUAL(r.config.actor_max_throughput, 300u);
  CAF_CHECK(!r.config.node_id.empty());
}

CAF_TEST(an explicit io_threads is kept) {
  auto r = load({"--config=/dev/null", "--io_threads=3"});
  CAF_CHECK(r.errors.empty());
  CAF_CHECK_EQUAL(r.config.io_threads, 3u);
  CAF_CHECK_EQUAL(load({"--config=/dev/null", "--io_threads=65"}).errors.size(),
                  1u);
}
