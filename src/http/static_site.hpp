// static_site — the demo web app's built files (web/dist), read into memory
// once at start so serving them never blocks an actor on the disk. Owns an
// immutable table path -> bytes; bounded by web_max_bytes. Never serves
// anything outside its root, and never reloads (restart to deploy).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

namespace switchboard::http {

class static_site {
public:
  struct file {
    std::string body;
    std::string content_type;
    std::string etag;
    bool immutable = false; // under assets/: named by content hash
  };

  /// Reads every regular file under `root` (no symlinks out of it). An
  /// absent root gives an empty site; more than `max_bytes` in all is an
  /// error (`error` set, empty site).
  static std::shared_ptr<const static_site>
  load(const std::string& root, std::size_t max_bytes, std::string& error);

  /// The file at `path` ("/index.html", "/assets/x.js"), or null.
  const file* find(const std::string& path) const;

  bool empty() const { return files_.empty(); }
  std::size_t size() const { return files_.size(); }

private:
  std::unordered_map<std::string, file> files_;
};

using static_site_ptr = std::shared_ptr<const static_site>;

} // namespace switchboard::http
