// hot_responses — see hot_responses.hpp.
#include "src/net/hot_responses.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

namespace switchboard::net {

namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::string* header(const http_request& request, std::string_view name) {
  for (auto& [key, value] : request.headers)
    if (key == name)
      return &value;
  return nullptr;
}

const std::string* header(const http_response& response,
                          std::string_view name) {
  for (auto& [key, value] : response.headers)
    if (key == name)
      return &value;
  return nullptr;
}

} // namespace

std::size_t hot_responses::size_of(const std::string& target,
                                   const entry& kept) {
  // The strings' bytes plus the map node's overhead, roughly.
  return target.size() + kept.body.size() + kept.etag.size() +
         kept.cache_control.size() + kept.content_type.size() + 128;
}

void hot_responses::stale_from(uint64_t generation) {
  boost::asio::post(io_, [weak = weak_from_this(), generation] {
    auto self = weak.lock();
    if (!self || generation <= self->floor_)
      return;
    self->floor_ = generation;
    self->entries_.clear();
    self->bytes_ = 0;
  });
}

bool hot_responses::eligible(const http_request& request) {
  if (request.method != "GET" && request.method != "HEAD")
    return false;
  if (header(request, "authorization") != nullptr)
    return false; // a signed-in read also checks the account: the actors do
  return request.target.rfind("/api/", 0) == 0 &&
         request.target.find("access_token") == std::string::npos;
}

std::optional<http_response>
hot_responses::answer(const http_request& request) {
  auto i = entries_.find(request.target);
  if (i == entries_.end())
    return std::nullopt;
  auto& kept = i->second;
  if (kept.generation < floor_ || kept.until_ms <= wall_ms()) {
    bytes_ -= std::min(bytes_, size_of(i->first, kept));
    entries_.erase(i);
    return std::nullopt;
  }
  http_response response;
  response.content_type = kept.content_type;
  auto* if_none_match = header(request, "if-none-match");
  if (if_none_match && etag_matches(*if_none_match, kept.etag))
    response.status = 304;
  else
    response.body = kept.body;
  response.with("ETag", kept.etag);
  response.with("Cache-Control", kept.cache_control);
  response.with("X-Cache", "hit");
  stats_->cache.hits.fetch_add(1, std::memory_order_relaxed);
  stats_->cache.hot_hits.fetch_add(1, std::memory_order_relaxed);
  return response;
}

void hot_responses::keep(const std::string& target,
                         const http_response& response) {
  if (response.status != 200 || response.reuse_generation < floor_ ||
      response.reuse_generation == 0)
    return;
  auto* etag = header(response, "ETag");
  auto* cache_control = header(response, "Cache-Control");
  if (etag == nullptr || cache_control == nullptr)
    return;
  auto until = std::min(response.reuse_until_ms, wall_ms() + max_age_ms_);
  entry kept{response.body,
             *etag,
             *cache_control,
             response.content_type,
             response.reuse_generation,
             until};
  auto size = size_of(target, kept);
  if (size > max_bytes_)
    return;
  if (auto old = entries_.find(target); old != entries_.end()) {
    bytes_ -= std::min(bytes_, size_of(old->first, old->second));
    entries_.erase(old);
  }
  if (entries_.size() >= max_entries_ || bytes_ + size > max_bytes_) {
    // Full: start over rather than track recency; a second of misses
    // refills what is hot.
    entries_.clear();
    bytes_ = 0;
  }
  bytes_ += size;
  entries_.emplace(target, std::move(kept));
}

} // namespace switchboard::net
