// static_site — see static_site.hpp. Content types by extension: the few a
// Vite build produces; anything else is application/octet-stream.
#include "src/http/static_site.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace switchboard::http {

namespace {

namespace fs = std::filesystem;

std::string content_type_of(const fs::path& path) {
  static const std::unordered_map<std::string, std::string> types{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json; charset=utf-8"},
  };
  auto i = types.find(path.extension().string());
  return i == types.end() ? "application/octet-stream" : i->second;
}

} // namespace

std::shared_ptr<const static_site> static_site::load(const std::string& root,
                                                     std::size_t max_bytes,
                                                     std::string& error) {
  auto site = std::make_shared<static_site>();
  std::error_code ec;
  if (root.empty() || !fs::is_directory(root, ec))
    return site;
  auto base = fs::canonical(root, ec);
  if (ec)
    return site;
  std::size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(base, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec))
      continue;
    auto relative = fs::relative(it->path(), base, ec).generic_string();
    if (ec || relative.rfind("..", 0) == 0)
      continue;
    std::ifstream in{it->path(), std::ios::binary};
    std::ostringstream bytes;
    bytes << in.rdbuf();
    file f;
    f.body = bytes.str();
    total += f.body.size();
    if (total > max_bytes) {
      error = root + ": more than web_max_bytes (" + std::to_string(max_bytes) +
              ") of files";
      return std::make_shared<static_site>();
    }
    f.content_type = content_type_of(it->path());
    char tag[24];
    std::snprintf(tag, sizeof(tag), "\"%016zx\"",
                  std::hash<std::string>{}(f.body));
    f.etag = tag;
    f.immutable = relative.rfind("assets/", 0) == 0;
    site->files_.emplace("/" + relative, std::move(f));
  }
  return site;
}

const static_site::file* static_site::find(const std::string& path) const {
  auto i = files_.find(path);
  return i == files_.end() ? nullptr : &i->second;
}

} // namespace switchboard::http
