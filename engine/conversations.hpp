// Conversations: an outbound message that expects replies opens one with
// its recipient, and each reply is tied to one of the customer's
// conversations by, in this order:
//   number  the pool number the customer wrote to, when exactly one of
//           their open conversations was sent from it (pick() gives each
//           open conversation of a customer its own pool number while the
//           pool lasts);
//   code    the conversation's reference code ("#4821") quoted in the reply;
//   recent  otherwise the customer's most recent open conversation.
// A conversation is open for conversation_window after its message. A
// reply that matches none is kept unmatched (method none).
//
// The open conversations are kept in memory (read from the log at start)
// and every change is written to the log (reply_store).
// Threads: any; one mutex guards the book.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "storage/reply_store.hpp"

namespace engine {

class conversation_book {
 public:
  conversation_book(storage::reply_store& store, std::vector<std::string> reply_numbers,
                    std::chrono::milliseconds window, std::function<std::int64_t()> now_us = {});

  // Reads the conversations still open from the log (startup).
  void load(std::error_code& ec);
  bool has_pool() const noexcept { return !pool_.empty(); }

  struct opening {
    std::string number;  // the sender to use
    std::string code;    // "#NNNN", not used by another open conversation of the customer
  };
  opening pick(std::string_view customer);
  // The text of a message that expects replies: "#REF" in it stands for
  // the conversation's code; without it the code is appended.
  static void carry_code(std::string& text, std::string_view code);
  // Opens the conversation of message `message_id` of `campaign` ("": sent
  // through the API), queued to the log; *ticket says when it is durable.
  storage::conversation_record open(std::string_view customer, const opening& o, std::uint64_t message_id,
                                    std::string_view campaign, std::uint64_t* ticket, std::error_code& ec);

  struct match_result {
    std::uint64_t conversation = 0;
    storage::match_method method = storage::match_method::none;
  };
  match_result match(std::string_view customer, std::string_view to_number, std::string_view text) const;
  // A reply of `customer` matched their conversation `id`: counted, its
  // answer (if any) kept.
  std::uint64_t record_reply(std::string_view customer, std::uint64_t id, const std::string& answer,
                             std::int64_t at_us, std::error_code& ec);

  // Whether the book holds conversation `id` of `customer` open (a reply
  // may still match it, and change it).
  bool is_open(std::string_view customer, std::uint64_t id) const;

  // Reads (from the log): a customer's conversations newest first, one by id.
  std::vector<storage::conversation_record> of(std::string_view customer, std::error_code& ec) const;
  std::optional<storage::conversation_record> get(std::uint64_t id, std::error_code& ec) const;
  // A campaign's conversations by id, after `after_id`, at most `limit`.
  std::vector<storage::conversation_record> of_campaign(std::string_view campaign, std::uint64_t after_id,
                                                        std::size_t limit, std::error_code& ec) const;
  std::vector<storage::reply_record> replies(const storage::conversation_record& c, std::error_code& ec) const;
  std::vector<storage::reply_record> replies_from(std::string_view customer, std::error_code& ec) const;

 private:
  std::vector<const storage::conversation_record*> open_of(const std::string& key, std::int64_t now) const;

  storage::reply_store& store_;
  std::vector<std::string> pool_;
  std::chrono::microseconds window_;
  std::function<std::int64_t()> now_us_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<storage::conversation_record>> by_customer_;  // by digits
  std::uint64_t next_id_ = 0;
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace engine
