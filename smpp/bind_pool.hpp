// The binds to one SMSC account: N transceivers, or N transmitter +
// receiver pairs, each an esme_client kept up on its own.
//
// submit() places all parts of one message on one bound transmitter with
// room for all of them in its window, back to back (so they leave in the
// same write and an SMSC that reassembles per bind sees them together).
// Binds are tried round robin from where the last message went, so load
// spreads; when one bind dies the others keep taking messages while it
// reconnects. The pool never holds more connections than binds configured
// (each client has one socket at a time).
//
// Events of every bind go to one session_handler; its `session` argument
// is the bind's index (transmitters or transceivers 0..N-1, receivers of
// pairs N..2N-1). Threads: the pool and all its binds live on one
// io_context; call it only from that thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "smpp/client.hpp"

namespace smpp {

enum class pool_mode : std::uint8_t {
  transceiver,  // N transceivers
  tx_rx_pairs,  // N transmitters and N receivers
  transmitter,  // N transmitters (receipts come some other way, or not at all)
};

struct pool_options {
  client_options client;  // every bind's settings; session.type and id are set per bind
  std::size_t binds = 1;
  pool_mode mode = pool_mode::transceiver;
};

class bind_pool {
 public:
  bind_pool(boost::asio::io_context& io, pool_options options, session_handler& handler);
  ~bind_pool();
  bind_pool(const bind_pool&) = delete;
  bind_pool& operator=(const bind_pool&) = delete;

  void start();
  // Stops every bind gracefully (see esme_client::stop); done runs once all are stopped.
  void stop(std::chrono::milliseconds drain, std::function<void()> done = {});

  // Sends the parts of one message on one bind; tags[i] identifies parts[i]
  // in on_response. Nothing is sent unless all parts fit: not_bound when no
  // sending bind is up, window_full when none has room for them all, or the
  // codec error of a part that cannot be encoded. `bind` receives the index used.
  [[nodiscard]] std::error_code submit(std::span<const pdu_body> parts,
                                       std::span<const std::uint64_t> tags,
                                       std::uint32_t* bind = nullptr);
  // Answers a deliver_sm / data_sm on the bind it came from.
  [[nodiscard]] std::error_code respond(const inbound_token& t, command_status status,
                                        std::string_view message_id = {});

  std::size_t size() const noexcept { return clients_.size(); }
  const esme_client& bind(std::size_t i) const { return *clients_[i]; }
  std::size_t bound_senders() const noexcept;
  std::size_t room() const noexcept;      // free window slots over all bound senders
  std::size_t max_room() const noexcept;  // the most parts one message could take now
  std::size_t outstanding() const noexcept;

 private:
  std::vector<std::shared_ptr<esme_client>> clients_;
  std::size_t senders_ = 0;  // clients_[0, senders_) take submits
  std::size_t next_ = 0;     // round-robin cursor
};

}  // namespace smpp
