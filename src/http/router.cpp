// router — see router.hpp. Targets are parsed with Boost.URL; a target that
// is not a valid origin-form URL is a 400, never a guess.
#include "src/http/router.hpp"

#include "src/http/errors.hpp"

#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

namespace switchboard::http {

struct responder::state {
  http_sink_ptr sink;
  bool sent = false;

  ~state() {
    if (!sent && sink) {
      spdlog::error("router: a handler never answered; sending 500");
      sink->send(error_response(500, "internal", "internal error"));
    }
  }
};

responder::responder(http_sink_ptr sink) : state_(std::make_shared<state>()) {
  state_->sink = std::move(sink);
}

void responder::operator()(http_response response) const {
  if (state_->sent)
    return;
  state_->sent = true;
  state_->sink->send(std::move(response));
}

const std::string* route_call::query_param(std::string_view name) const {
  for (auto& [key, value] : query)
    if (key == name)
      return &value;
  return nullptr;
}

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos)
      end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

} // namespace

void router::add(std::string method, std::string_view pattern,
                 handler_fn handler, std::vector<std::string> query) {
  query.emplace_back("access_token");
  routes_.push_back({std::move(method), split_path(pattern), handler,
                     std::move(query), route_layer::actor, nullptr,
                     std::string{pattern}});
}

void router::add_io(std::string method, std::string_view pattern,
                    handler_fn handler, io_handler_fn on_io,
                    std::vector<std::string> query) {
  add(std::move(method), pattern, handler, std::move(query));
  routes_.back().layer = route_layer::io_thread;
  routes_.back().io_handler = on_io;
  outside_actor_.push_back(routes_.size() - 1);
}

void router::add_websocket(std::string_view pattern, handler_fn handler,
                           std::vector<std::string> query) {
  add("GET", pattern, handler, std::move(query));
  routes_.back().layer = route_layer::websocket;
  outside_actor_.push_back(routes_.size() - 1);
}

route_match router::outside_actor(std::string_view method,
                                  std::string_view target) const {
  auto path = target.substr(0, target.find('?'));
  for (auto index : outside_actor_) {
    const auto& r = routes_[index];
    if (r.pattern == path && r.method == method)
      return {r.layer, r.io_handler, r.pattern, &r.query};
  }
  return {};
}

namespace {

using query_list = std::vector<std::pair<std::string, std::string>>;

/// The first query parameter `allowed` does not name or that comes twice.
const std::string* refused_param(const std::vector<std::string>& allowed,
                                 const query_list& query) {
  for (std::size_t i = 0; i < query.size(); ++i) {
    const auto& key = query[i].first;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return &key;
    for (std::size_t j = 0; j < i; ++j)
      if (query[j].first == key)
        return &key;
  }
  return nullptr;
}

std::string refusal_of(const std::string& name) {
  // Names are the client's bytes: cut, so the answer stays small.
  return "query parameter " + name.substr(0, 64) +
         ": not taken here (or given twice)";
}

} // namespace

std::string router::refused_query(const route_match& match,
                                  std::string_view target) {
  if (target.find('?') == std::string_view::npos || match.query == nullptr)
    return {};
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed)
    return "malformed request target";
  query_list query;
  for (auto param : parsed->params())
    query.emplace_back(param.key, param.has_value ? param.value : "");
  auto* bad = refused_param(*match.query, query);
  return bad == nullptr ? std::string{} : refusal_of(*bad);
}

void router::dispatch(route_call& call) const {
  auto parsed = boost::urls::parse_origin_form(call.request.target);
  if (!parsed) {
    call.respond(bad_request("malformed request target"));
    return;
  }
  std::vector<std::string> segments;
  for (auto segment : parsed->segments())
    segments.push_back(segment);
  if (segments.empty())
    segments.emplace_back(); // "/" is one empty segment, as in split_path
  call.path = parsed->path();
  for (auto param : parsed->params())
    call.query.emplace_back(param.key, param.has_value ? param.value : "");
  bool path_matched = false;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size())
      continue;
    std::vector<std::string> params;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      if (!r.segments[i].empty() && r.segments[i][0] == ':')
        params.push_back(segments[i]);
      else
        match = r.segments[i] == segments[i];
    }
    if (!match)
      continue;
    path_matched = true;
    // HEAD is GET without the body (the session drops it, keeping the
    // length): every GET route answers HEAD too.
    if (r.method != call.request.method &&
        !(r.method == "GET" && call.request.method == "HEAD"))
      continue;
    if (auto* bad = refused_param(r.query, call.query)) {
      call.respond(bad_request(refusal_of(*bad)));
      return;
    }
    call.params = std::move(params);
    r.handler(call);
    return;
  }
  if (path_matched)
    call.respond(error_response(405, "method_not_allowed",
                                "method not allowed on this path"));
  else if (fallback_ != nullptr &&
           (call.request.method == "GET" || call.request.method == "HEAD"))
    fallback_(call);
  else
    call.respond(not_found("no such endpoint"));
}

bool id_param(route_call& call, size_t index, int64_t& id) {
  if (parse_id(call.params[index], id))
    return true;
  call.respond(bad_request("id: must be a positive 64-bit integer"));
  return false;
}

bool int_query(route_call& call, std::string_view name, int64_t min,
               int64_t max, int64_t fallback, int64_t& out) {
  auto* text = call.query_param(name);
  if (text == nullptr) {
    out = fallback;
    return true;
  }
  auto [end, ec] =
      std::from_chars(text->data(), text->data() + text->size(), out);
  if (ec == std::errc{} && end == text->data() + text->size() && out >= min &&
      out <= max)
    return true;
  call.respond(bad_request(std::string{name} + ": must be an integer from " +
                           std::to_string(min) + " to " + std::to_string(max)));
  return false;
}

bool id_query(route_call& call, std::string_view name, int64_t& out) {
  out = 0;
  auto* text = call.query_param(name);
  if (text == nullptr || parse_id(*text, out))
    return true;
  call.respond(
      bad_request(std::string{name} + ": must be a positive 64-bit integer"));
  return false;
}

} // namespace switchboard::http
