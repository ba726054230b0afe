// Plumbing for the smsc-sim end-to-end tests: a temporary directory, the
// simulator as a child process (stopped by PID), a tiny blocking ESME built
// on the codec (plain TCP or TLS, every wait bounded), and readers for the
// counts JSON. Header-only; tests only; one thread per object.
#pragma once

#include <gtest/gtest.h>

#include <stdlib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "smpp/codec.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace smppd::test {

using namespace std::chrono_literals;

inline const std::string smsc_sim_binary = SMSC_SIM_BIN;

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

// The number after "key": in `json` (the first occurrence), or -1.
inline long long json_number(std::string_view json, std::string_view key) {
  std::string needle = "\"";
  needle.append(key).append("\":");
  const auto at = json.find(needle);
  if (at == std::string_view::npos) return -1;
  return std::stoll(std::string(json.substr(at + needle.size(), 24)));
}

// The object after "key": ("{...}" without nesting), or "".
inline std::string json_object(std::string_view json, std::string_view key) {
  std::string needle = "\"";
  needle.append(key).append("\":{");
  const auto at = json.find(needle);
  if (at == std::string_view::npos) return {};
  const auto end = json.find('}', at);
  return std::string(json.substr(at + needle.size() - 1, end - at - needle.size() + 2));
}

// A PDU read off the wire; the views of `pdu` point into `bytes`.
struct received {
  std::vector<std::uint8_t> bytes;
  smpp::pdu pdu;
  smpp::decode_result result;
  smpp::command_id id() const { return static_cast<smpp::command_id>(result.header.command_id); }
  std::uint32_t status() const { return result.header.command_status; }
  std::uint32_t sequence() const { return result.header.sequence_number; }
};

// A blocking ESME for tests: whole PDUs out, whole PDUs in, each wait
// bounded by a timeout.
class test_esme {
 public:
  explicit test_esme(std::uint16_t port, bool tls = false, std::string_view host = "127.0.0.1")
      : socket_(ioc_) {
    namespace asio = boost::asio;
    const asio::ip::tcp::endpoint ep(asio::ip::make_address(host), port);
    if (tls) {
      tls_context_.emplace(asio::ssl::context::tls_client);
      tls_context_->set_verify_mode(asio::ssl::verify_none);
      tls_.emplace(ioc_, *tls_context_);
    }
    boost::system::error_code ec;
    bool done = false;
    lowest().async_connect(ep, [&](const boost::system::error_code& e) {
      ec = e;
      done = true;
    });
    if (!run_until(done, 5s) || ec) {
      ADD_FAILURE() << "cannot connect to " << host << " port " << port << ": " << ec.message();
      return;
    }
    if (tls_) {
      done = false;
      tls_->async_handshake(asio::ssl::stream_base::client, [&](const boost::system::error_code& e) {
        ec = e;
        done = true;
      });
      if (!run_until(done, 5s) || ec) {
        ADD_FAILURE() << "TLS handshake failed: " << ec.message();
        return;
      }
    }
    connected_ = true;
  }

  bool connected() const { return connected_; }

  void send_bytes(std::span<const std::uint8_t> bytes) {
    boost::system::error_code ec;
    if (tls_)
      boost::asio::write(*tls_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
    else
      boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec) ADD_FAILURE() << "write failed: " << ec.message();
  }

  static std::vector<std::uint8_t> encoded(const smpp::pdu& p) {
    std::vector<std::uint8_t> out(smpp::encoded_size(p));
    const auto r = smpp::encode(p, out);
    EXPECT_TRUE(r) << r.ec.message() << " " << r.field;
    return out;
  }

  void send(const smpp::pdu& p) { send_bytes(encoded(p)); }

  // The next PDU, or nullopt on EOF, reset or timeout (closed() tells).
  std::optional<received> next(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const smpp::frame f = smpp::next_frame(buffer_);
      if (f.status == smpp::frame::state::complete) {
        received r;
        r.bytes.assign(buffer_.begin(), buffer_.begin() + f.length);
        buffer_.erase(buffer_.begin(), buffer_.begin() + f.length);
        r.result = smpp::decode(r.bytes, r.pdu);
        return r;
      }
      if (f.status == smpp::frame::state::bad_length) {
        ADD_FAILURE() << "bad command_length from the simulator";
        return std::nullopt;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || closed_) return std::nullopt;
      std::uint8_t chunk[65536];
      boost::system::error_code ec;
      std::size_t n = 0;
      bool done = false;
      auto handler = [&](const boost::system::error_code& e, std::size_t k) {
        ec = e;
        n = k;
        done = true;
      };
      if (tls_)
        tls_->async_read_some(boost::asio::buffer(chunk), handler);
      else
        socket_.async_read_some(boost::asio::buffer(chunk), handler);
      if (!run_until(done, left)) {
        boost::system::error_code ignored;
        lowest().cancel(ignored);
        ioc_.restart();
        ioc_.run();
        return std::nullopt;
      }
      if (ec) {
        closed_ = true;
        return std::nullopt;
      }
      buffer_.insert(buffer_.end(), chunk, chunk + n);
    }
  }

  // Reads (and drops) PDUs until the peer closes; false on timeout.
  bool wait_closed(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && std::chrono::steady_clock::now() < deadline)
      next(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
    return closed_;
  }
  bool closed() const { return closed_; }

  // Binds and returns the resp's status (ESME_RSYSERR if none came).
  smpp::command_status bind(smpp::command_id kind, std::string_view system_id = "test",
                            std::string_view password = "pw") {
    smpp::bind_body b;
    b.system_id = system_id;
    b.password = password;
    smpp::pdu p{0, next_sequence(), smpp::bind_transceiver{}};
    if (kind == smpp::command_id::bind_transmitter) p.body = smpp::bind_transmitter{b};
    if (kind == smpp::command_id::bind_receiver) p.body = smpp::bind_receiver{b};
    if (kind == smpp::command_id::bind_transceiver) p.body = smpp::bind_transceiver{b};
    send(p);
    const auto r = next();
    if (!r) return smpp::command_status::ESME_RSYSERR;
    EXPECT_EQ(static_cast<std::uint32_t>(r->id()), static_cast<std::uint32_t>(kind) | 0x80000000u);
    EXPECT_EQ(r->sequence(), p.sequence_number);
    return static_cast<smpp::command_status>(r->status());
  }

  // Sends a submit_sm; returns its sequence number.
  std::uint32_t submit(std::string_view destination, std::string_view text,
                       std::uint8_t registered_delivery = 0, std::string_view source = "12345") {
    smpp::submit_sm s;
    s.source_addr = source;
    s.destination_addr = destination;
    s.short_message = text;
    s.registered_delivery = registered_delivery;
    const std::uint32_t seq = next_sequence();
    send(smpp::pdu{0, seq, s});
    return seq;
  }

  void ack(const received& deliver, smpp::command_status status = smpp::command_status::ESME_ROK) {
    smpp::deliver_sm_resp r;
    send(smpp::pdu{static_cast<std::uint32_t>(status), deliver.sequence(), r});
  }

  // enquire_link, then everything up to its resp: what the simulator had
  // to say before it (it answers in order). Deliver_sm are acked.
  std::vector<received> drain_until_enquire_link_resp() {
    const std::uint32_t seq = next_sequence();
    send(smpp::pdu{0, seq, smpp::enquire_link{}});
    std::vector<received> got;
    while (auto r = next()) {
      if (r->id() == smpp::command_id::enquire_link_resp && r->sequence() == seq) return got;
      if (r->id() == smpp::command_id::deliver_sm) ack(*r);
      got.push_back(std::move(*r));
    }
    ADD_FAILURE() << "no enquire_link_resp";
    return got;
  }

  std::uint32_t next_sequence() { return ++sequence_; }

 private:
  boost::asio::ip::tcp::socket& lowest() { return tls_ ? tls_->next_layer() : socket_; }

  bool run_until(bool& done, std::chrono::milliseconds timeout) {
    ioc_.restart();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline)
      ioc_.run_one_for(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
    return done;
  }

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  std::optional<boost::asio::ssl::context> tls_context_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
  std::vector<std::uint8_t> buffer_;
  std::uint32_t sequence_ = 0;
  bool connected_ = false;
  bool closed_ = false;
};

// A running smsc-sim with a counts file in its own temporary directory.
class running_sim {
 public:
  explicit running_sim(std::vector<std::string> args) {
    args.insert(args.end(), {"--counts-file", counts_file()});
    port_ = start_smsc_sim(process_, smsc_sim_binary, args);
    EXPECT_NE(port_, 0) << "smsc-sim did not start";
  }
  std::uint16_t port() const { return port_; }
  child_process& process() { return *process_; }
  const temp_dir& dir() const { return dir_; }
  std::string counts_file() const { return dir_.file("counts.json"); }

  // SIGTERM; expects a clean exit and returns the counts written on it.
  std::string stop() {
    const int status = process_->stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
    return read_file(counts_file());
  }

 private:
  temp_dir dir_;
  std::optional<child_process> process_;
  std::uint16_t port_ = 0;
};

}  // namespace smppd::test
