// Customers' replies (MO) in the message log: received parts waiting for
// the rest of their message, whole replies, the content seen lately (to
// recognise an SMSC delivering the same part again), the opt-out list and
// when each customer was last answered (auto-acknowledgements).
// Everything is written through the message log's writer queue, so a
// reply is durable, like a message's events, once durable_ticket() reaches
// the ticket returned; each call's writes land in one batch together.
//
// Stored forms (varints and length-prefixed strings as in record.hpp; a
// leading version octet, = 1; a reader refuses another version or a field
// running past the end):
//   part   version, smsc, source, destination, esm_class 1, data_coding 1,
//          flags 1 (bit 0: came as data_sm), sar_reference varint,
//          sar_total 1, sar_seqnum 1 (total 0: no SAR), received_us varint,
//          short_message string (octets as received, UDH included)
//   reply  version, id varint, smsc, from, to, text, parts_total 1,
//          parts_received 1, received_us varint, keyword 1 (reply_keyword),
//          conversation varint, method 1 (match_method), answer string
//   conversation  version, id varint, customer, number, code, message_id,
//          opened_us, expires_us varints, answer string, replies varint,
//          last_reply_us varint, campaign string (absent in entries written
//          before campaigns opened conversations: read as "")
//   opt-out entry  version, opted_out 1, since_us varint, reply_id varint,
//          word string (the keyword the customer sent)
//   outbox entry  version, attempts varint, next_us varint, last_error
//          string; keyed by the reply's id and the webhook's name, one key
//          form for events waiting and one for dead letters
//   answer mark  version, ack_us varint, answer_us varint; keyed by the
//          customer's digits
//   message event  the outbox entry's fields, then state 1, cause 1,
//          error_code varint, command_status varint, at_us varint; keyed
//          by the message's id, the event (1 octet) and the webhook's
//          name, again one key form waiting and one dead (other prefixes
//          than replies', so entries stored before message events existed
//          read as they were)
//
// Webhook outbox: the events a reply raises for the team's tools are
// written in the reply's own batch, so a reply stored is a reply that
// will be forwarded, whatever crash follows. A message's final state is
// written to the outbox by the message log's writer in the batch that
// makes it final (log_options::message_event_targets), and a missed
// delivery deadline in the batch that takes the deadline off its list.
//
// Retention (remove_step): replies, conversations, opted-in-again entries
// of the opt-out list and dead letters older than a cutoff are removed in
// bounded steps, each step's removals one batch through the writer, index
// keys with their records (a listing never names what is gone). Entries
// of customers who opted out are consent records and are never removed.
//
// Threads: the writes may come from any producer thread; reads from any
// thread see what the writer has written (not what is still queued).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "storage/message_log.hpp"

namespace storage {

// One received deliver_sm / data_sm of a concatenated reply, as it came.
struct inbound_part {
  std::string smsc;
  std::string source;       // the customer
  std::string destination;  // the number they wrote to
  std::uint8_t esm_class = 0;
  std::uint8_t data_coding = 0;
  bool data_sm = false;
  std::uint16_t sar_reference = 0;
  std::uint8_t sar_total = 0;  // 0: no SAR TLVs
  std::uint8_t sar_seqnum = 0;
  std::int64_t received_us = 0;
  std::string short_message;
  bool operator==(const inbound_part&) const = default;
};

// What a reply asked for, when it was a keyword.
enum class reply_keyword : std::uint8_t { none = 0, opt_out, opt_in, help };
inline constexpr std::uint8_t reply_keyword_count = 4;
std::string_view name(reply_keyword k) noexcept;

// How a reply was tied to a conversation.
enum class match_method : std::uint8_t {
  none = 0,  // unmatched: kept on its own
  number,    // the pool number the customer wrote to
  code,      // the conversation's reference code quoted in the reply
  recent,    // the customer's most recent open conversation
};
inline constexpr std::uint8_t match_method_count = 4;
std::string_view name(match_method m) noexcept;

struct reply_record {
  std::uint64_t id = 0;
  std::string smsc;
  std::string from;  // the customer
  std::string to;    // the number they wrote to
  std::string text;  // UTF-8: the parts that arrived, in order
  std::uint8_t parts_total = 1;
  std::uint8_t parts_received = 1;  // fewer: the rest never came in time
  std::int64_t received_us = 0;     // the first part
  reply_keyword keyword = reply_keyword::none;
  std::uint64_t conversation = 0;  // 0: none
  match_method method = match_method::none;
  std::string answer;  // "yes" / "no" when the reply answered a question
  bool operator==(const reply_record&) const = default;
};

// An outbound message that expects replies, and what came of it.
struct conversation_record {
  std::uint64_t id = 0;
  std::string customer;  // E.164
  std::string number;    // ours: the message's sender, from the reply pool
  std::string code;      // reference code carried by the message ("#4821"); may be empty
  std::uint64_t message_id = 0;
  std::int64_t opened_us = 0;
  std::int64_t expires_us = 0;  // replies after it no longer match by number or recency
  std::string answer;           // the latest structured answer ("yes", "no"), "" none
  std::uint64_t replies = 0;    // how many replies matched it
  std::int64_t last_reply_us = 0;
  std::string campaign;  // the campaign of its message; "" for one sent through the API
  bool operator==(const conversation_record&) const = default;
};

struct opt_out_entry {
  bool opted_out = true;  // false: opted in again
  std::int64_t since_us = 0;
  std::uint64_t reply_id = 0;  // the reply that set it (0: none)
  std::string word;
  bool operator==(const opt_out_entry&) const = default;
};

// What we last sent a customer of our own accord: an auto-acknowledgement
// (ack_us), and any answer at all, that one or a keyword's (answer_us);
// microseconds since the epoch, 0 never.
struct answer_mark {
  std::int64_t ack_us = 0;
  std::int64_t answer_us = 0;
  bool operator==(const answer_mark&) const = default;
};

// An event waiting for one webhook, or given up on: a reply's (an
// opt-out, an opt-in) or, with `event` set, a message's.
struct outbox_entry {
  std::uint64_t reply_id = 0;
  std::string webhook;
  std::uint32_t attempts = 0;  // failed tries so far
  std::int64_t next_us = 0;    // not tried again before
  std::string last_error;
  // A message's event, and the message as it was when the event arose.
  message_event event = message_event::none;
  std::uint64_t message_id = 0;
  state st = state::queued;
  cause settled_by = cause::engine;  // what set that state (the deciding part's)
  std::uint32_t error_code = 0;      // the receipt's error (the deciding part's)
  std::uint32_t command_status = 0;  // the last resp's status (the deciding part's)
  std::int64_t at_us = 0;            // when it arose
  bool operator==(const outbox_entry&) const = default;
};

// Outbox entries as stored: the key (waiting or dead) and the value.
std::string outbox_key(const outbox_entry& e, bool dead);
void encode_outbox(const outbox_entry& e, std::string& out);
[[nodiscard]] std::error_code decode_outbox(std::string_view key, std::string_view value, outbox_entry& out);

// A message's event for a webhook: what the message is now (its state and
// the part that decided it).
outbox_entry message_outbox_entry(message_event event, const message_record& r, std::string webhook,
                                  std::int64_t at_us);

// A message whose delivery deadline has passed (or is near).
struct deadline_entry {
  std::int64_t deliver_by_us = 0;
  std::uint64_t message_id = 0;
  bool operator==(const deadline_entry&) const = default;
};

void encode_part(const inbound_part& p, std::string& out);
[[nodiscard]] std::error_code decode_part(std::string_view in, inbound_part& out);
void encode_reply(const reply_record& r, std::string& out);
[[nodiscard]] std::error_code decode_reply(std::string_view in, reply_record& out);
void encode_conversation(const conversation_record& c, std::string& out);
[[nodiscard]] std::error_code decode_conversation(std::string_view in, conversation_record& out);
void encode_opt_out(const opt_out_entry& e, std::string& out);
[[nodiscard]] std::error_code decode_opt_out(std::string_view in, opt_out_entry& out);
void encode_answer_mark(const answer_mark& m, std::string& out);
[[nodiscard]] std::error_code decode_answer_mark(std::string_view in, answer_mark& out);

// What a retention pass removed (queued to the log).
struct retention_counts {
  std::uint64_t replies = 0;        // with their customer index keys and webhook events
  std::uint64_t conversations = 0;  // with their customer and campaign index keys
  std::uint64_t opt_ins = 0;        // opt-out entries of customers who opted in again
  std::uint64_t dead_letters = 0;   // given up on: messages' events, replies' whose reply is gone
  bool operator==(const retention_counts&) const = default;
};

// One pass of retention over the two-way data, taken in steps. A pass
// removes what is older than cutoff_us:
//   - conversations whose last activity (opened, last reply) and whose end
//     (expires_us) are both before it, unless keep_conversation says
//     otherwise (still open in memory), with their index keys;
//   - replies received before it, with their customer index key and their
//     webhook events, waiting or dead;
//   - message events given up on (dead letters) that arose before it, and
//     replies' dead letters whose reply is gone;
//   - opt-out entries of customers who opted in again before it, unless
//     keep_number names their digits (a change queued, not yet written).
// Conversations and replies are looked at by id (ids follow time): each
// stops at the first one too recent, so a pass over a store with nothing
// due reads a handful of entries.
struct retention_pass {
  std::int64_t cutoff_us = 0;
  std::function<bool(const conversation_record&)> keep_conversation;
  std::function<bool(std::string_view digits)> keep_number;
  retention_counts removed;  // so far in this pass
  // Where the pass is: the kind of entry and the last key looked at.
  std::uint8_t phase = 0;
  std::string after;
  bool done() const noexcept;
};

class reply_store {
 public:
  // Continues numbering replies after the highest stored id.
  explicit reply_store(message_log& log);

  // What identifies a received PDU's content (SMSC account, addresses,
  // coding, concatenation, octets): the same key again means the SMSC
  // delivered it again.
  static std::string seen_key(const inbound_part& p);

  // A part of a concatenated reply, kept until its message is whole, and
  // its seen key. Its key in `key` (for add_reply to remove). Fails with
  // backlog_full or closed (nothing queued).
  [[nodiscard]] std::uint64_t add_part(const inbound_part& p, std::string& key, std::error_code& ec);
  // A reply; assigns r.id. Removes the parts it was made of and, when
  // `seen` is not empty, remembers that content (a reply of one part), in
  // the same batch.
  // The events for the webhooks named in `webhooks` go in that batch too,
  // and, when given, the customer's new answer mark (an acknowledgement
  // about to be sent is recorded with the reply it answers).
  [[nodiscard]] std::uint64_t add_reply(reply_record& r, std::span<const std::string> part_keys,
                                        std::string_view seen, std::error_code& ec,
                                        std::span<const std::string> webhooks = {},
                                        const answer_mark* mark = nullptr);
  // Removes stored parts no reply will take.
  std::uint64_t drop_parts(std::span<const std::string> part_keys, std::error_code& ec);
  // When the content was seen, if it was (and not forgotten since).
  std::optional<std::int64_t> seen(std::string_view key, std::error_code& ec) const;
  // Forgets content seen before cutoff_us; returns how many entries go.
  std::size_t forget_seen_before(std::int64_t cutoff_us, std::error_code& ec);
  // Parts waiting for the rest of their message, oldest first, with keys.
  std::vector<std::pair<std::string, inbound_part>> waiting_parts(std::error_code& ec) const;

  // Sets a number's opt-out state (any form of the number; its digits key it).
  [[nodiscard]] std::uint64_t set_opt_out(std::string_view address, const opt_out_entry& e,
                                          std::error_code& ec);
  // Every entry, by the number's digits.
  std::map<std::string, opt_out_entry> opt_outs(std::error_code& ec) const;

  // What we last sent a customer of our own accord (any form of the
  // number): read (nullopt when never, or forgotten), replaced, and every
  // stored mark whose times are both before cutoff_us forgotten unless
  // `queued` names its customer's digits (a newer mark queued, not yet
  // written, that the removal must not overtake); returns how many go.
  std::optional<answer_mark> answered(std::string_view customer, std::error_code& ec) const;
  [[nodiscard]] std::uint64_t set_answered(std::string_view customer, const answer_mark& m, std::error_code& ec);
  std::size_t forget_answered_before(std::int64_t cutoff_us, const std::function<bool(std::string_view)>& queued,
                                     std::error_code& ec);

  // Conversations: stored (new or changed) under their id; listed by
  // customer, newest first; all opened at or after since_us (startup).
  [[nodiscard]] std::uint64_t put_conversation(const conversation_record& c, std::error_code& ec);
  std::optional<conversation_record> conversation(std::uint64_t id, std::error_code& ec) const;
  std::vector<conversation_record> conversations_of(std::string_view customer, std::size_t limit,
                                                    std::error_code& ec) const;
  std::vector<conversation_record> conversations_since(std::int64_t since_us, std::error_code& ec) const;
  // A campaign's conversations by id, those after `after_id`, at most `limit`.
  std::vector<conversation_record> conversations_of_campaign(std::string_view campaign, std::uint64_t after_id,
                                                             std::size_t limit, std::error_code& ec) const;
  std::uint64_t max_conversation_id() const noexcept { return max_conversation_; }
  // A conversation's replies, oldest first.
  std::vector<reply_record> replies_of(const conversation_record& c, std::error_code& ec) const;

  // The webhook outbox: events waiting (by reply id), at most `limit`;
  // one delivered (removed), failed again (kept with its new attempts and
  // time) or given up on (moved to the dead letters); dead letters, and
  // all of them waiting again (returns how many).
  std::vector<outbox_entry> outbox(std::size_t limit, std::error_code& ec) const;
  std::uint64_t outbox_delivered(const outbox_entry& e, std::error_code& ec);
  std::uint64_t outbox_failed(const outbox_entry& e, std::error_code& ec);
  std::uint64_t outbox_dead(const outbox_entry& e, std::error_code& ec);
  std::vector<outbox_entry> dead_letters(std::size_t limit, std::error_code& ec) const;
  std::size_t retry_dead_letters(std::error_code& ec);

  // Delivery deadlines (the message log keeps the list with the records):
  // those due at or before now_us, earliest first, at most `limit`; one
  // taken off the list with the events it raises, in one batch.
  std::vector<deadline_entry> due_deadlines(std::int64_t now_us, std::size_t limit, std::error_code& ec) const;
  std::uint64_t deadline_passed(const deadline_entry& d, std::span<const outbox_entry> events,
                                std::error_code& ec);

  // Retention: one step of `pass`, looking at no more than `budget`
  // stored entries from where the last step stopped, their removals
  // queued in one batch. Returns the batch's ticket (0: nothing to
  // remove). On an error (backlog_full, closed, a read failing) the pass
  // stays where it was, to be tried again; an entry that cannot be
  // decoded is left as it is.
  std::uint64_t remove_step(retention_pass& pass, std::size_t budget, std::error_code& ec);

  std::optional<reply_record> get(std::uint64_t id, std::error_code& ec) const;
  // A customer's replies, newest first, at most `limit`.
  std::vector<reply_record> replies_from(std::string_view customer, std::size_t limit,
                                         std::error_code& ec) const;

 private:
  message_log& log_;
  std::atomic<std::uint64_t> next_id_{0};
  std::atomic<std::uint64_t> next_part_{0};
  std::uint64_t max_conversation_ = 0;
};

}  // namespace storage
