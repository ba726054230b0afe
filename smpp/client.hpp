// One persistent bind to an SMSC over TCP or TLS: the Asio driver that
// owns the socket, feeds a session (session.hpp) and keeps it bound.
//
//   connect -> [TLS handshake] -> bind -> bound ... -> closed -> wait -> connect
//
// - Reconnects with capped exponential backoff and jitter after any
//   failure; after ESME_RALYBND (the SMSC still counts an old connection of
//   ours) it waits already_bound_wait, the SMSC's session timeout, before
//   the next bind instead of hammering it.
// - One socket at a time: the old socket is closed before a new connect
//   starts, so a pool of N clients never holds more than N connections.
// - Unbinds before closing whenever the link works (stop(), and after the
//   SMSC's own unbind it answers first); a dead link is just closed.
// - Gathered I/O: every PDU the session produced since the last write
//   leaves in one write (one write in flight, double-buffered); each read
//   takes whatever the socket has and the session decodes every complete
//   PDU in it. Syscalls scale with batches, not with messages.
//
// Threads: a client lives on one io_context; every call, and every handler
// callback, happens on that io_context's thread. Created with
// esme_client::create (shared ownership: pending Asio operations keep the
// client alive until they complete).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "smpp/session.hpp"

namespace smpp {

struct tls_options {
  bool enabled = false;
  bool verify_peer = true;   // check the SMSC's certificate chain and host name
  std::string ca_file;       // PEM; empty: the system's trust store
  std::string server_name;   // for SNI and the host name check; empty: the host
};

struct reconnect_options {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{60000};
  double jitter = 0.25;  // each wait is shortened by up to this fraction, at random
  std::chrono::milliseconds already_bound_wait{60000};  // after ESME_RALYBND
  std::chrono::milliseconds connect_timeout{10000};
};

struct client_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2775;
  session_options session;
  tls_options tls;
  reconnect_options reconnect;
};

enum class client_state : std::uint8_t {
  waiting,     // before start, or between attempts
  connecting,  // TCP connect or TLS handshake
  binding,
  bound,
  unbinding,   // draining or unbind sent
  stopped,     // stop() finished: no more connections
};
std::string_view name(client_state s) noexcept;

struct client_stats {
  std::uint64_t connects = 0;          // TCP connections made
  std::uint64_t connect_failures = 0;  // refused, timed out, TLS failures
  std::uint64_t binds = 0;             // successful binds
  std::uint64_t bind_failures = 0;
  std::uint64_t writes = 0;            // write calls
  std::uint64_t reads = 0;             // completed reads
  std::uint64_t bytes_written = 0;
  std::uint64_t bytes_read = 0;
  std::error_code last_error;          // why the last connection or attempt ended
  command_status last_bind_status = command_status::ESME_ROK;
};

class esme_client : public std::enable_shared_from_this<esme_client> {
 public:
  using clock = session::clock;

  static std::shared_ptr<esme_client> create(boost::asio::io_context& io, client_options options,
                                             session_handler& handler);
  ~esme_client();

  // Starts connecting (at once) and keeps the bind up until stop().
  void start();
  // Graceful end: stops taking requests, waits for outstanding responses
  // until `drain` passes, unbinds, closes; then calls done. Requests still
  // unanswered are reported (in doubt) before done runs.
  void stop(std::chrono::milliseconds drain, std::function<void()> done = {});

  client_state state() const noexcept { return state_; }
  bool bound() const noexcept { return state_ == client_state::bound; }
  std::size_t room() const noexcept { return session_.room(); }
  std::size_t outstanding() const noexcept { return session_.outstanding(); }
  const client_options& options() const noexcept { return options_; }
  const client_stats& stats() const noexcept { return stats_; }
  const session_counters& counters() const noexcept { return session_.counters(); }

  // session::submit / respond, then a write is scheduled. The write
  // happens after the current handler returns, so a burst of submits in
  // one handler leaves in one write.
  [[nodiscard]] std::error_code submit(pdu_body body, std::uint64_t tag,
                                       std::chrono::milliseconds timeout = {});
  [[nodiscard]] std::error_code respond(const inbound_token& t, command_status status,
                                        std::string_view message_id = {});

 private:
  struct impl;
  esme_client(boost::asio::io_context& io, client_options options, session_handler& handler);

  // Observes the session's events to drive the connection, forwarding
  // each to the engine's handler.
  class relay : public session_handler {
   public:
    explicit relay(esme_client& c) : c_(c) {}
    void on_bound(std::uint32_t s, std::string_view id) override;
    void on_bind_failed(std::uint32_t s, std::error_code ec, command_status st) override;
    void on_response(std::uint32_t s, std::uint64_t tag, const response& r) override;
    void on_inbound(std::uint32_t s, inbound_token t, const pdu& p) override;
    void on_closed(std::uint32_t s, std::error_code ec) override;
    void on_ready(std::uint32_t s) override;

   private:
    esme_client& c_;
  };

  void connect();
  void on_connected();
  void read();
  void schedule_flush();
  void flush();
  void tick();
  void after_io();  // closes the transport when the session ended
  void close_transport(std::error_code why);
  void schedule_reconnect();
  std::chrono::milliseconds next_backoff();

  client_options options_;
  session_handler& handler_;
  relay relay_;
  session session_;
  client_state state_ = client_state::waiting;
  client_stats stats_;
  bool stopping_ = false;
  bool flush_posted_ = false;
  bool writing_ = false;
  bool close_after_write_ = false;
  unsigned attempt_ = 0;  // consecutive failed attempts, for the backoff
  bool already_bound_ = false;
  std::function<void()> stopped_;
  std::unique_ptr<impl> impl_;  // sockets, timers, buffers
};

}  // namespace smpp
