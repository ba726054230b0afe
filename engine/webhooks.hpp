// Webhooks: two-way events (a reply, an opt-out, an opt-in) forwarded to
// the team's tools over HTTP/1.1 POST, http:// or https:// (TLS 1.2+, the
// certificate verified against the system's CAs or the webhook's ca_file
// and the URL's host).
//
// Durability: two_way writes an event per webhook into the reply store's
// outbox in the reply's own batch (targets() says which webhooks), so a
// crash between storing a reply and forwarding it loses nothing: the next
// run sends what the outbox holds. A delivery is removed from the outbox
// once the receiver answers 2xx; a failure (no connection, timeout, any
// other status) is tried again after retry_base, doubling up to retry_max,
// and after `attempts` tries moves to the dead letters, kept until
// retried (retry_dead()). Delivery is therefore at least once: a receiver
// that must not act twice dedupes on the event id.
//
// Formats: slack ({"text": summary}), teams (a MessageCard with the same
// summary) and json (the event's fields; with a secret, signed: see
// webhook_signature()).
//
// Threads: the sender runs on a thread and io_context of its own, one
// delivery at a time, polling the outbox; counters are read from any
// thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "storage/message_log.hpp"
#include "storage/reply_store.hpp"

namespace engine {

struct webhook_counters {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};  // tries that failed (each retry counts)
  std::atomic<std::uint64_t> dead{0};    // given up on
};

// What a reply raises, as the webhooks name it.
config::webhook_event event_of(const storage::reply_record& r) noexcept;
std::string_view name(config::webhook_event e) noexcept;

// The event as sent: the reply and what it is tied to.
struct webhook_event_data {
  config::webhook_event kind = config::webhook_event::reply;
  storage::reply_record reply;
  std::uint64_t message_id = 0;  // the message the reply answers (0: none known)
  std::string campaign;          // that message's campaign; "api" when sent through the API
};

// The body POSTed to a webhook of this format.
std::string webhook_body(config::webhook_format f, const webhook_event_data& e);
// "sha256=" and the lowercase hex HMAC-SHA256 of `timestamp + "." + body`
// under `secret` (the X-Smppd-Signature header; the timestamp, Unix
// seconds, goes in X-Smppd-Timestamp).
std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

class webhook_sender {
 public:
  // The webhooks a reply is for (by its event; campaign filters apply when
  // sending, where the reply's message is looked up).
  static std::vector<std::string> targets(const config::two_way_config& c, const storage::reply_record& r);

  webhook_sender(storage::message_log& log, storage::reply_store& store, const config::two_way_config& config);
  ~webhook_sender();
  webhook_sender(const webhook_sender&) = delete;
  webhook_sender& operator=(const webhook_sender&) = delete;

  void start();
  void stop();

  // Dead letters back into the outbox, tried at once; returns how many.
  std::size_t retry_dead(std::error_code& ec);
  std::vector<storage::outbox_entry> dead_letters(std::size_t limit, std::error_code& ec) const;

  const webhook_counters& counters() const noexcept { return counters_; }

 private:
  void run();
  void deliver(storage::outbox_entry e);
  // Posts; "" when the receiver answered 2xx, else what went wrong.
  std::string post(const config::webhook_config& w, const std::string& body, const std::string& event_id);
  std::optional<webhook_event_data> load(const storage::outbox_entry& e, std::error_code& ec);
  const config::webhook_config* find(std::string_view name) const;
  // https: the webhook's client context (its ca_file, or the system's CAs).
  boost::asio::ssl::context& tls_context(const config::webhook_config& w);

  storage::message_log& log_;
  storage::reply_store& store_;
  config::two_way_config config_;
  boost::asio::io_context io_;
  std::map<std::string, std::unique_ptr<boost::asio::ssl::context>> tls_contexts_;  // sender thread only
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  webhook_counters counters_;
};

}  // namespace engine
