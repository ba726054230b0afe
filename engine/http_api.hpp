// The HTTP API (Boost.Beast), versioned under /v1, JSON in and out.
//
//   POST /v1/messages   {"to": "+37060000001", "text": "...", "from": "ACME",
//                        "receipts": true, "validity": "24h"}
//                       -> 202 {"id": "123"} once the message is durable in
//                          the log; it goes out on the notification lane,
//                          ahead of every campaign (notifications enter it as
//                          soon as their records are queued; a PDU still
//                          waits for its record to be durable).
//   GET  /v1/campaigns  -> 200 {"campaigns": [campaign, ...]}
//   GET  /v1/campaigns/ID
//                       -> 200 campaign: {"id", "state" (waiting, running,
//                          paused, cancelled), "reading_done", "in_config",
//                          "problem", "tps", "rows", "accepted", "rejected",
//                          "duplicates", "skipped"}
//   POST /v1/campaigns/ID/start | pause | resume | cancel
//                       -> 200 campaign once the new state is durable;
//                          404 no such campaign; 409 not possible from
//                          its state (a cancelled campaign stays cancelled);
//                          repeating a command changes nothing and is 200
//   GET  /v1/status     -> 200 {"smscs": [{"name", "binds", "bound",
//                          "outstanding", "tps", "rate", "rate_reduced"}],
//                          "operators": [{"name", "tps", "queued":
//                          {"notification", "campaign"}}], "open_messages",
//                          "held_messages", "retry_waiting", "campaigns"}
//                          ("rate" is the SMSC's rate now: lower than "tps"
//                          while it recovers from ESME_RTHROTTLED)
//   GET  /healthz       -> 200 {"status": "ok"} (the process answers)
//
// Two-way (engine/two_way.hpp, engine/conversations.hpp):
//   POST /v1/messages with "expects_reply": true opens a conversation: the
//                       message goes from a two_way.reply_numbers number the
//                       customer has no open conversation on and carries a
//                       reference code ("#REF" in the text stands for it,
//                       otherwise it is appended); the answer adds
//                       "conversation": {"id", "number", "code"}
//   GET  /v1/conversations?customer=NUMBER
//                       -> 200 {"customer", "conversations": [conversation],
//                          "unmatched_replies": [reply]}
//   GET  /v1/conversations/ID -> 200 conversation: {"id", "customer",
//                          "number", "code", "message_id", "opened",
//                          "expires", "answer" ("yes", "no" or ""),
//                          "replies_count", "replies": [{"id", "from", "to",
//                          "text", "received", "parts", "parts_received",
//                          "keyword", "match" (number, code, recent, none),
//                          "answer"}]}
//   GET  /v1/webhooks/dead -> 200 {"dead_letters": [{"reply_id", "webhook",
//                          "attempts", "last_error"}]}: two-way events no
//                          webhook accepted (engine/webhooks.hpp)
//   POST /v1/webhooks/dead/retry -> 200 {"retried": N}: all of them back in
//                          the outbox, tried at once
//   POST /v1/conversations/ID/reply {"text": "..."}
//                       -> 202 {"id", "conversation", "from"} once durable:
//                          an agent's answer to the customer, from the number
//                          they last wrote to (the conversation's own number
//                          before any reply); 404 no such conversation
//
// A message to a number that opted out (replied STOP) is refused with
// 400 and code "opted_out"; nothing is stored.
//
// Every error is JSON with a stable code and a message:
//   {"error": {"code": "invalid_number", "message": "..."}}
// with 400 (bad JSON or field), 404, 405, 409, 413 (body over max_body_bytes),
// 503 (too many notifications waiting, or the log behind: back-pressure;
// nothing was stored, retry later).
//
// Logs (component api): each request at debug (method, path without the
// query, status, the token's name), a 500 at warn.
//
// Threads: the API has its own io_context (control plane; run by the
// caller on one thread). on_durable() may be called from any thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "engine/api_tokens.hpp"
#include "engine/campaigns.hpp"
#include "engine/dispatcher.hpp"
#include "engine/prepare.hpp"
#include "engine/two_way.hpp"
#include "engine/webhooks.hpp"
#include "storage/message_log.hpp"

namespace engine {

struct api_counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
};

class http_api {
 public:
  // Binds the listening socket (throws std::system_error naming the
  // address when it cannot: startup only).
  http_api(boost::asio::io_context& io, const config::api_config& config, const prepare_source& prepare,
           storage::message_log& log, dispatcher& dispatch, std::atomic<std::uint64_t>& next_message_id,
           campaign_manager* campaigns = nullptr);
  ~http_api();

  void start();
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Any thread: the log made more events durable.
  void on_durable();
  // Before start(): numbers that opted out; a message to one is refused
  // (400, code opted_out). Null: nothing is checked here.
  void set_opt_outs(const opt_out_list* numbers) { opt_outs_ = numbers; }
  // Before start(): the conversations (expects_reply, GET /v1/conversations).
  void set_conversations(conversation_book* book) { conversations_ = book; }
  // Before start(): the webhook sender (GET /v1/webhooks/dead).
  void set_webhooks(webhook_sender* sender) { webhooks_ = sender; }
  // Any thread (reload): the tokens from now on; null: no tokens.
  void set_tokens(std::shared_ptr<const token_set> tokens);
  const api_counters& counters() const noexcept { return counters_; }

 private:
  class connection;
  // An answer due once the log has made its events durable (both lanes).
  struct waiting {
    std::uint64_t ticket;
    std::function<void()> done;
    std::uint64_t urgent_ticket = 0;
  };
  void accept();
  // Queues an answer and gives what is durable already.
  void await_durable(waiting w);
  void complete_durable();
  void hand_over(std::unique_ptr<outbound_message> m);  // to the dispatcher, now or soon
  void cancel_unsent(const storage::message_record& r);

  boost::asio::io_context& io_;
  config::api_config config_;
  const prepare_source& prepare_from_;
  prepare_context prepare_;  // follows prepare_from_ (reload)
  std::uint64_t prepare_generation_ = 0;
  storage::message_log& log_;
  dispatcher& dispatch_;
  std::atomic<std::uint64_t>& next_id_;
  campaign_manager* campaigns_;
  const opt_out_list* opt_outs_ = nullptr;
  conversation_book* conversations_ = nullptr;
  webhook_sender* webhooks_ = nullptr;
  std::shared_ptr<const token_set> tokens_;  // null: no tokens (loopback only)
  std::uint64_t last_durable_ = 0;           // readiness: is the log moving?
  std::chrono::steady_clock::time_point durable_moved_{};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::deque<waiting> waiting_;
  std::deque<waiting> waiting_urgent_;  // only urgent events: notifications
  std::deque<std::unique_ptr<outbound_message>> overflow_;  // durable, waiting for lane room
  boost::asio::steady_timer overflow_timer_;
  bool overflow_timer_armed_ = false;
  std::size_t lane_capacity_;
  std::atomic<bool> durable_posted_{false};
  // Answers in waiting_ and waiting_urgent_: when none wait, on_durable()
  // does not wake this thread (the log's writer calls it after every
  // batch, hundreds of times a second under a campaign).
  std::atomic<std::size_t> waiting_count_{0};
  api_counters counters_;
  friend class connection;
};

}  // namespace engine
