// Webhooks: two-way events (a reply, an opt-out, an opt-in) and, for the
// webhooks that list them, messages' outcomes (delivered, failed,
// undelivered_by_deadline) forwarded to the team's tools over HTTP/1.1
// POST, http:// or https:// (TLS 1.2+, the certificate verified against
// the system's CAs or the webhook's ca_file and the URL's host).
//
// Durability: two_way writes an event per webhook into the reply store's
// outbox in the reply's own batch (targets() says which webhooks), so a
// crash between storing a reply and forwarding it loses nothing: the next
// run sends what the outbox holds. A message's final state is written to
// the outbox by the message log's writer in the batch that makes it final
// (message_targets() says which webhooks; the daemon sets it as the log's
// message_event_targets only when some webhook wants those events). The
// sender also watches the log's delivery deadlines: one passed for a
// message not delivered is taken off the list with its events, in one
// batch. A delivery is removed from the outbox
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
#include <array>
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

inline constexpr std::size_t webhook_event_count = 6;

struct webhook_counters {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};  // tries that failed (each retry counts)
  std::atomic<std::uint64_t> dead{0};    // given up on
  // Deliveries accepted, by config::webhook_event.
  std::array<std::atomic<std::uint64_t>, webhook_event_count> delivered_by_event{};
};

// What a reply raises, as the webhooks name it.
config::webhook_event event_of(const storage::reply_record& r) noexcept;
// A message's event, as the webhooks name it (none: reply).
config::webhook_event event_of(storage::message_event e) noexcept;
std::string_view name(config::webhook_event e) noexcept;

// The event as sent: the reply and what it is tied to, or a message's
// event (`outcome`: its state, cause and time) and the message.
struct webhook_event_data {
  config::webhook_event kind = config::webhook_event::reply;
  storage::reply_record reply;
  std::uint64_t message_id = 0;  // the message the reply answers (0: none known)
  std::string campaign;          // that message's campaign; "api" when sent through the API
  storage::outbox_entry outcome;   // a message's event
  storage::message_record message;  // a message's event: the message
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
  // The webhooks a message's event is for: those listing it whose
  // campaigns filter lets the message's campaign ("api") through. Fills
  // `out` (not cleared).
  static void message_targets(const std::vector<config::webhook_config>& webhooks, storage::message_event e,
                              const storage::message_record& m, std::vector<std::string>& out);
  // Whether any webhook lists this event.
  static bool wanted(const std::vector<config::webhook_config>& webhooks, config::webhook_event e) noexcept;

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
  // Takes the passed delivery deadlines off the list, with the events
  // they raise.
  void check_deadlines();
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
