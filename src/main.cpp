// main — reads the configuration, sets up logging and runs the node (or
// only the migrations). Holds no logic of its own.
#include "switchboard/config.hpp"

#include "src/node/node.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

int main(int argc, char** argv) {
  auto loaded = switchboard::load_config(argc, argv);
  if (loaded.show_help) {
    std::cout << switchboard::config_help();
    return 0;
  }
  if (!loaded.errors.empty()) {
    for (auto& error : loaded.errors)
      std::cerr << "switchboard: " << error << '\n';
    std::cerr << "see switchboard --help\n";
    return 2;
  }
  const auto& config = loaded.config;
  auto logger = spdlog::stdout_color_mt("switchboard");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + config.node_id +
                      "] %v");
  spdlog::flush_on(spdlog::level::info);
  if (loaded.migrate_only)
    return switchboard::migrate_only(config);
  return switchboard::run_node(config);
}
