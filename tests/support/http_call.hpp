// One HTTP/1.1 request to 127.0.0.1:port, as the end-to-end tests make
// them to smppd's API and metrics: a JSON body, optional extra headers,
// a 10 s limit. Returns the status and the body; `header`, when given,
// receives that response header's value (empty if absent). Tests only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace smppd::test {

inline std::pair<int, std::string> http_call(boost::beast::http::verb verb, std::uint16_t port,
                                             const std::string& target, const std::string& body = "",
                                             const std::vector<std::pair<std::string, std::string>>& headers = {},
                                             const char* header_name = nullptr, std::string* header = nullptr) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::beast::tcp_stream s(io);
  s.expires_after(std::chrono::seconds(10));
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  http::write(s, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  if (header_name && header) *header = std::string(res[header_name]);
  return {res.result_int(), res.body()};
}

}  // namespace smppd::test
