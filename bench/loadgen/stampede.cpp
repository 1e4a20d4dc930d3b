// bench/loadgen/stampede.cpp — see stampede.hpp.
#include "stampede.hpp"

#include "subscriber.hpp" // open_from_source

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <memory>

namespace loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;

namespace {

struct reader : std::enable_shared_from_this<reader> {
  reader(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  beast::flat_buffer buffer;
  http::request<http::empty_body> request;
  http::response<http::string_body> response;
};

} // namespace

stampede_result run_stampede(asio::io_context& io, const options& opts) {
  stampede_result result;
  result.requests = opts.requests;
  std::vector<std::shared_ptr<reader>> readers;
  int settled = 0;
  tcp::endpoint server(asio::ip::make_address(opts.host), opts.port);
  for (int i = 0; i < opts.requests; ++i) {
    auto r = std::make_shared<reader>(io);
    readers.push_back(r);
    error_code error;
    open_from_source(r->socket, 1 + i % opts.sources, error);
    if (error) {
      ++settled;
      continue;
    }
    r->socket.async_connect(server, [&, r](error_code error) {
      ++settled;
      if (!error) {
        ++result.connected;
        r->socket.set_option(tcp::no_delay(true), error);
      }
    });
  }
  auto deadline = clock_type::now() +
                  std::chrono::duration_cast<clock_type::duration>(
                      std::chrono::duration<double>(opts.connect_timeout_s));
  while (settled < opts.requests && clock_type::now() < deadline)
    io.run_one_until(deadline);
  if (result.connected < opts.requests)
    return result;

  auto start = clock_type::now();
  int finished = 0;
  for (auto& r : readers) {
    r->request.method(http::verb::get);
    r->request.target(opts.path);
    r->request.version(11);
    r->request.set(http::field::host, opts.host);
    http::async_write(r->socket, r->request, [&, r](error_code error, size_t) {
      if (error) {
        ++finished;
        return;
      }
      http::async_read(
          r->socket, r->buffer, r->response, [&, r](error_code error, size_t) {
            ++finished;
            if (error)
              return;
            ++result.answered;
            auto status = r->response.result_int();
            ++result.statuses[status];
            if (status == 200)
              ++result.ok;
            double ms = std::chrono::duration<double, std::milli>(
                            clock_type::now() - start)
                            .count();
            result.latencies_ms.push_back(ms);
            result.all_answered_ms = std::max(result.all_answered_ms, ms);
          });
    });
  }
  deadline = clock_type::now() + std::chrono::seconds(30);
  while (finished < opts.requests && clock_type::now() < deadline)
    io.run_one_until(deadline);
  for (auto& r : readers) {
    error_code ignored;
    r->socket.close(ignored);
  }
  io.poll();
  return result;
}

} // namespace loadgen
