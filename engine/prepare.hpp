// Preparing one message for sending, the same way for every source (a
// campaign row, an API request): the number normalised to E.164 and
// routed to its operator, the text encoded and segmented for that
// operator's SMSCs, the log record and the dispatcher's message built.
// Pure apart from reading its context; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dispatcher.hpp"
#include "engine/phone_number.hpp"
#include "engine/recipient_zone.hpp"
#include "engine/router.hpp"
#include "smpp/text.hpp"
#include "storage/record.hpp"

namespace engine {

struct prepare_context {
  numbering_plan numbering;
  std::shared_ptr<const router> routes;         // route() only (const)
  std::vector<smpp::encode_options> encoding;   // per operator
  std::shared_ptr<const zone_table> zones;      // recipients' time zones (send windows)
};

// The context every source prepares with, replaced whole by a reload.
// Readers keep a copy and look at generation() (one relaxed load) to know
// when to take the new one. Any thread.
class prepare_source {
 public:
  explicit prepare_source(prepare_context initial);
  prepare_context get() const;
  std::uint64_t generation() const noexcept { return generation_.load(std::memory_order_acquire); }
  void replace(prepare_context next);

 private:
  mutable std::mutex mutex_;
  prepare_context current_;
  std::atomic<std::uint64_t> generation_{1};
};

struct message_request {
  std::string_view to;    // as written
  std::string_view from;  // sender: a number or a name (at most 11 characters)
  std::string text;       // UTF-8, rendered
  lane priority = lane::notification;
  bool receipts = true;
  std::chrono::seconds validity{0};
  std::chrono::milliseconds deliver_within{0};  // 0: no delivery deadline
  storage::origin origin = storage::origin::api;
  std::string campaign;
  std::uint64_t row = 0;
  std::string idempotency_key;
};

struct prepared_message {
  storage::message_record record;
  std::unique_ptr<outbound_message> message;
};

// Why a request cannot become a message: a stable code for APIs and a
// sentence for people. Empty code: it can.
struct prepare_problem {
  std::string code;  // invalid_number, no_route, invalid_sender, empty_text, text_too_long, invalid_text
  std::string message;
  explicit operator bool() const noexcept { return !code.empty(); }
};

prepare_problem prepare_message(const prepare_context& ctx, const message_request& req, std::uint64_t id,
                                std::int64_t now_us, prepared_message& out);

// Gives a prepared message its send window, in the record too (a restart
// keeps it).
void set_window(prepared_message& m, const send_hours& h);
// The window a stored record was given; none when it has none or its zone
// no longer loads.
std::optional<send_hours> window_of(const storage::message_record& r);

}  // namespace engine
