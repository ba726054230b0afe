#include "smpp/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <random>
#include <utility>
#include <vector>

namespace smpp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string_view name(client_state s) noexcept {
  switch (s) {
    case client_state::waiting: return "waiting";
    case client_state::connecting: return "connecting";
    case client_state::binding: return "binding";
    case client_state::bound: return "bound";
    case client_state::unbinding: return "unbinding";
    case client_state::stopped: return "stopped";
  }
  return "";
}

namespace {

std::error_code to_std(const boost::system::error_code& ec) {
  // boost::system::error_code converts to std::error_code, keeping the
  // category (system errors stay comparable with std::errc).
  return ec;
}

std::mt19937& jitter_rng() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return rng;
}

}  // namespace

struct esme_client::impl {
  explicit impl(asio::io_context& io)
      : io(io), resolver(io), tick_timer(io), retry_timer(io), connect_timer(io) {}

  asio::io_context& io;
  tcp::resolver resolver;
  asio::steady_timer tick_timer;
  asio::steady_timer retry_timer;
  asio::steady_timer connect_timer;
  std::unique_ptr<asio::ssl::context> tls_context;
  // The current connection: exactly one of these while connected.
  std::unique_ptr<tcp::socket> socket;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls;
  std::uint64_t generation = 0;  // bumped at each close: completions of older connections are ignored
  std::vector<std::uint8_t> write_buf;

  tcp::socket& lowest() { return tls ? tls->next_layer() : *socket; }
  bool open() const { return socket || tls; }

  template <class Buffers, class Handler>
  void async_write(const Buffers& b, Handler&& h) {
    if (tls)
      asio::async_write(*tls, b, std::forward<Handler>(h));
    else
      asio::async_write(*socket, b, std::forward<Handler>(h));
  }
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& b, Handler&& h) {
    if (tls)
      tls->async_read_some(b, std::forward<Handler>(h));
    else
      socket->async_read_some(b, std::forward<Handler>(h));
  }
  void close() {
    boost::system::error_code ignored;
    if (open()) {
      lowest().shutdown(tcp::socket::shutdown_both, ignored);
      lowest().close(ignored);
    }
    socket.reset();
    tls.reset();
    ++generation;
  }
};

std::shared_ptr<esme_client> esme_client::create(asio::io_context& io, client_options options,
                                                 session_handler& handler) {
  return std::shared_ptr<esme_client>(new esme_client(io, std::move(options), handler));
}

esme_client::esme_client(asio::io_context& io, client_options options, session_handler& handler)
    : options_(std::move(options)),
      handler_(handler),
      relay_(*this),
      session_(options_.session, relay_),
      impl_(std::make_unique<impl>(io)) {
  if (options_.tls.enabled) {
    // Startup only: a bad CA file throws, naming the problem.
    impl_->tls_context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    auto& ctx = *impl_->tls_context;
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1);
    if (options_.tls.verify_peer) {
      ctx.set_verify_mode(asio::ssl::verify_peer);
      if (options_.tls.ca_file.empty())
        ctx.set_default_verify_paths();
      else
        ctx.load_verify_file(options_.tls.ca_file);
    } else {
      ctx.set_verify_mode(asio::ssl::verify_none);
    }
  }
}

esme_client::~esme_client() = default;

void esme_client::start() {
  if (state_ != client_state::waiting || stopping_) return;
  connect();
}

void esme_client::connect() {
  state_ = client_state::connecting;
  auto self = shared_from_this();
  const std::uint64_t gen = impl_->generation;
  impl_->resolver.async_resolve(
      options_.host, std::to_string(options_.port),
      [this, self, gen](const boost::system::error_code& ec, tcp::resolver::results_type results) {
        if (gen != impl_->generation || stopping_) return;
        auto fail = [this](std::error_code why) {
          ++stats_.connect_failures;
          stats_.last_error = why;
          impl_->close();
          impl_->connect_timer.cancel();
          state_ = client_state::waiting;
          schedule_reconnect();
        };
        if (ec) return fail(to_std(ec));
        impl_->socket = std::make_unique<tcp::socket>(impl_->io);
        impl_->connect_timer.expires_after(options_.reconnect.connect_timeout);
        impl_->connect_timer.async_wait([this, self, gen](const boost::system::error_code& tec) {
          if (tec || gen != impl_->generation || state_ != client_state::connecting) return;
          boost::system::error_code ignored;
          if (impl_->open()) impl_->lowest().close(ignored);  // the connect completes with an error
        });
        asio::async_connect(
            *impl_->socket, results,
            [this, self, gen, fail](const boost::system::error_code& cec, const tcp::endpoint&) {
              if (gen != impl_->generation || stopping_) return;
              if (cec) return fail(to_std(cec));
              ++stats_.connects;
              boost::system::error_code ignored;
              impl_->socket->set_option(tcp::no_delay(true), ignored);
              if (!impl_->tls_context) {
                impl_->connect_timer.cancel();
                return on_connected();
              }
              impl_->tls = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(*impl_->socket),
                                                                             *impl_->tls_context);
              impl_->socket.reset();
              const std::string& server =
                  options_.tls.server_name.empty() ? options_.host : options_.tls.server_name;
              boost::system::error_code not_ip;
              asio::ip::make_address(server, not_ip);
              if (not_ip) SSL_set_tlsext_host_name(impl_->tls->native_handle(), server.c_str());
              if (options_.tls.verify_peer)
                impl_->tls->set_verify_callback(asio::ssl::host_name_verification(server));
              impl_->tls->async_handshake(
                  asio::ssl::stream_base::client,
                  [this, self, gen, fail](const boost::system::error_code& hec) {
                    if (gen != impl_->generation || stopping_) return;
                    if (hec) return fail(to_std(hec));
                    impl_->connect_timer.cancel();
                    on_connected();
                  });
            });
      });
}

void esme_client::on_connected() {
  state_ = client_state::binding;
  session_.on_connected(clock::now());
  tick();
  read();
  after_io();
}

void esme_client::read() {
  if (!impl_->open()) return;
  auto space = session_.read_space();
  auto self = shared_from_this();
  const std::uint64_t gen = impl_->generation;
  impl_->async_read_some(
      asio::buffer(space.data(), space.size()),
      [this, self, gen](const boost::system::error_code& ec, std::size_t n) {
        if (gen != impl_->generation) return;
        if (ec) {
          close_transport(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
                              ? std::error_code(session_errc::peer_closed)
                              : to_std(ec));
          return;
        }
        ++stats_.reads;
        stats_.bytes_read += n;
        session_.on_read(n, clock::now());
        after_io();
        if (gen == impl_->generation) read();
      });
}

void esme_client::after_io() {
  if (!impl_->open()) return;
  if (session_.closed()) {
    // After the SMSC's unbind our unbind_resp must leave before the close.
    if (session_.close_reason() == session_errc::peer_unbound) {
      close_after_write_ = true;
      flush();
      if (!writing_) close_transport({});
      return;
    }
    close_transport({});
    return;
  }
  switch (session_.current_state()) {
    case session::state::binding: state_ = client_state::binding; break;
    case session::state::bound: state_ = client_state::bound; break;
    case session::state::draining:
    case session::state::unbinding: state_ = client_state::unbinding; break;
    case session::state::closed: break;
  }
  schedule_flush();
}

void esme_client::schedule_flush() {
  if (flush_posted_ || writing_) return;
  flush_posted_ = true;
  asio::post(impl_->io, [self = shared_from_this()] { self->flush(); });
}

void esme_client::flush() {
  flush_posted_ = false;
  if (writing_ || !impl_->open()) return;
  if (!session_.take_output(impl_->write_buf)) return;
  writing_ = true;
  ++stats_.writes;
  auto self = shared_from_this();
  const std::uint64_t gen = impl_->generation;
  impl_->async_write(asio::buffer(impl_->write_buf),
                     [this, self, gen](const boost::system::error_code& ec, std::size_t n) {
                       if (gen != impl_->generation) return;
                       writing_ = false;
                       session_.on_written(n);
                       stats_.bytes_written += n;
                       impl_->write_buf.clear();
                       if (ec) return close_transport(to_std(ec));
                       if (close_after_write_) {
                         flush();  // anything else queued with it
                         if (!writing_) close_transport({});
                         return;
                       }
                       flush();
                     });
}

void esme_client::tick() {
  auto self = shared_from_this();
  const std::uint64_t gen = impl_->generation;
  impl_->tick_timer.expires_after(session_.tick_interval());
  impl_->tick_timer.async_wait([this, self, gen](const boost::system::error_code& ec) {
    if (ec || gen != impl_->generation || !impl_->open()) return;
    session_.on_tick(clock::now());
    after_io();
    if (gen == impl_->generation) tick();
  });
}

void esme_client::close_transport(std::error_code why) {
  if (!impl_->open()) return;
  impl_->close();
  impl_->tick_timer.cancel();
  impl_->connect_timer.cancel();
  writing_ = false;
  close_after_write_ = false;
  impl_->write_buf.clear();
  session_.on_disconnected(why);  // reports outstanding requests, then relay::on_closed
}

std::chrono::milliseconds esme_client::next_backoff() {
  const auto& r = options_.reconnect;
  auto base = r.initial;
  for (unsigned i = 0; i < attempt_ && base < r.max; ++i) base *= 2;
  base = std::min(base, r.max);
  if (attempt_ < 64) ++attempt_;
  std::uniform_real_distribution<double> u(0.0, std::clamp(r.jitter, 0.0, 1.0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(base.count() * (1.0 - u(jitter_rng()))));
}

void esme_client::schedule_reconnect() {
  if (stopping_) {
    state_ = client_state::stopped;
    if (auto done = std::exchange(stopped_, {})) asio::post(impl_->io, std::move(done));
    return;
  }
  state_ = client_state::waiting;
  auto delay = already_bound_ ? options_.reconnect.already_bound_wait : next_backoff();
  if (already_bound_) ++attempt_;
  already_bound_ = false;
  auto self = shared_from_this();
  impl_->retry_timer.expires_after(delay);
  impl_->retry_timer.async_wait([this, self](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    connect();
  });
}

void esme_client::stop(std::chrono::milliseconds drain, std::function<void()> done) {
  if (state_ == client_state::stopped) {
    if (done) asio::post(impl_->io, std::move(done));
    return;
  }
  stopping_ = true;
  stopped_ = std::move(done);
  switch (state_) {
    case client_state::waiting:
    case client_state::connecting:
      impl_->retry_timer.cancel();
      impl_->resolver.cancel();
      if (impl_->open()) {
        impl_->close();
        impl_->connect_timer.cancel();
      } else {
        ++impl_->generation;  // a resolve in progress completes into nothing
      }
      schedule_reconnect();  // stopping: finishes the stop
      return;
    case client_state::binding:
    case client_state::bound:
    case client_state::unbinding: {
      auto now = clock::now();
      session_.unbind(now, now + drain);
      after_io();
      return;
    }
    case client_state::stopped:
      return;
  }
}

std::error_code esme_client::submit(pdu_body body, std::uint64_t tag, std::chrono::milliseconds timeout) {
  auto ec = session_.submit(std::move(body), tag, clock::now(), timeout);
  if (!ec) schedule_flush();
  return ec;
}

std::error_code esme_client::respond(const inbound_token& t, command_status status,
                                     std::string_view message_id) {
  auto ec = session_.respond(t, status, message_id);
  if (!ec) schedule_flush();
  return ec;
}

// ---- relay ------------------------------------------------------------

void esme_client::relay::on_bound(std::uint32_t s, std::string_view id) {
  c_.attempt_ = 0;
  c_.already_bound_ = false;
  c_.state_ = client_state::bound;
  ++c_.stats_.binds;
  c_.handler_.on_bound(s, id);
}

void esme_client::relay::on_bind_failed(std::uint32_t s, std::error_code ec, command_status st) {
  ++c_.stats_.bind_failures;
  c_.stats_.last_bind_status = st;
  if (st == command_status::ESME_RALYBND) c_.already_bound_ = true;
  c_.handler_.on_bind_failed(s, ec, st);
}

void esme_client::relay::on_response(std::uint32_t s, std::uint64_t tag, const response& r) {
  c_.handler_.on_response(s, tag, r);
}

void esme_client::relay::on_inbound(std::uint32_t s, inbound_token t, const pdu& p) {
  c_.handler_.on_inbound(s, t, p);
}

void esme_client::relay::on_closed(std::uint32_t s, std::error_code ec) {
  c_.stats_.last_error = ec;
  c_.handler_.on_closed(s, ec);
  c_.schedule_reconnect();
}

void esme_client::relay::on_ready(std::uint32_t s) {
  if (!c_.stopping_) c_.handler_.on_ready(s);
}

}  // namespace smpp
