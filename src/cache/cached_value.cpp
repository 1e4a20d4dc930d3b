// cached_value — see cached_value.hpp.
#include "src/cache/cached_value.hpp"

#include <boost/container_hash/hash.hpp>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

namespace switchboard {

std::string etag_of(const std::string& body) {
  auto hash = boost::hash_range(body.begin(), body.end());
  char buf[24];
  std::snprintf(buf, sizeof(buf), "\"%016zx\"", static_cast<size_t>(hash));
  return buf;
}

namespace {

int64_t ms(std::chrono::seconds s) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(s).count();
}

bool parse_int(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

} // namespace

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

cached_value::freshness cached_value::at(int64_t now_ms,
                                         const cache_policy& policy) const {
  if (now_ms < fresh_until_ms)
    return freshness::fresh;
  if (!found) // a remembered 404 is never served past its time
    return freshness::expired;
  if (now_ms < fresh_until_ms + ms(policy.stale))
    return freshness::stale_revalidate;
  if (now_ms < fresh_until_ms + ms(policy.grace))
    return freshness::grace;
  return freshness::expired;
}

std::size_t cached_value::bytes() const {
  return (body ? body->size() : 0) + etag.size() + sizeof(cached_value);
}

std::string cached_value::encode() const {
  std::string out = std::to_string(fresh_until_ms);
  out += ' ';
  out += std::to_string(load_ms);
  out += ' ';
  if (found)
    out += *body;
  else
    out += negative_marker;
  return out;
}

std::optional<cached_value> cached_value::decode(std::string_view text) {
  auto first = text.find(' ');
  if (first == std::string_view::npos)
    return std::nullopt;
  auto second = text.find(' ', first + 1);
  if (second == std::string_view::npos)
    return std::nullopt;
  cached_value v;
  if (!parse_int(text.substr(0, first), v.fresh_until_ms) ||
      !parse_int(text.substr(first + 1, second - first - 1), v.load_ms))
    return std::nullopt;
  auto body = text.substr(second + 1);
  if (body == negative_marker) {
    v.found = false;
    return v;
  }
  if (body.empty() || (body.front() != '{' && body.front() != '['))
    return std::nullopt;
  v.found = true;
  v.body = std::make_shared<const std::string>(body);
  v.etag = etag_of(*v.body);
  return v;
}

bool refresh_early(const cached_value& value, int64_t now_ms) {
  if (value.load_ms <= 0)
    return false;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> uniform{
      std::numeric_limits<double>::min(), 1.0};
  auto early = -static_cast<double>(value.load_ms) * std::log(uniform(rng));
  return static_cast<double>(now_ms) + early >=
         static_cast<double>(value.fresh_until_ms);
}

} // namespace switchboard
