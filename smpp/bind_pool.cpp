#include "smpp/bind_pool.hpp"

#include <boost/asio/post.hpp>
#include <utility>

namespace smpp {

bind_pool::bind_pool(boost::asio::io_context& io, pool_options options, session_handler& handler) {
  const std::size_t n = options.binds == 0 ? 1 : options.binds;
  auto make = [&](bind_type type) {
    client_options c = options.client;
    c.session.type = type;
    c.session.id = static_cast<std::uint32_t>(clients_.size());
    clients_.push_back(esme_client::create(io, std::move(c), handler));
  };
  const bind_type sender = options.mode == pool_mode::transceiver ? bind_type::transceiver
                                                                   : bind_type::transmitter;
  for (std::size_t i = 0; i < n; ++i) make(sender);
  senders_ = n;
  if (options.mode == pool_mode::tx_rx_pairs)
    for (std::size_t i = 0; i < n; ++i) make(bind_type::receiver);
}

bind_pool::~bind_pool() = default;

void bind_pool::start() {
  for (auto& c : clients_) c->start();
}

void bind_pool::stop(std::chrono::milliseconds drain, std::function<void()> done) {
  // Shared by the clients' callbacks: the last one to stop runs done.
  auto remaining = std::make_shared<std::size_t>(clients_.size());
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  for (auto& c : clients_)
    c->stop(drain, [remaining, finish] {
      if (--*remaining == 0 && *finish) (*finish)();
    });
}

std::error_code bind_pool::submit(std::span<const pdu_body> parts, std::span<const std::uint64_t> tags,
                                  std::uint32_t* bind) {
  if (parts.empty() || parts.size() != tags.size()) return session_errc::unexpected_pdu;
  for (const auto& body : parts)
    if (encoded_size(pdu{0, 1, body}) == 0) return codec_errc::invalid_field;
  bool any_bound = false;
  for (std::size_t k = 0; k < senders_; ++k) {
    const std::size_t i = (next_ + k) % senders_;
    esme_client& c = *clients_[i];
    if (!c.bound()) continue;
    any_bound = true;
    if (c.room() < parts.size()) continue;
    for (std::size_t j = 0; j < parts.size(); ++j) {
      // Cannot fail: bound, room checked, every part encodes.
      auto ec = c.submit(parts[j], tags[j]);
      if (ec) return ec;
    }
    next_ = (i + 1) % senders_;
    if (bind) *bind = static_cast<std::uint32_t>(i);
    return {};
  }
  return any_bound ? session_errc::window_full : session_errc::not_bound;
}

std::error_code bind_pool::respond(const inbound_token& t, command_status status,
                                   std::string_view message_id) {
  if (t.session >= clients_.size()) return session_errc::stale_token;
  return clients_[t.session]->respond(t, status, message_id);
}

std::size_t bind_pool::bound_senders() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < senders_; ++i) n += clients_[i]->bound();
  return n;
}

std::size_t bind_pool::room() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < senders_; ++i) n += clients_[i]->room();
  return n;
}

std::size_t bind_pool::max_room() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < senders_; ++i) n = std::max(n, clients_[i]->room());
  return n;
}

std::size_t bind_pool::outstanding() const noexcept {
  std::size_t n = 0;
  for (const auto& c : clients_) n += c->outstanding();
  return n;
}

}  // namespace smpp
