// Two-way messaging: what customers send back (MO, as deliver_sm or
// data_sm without a receipt's esm_class) is decoded (GSM-7, UCS-2,
// Latin-1), reassembled when concatenated (UDH with 8- or 16-bit
// references, or SAR TLVs; parts in any order), stored in the message log
// and acted on when it is a keyword (opt-out, opt-in, HELP).
//
// Durability: every PDU is written to the log before its resp may go back
// (on_mo returns the ticket to wait for), so a crash loses no reply:
//   - a reply of one part is stored whole at once;
//   - each part of a concatenated reply is stored as it comes and the
//     parts are replaced by the whole reply (one batch) once the last one
//     is in, or once reassembly_timeout passes without it (what came is
//     kept, marked incomplete); after a restart the stored parts are fed
//     again, so a message whose parts straddle the crash is still joined;
//   - content seen within redelivery_window (an SMSC delivering a PDU
//     again because our resp was lost) is acknowledged and not stored
//     twice.
//
// Conversations (conversations.hpp): a reply that is not a keyword is
// tied to one of the customer's conversations, the method recorded with
// it; a confirmation answer (YES/NO, ДА/НЕТ, TAIP/NE, 1/2) becomes the
// conversation's structured answer.
//
// Auto-acknowledgement (config two_way.auto_ack): a reply a person wrote
// (stored, complete or not; not a keyword, not a YES/NO answer to a
// conversation) gets the configured text back from the number it was sent
// to, at most once per customer per `period`. The text is the matched
// conversation's campaign's, else the number's, else the general one.
// Loop protection: none to what looks automatic (looks_automatic()), to a
// sender that is not a phone number, to a customer who opted out, or to a
// reply arriving within `loop_guard` of any answer we sent them. When we
// last acknowledged / answered a customer (storage::answer_mark) is
// written in the reply's own batch, so a restart acknowledges no reply
// twice; keyword answers write it after theirs.
//
// Opt-out: the number goes on the opt_out_list at once (the dispatcher
// checks it before each submit, so messages already queued are suppressed
// too) and durably on the log's suppression list; one confirmation goes
// back from the number the customer wrote to. Opt-in lifts it; HELP is
// answered with the configured text.
//
// Retention (config two_way.reply_retention): once an hour a pass removes
// replies, conversations, opted-in-again entries of the opt-out list and
// dead letters older than the retention (reply_store::remove_step), one
// bounded step per timer tick, so that the io thread is never held long
// and the log's writer not flooded. A conversation the book still holds
// open stays; so does the entry of a customer whose opt-out change is
// queued and not yet written. Opted-out entries are never removed.
//
// Threads: opt_out_list is used from any thread. two_way runs on the
// dispatcher's io_context: on_mo and its timer there only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "engine/dispatcher.hpp"  // mo_verdict
#include "engine/conversations.hpp"
#include "engine/keywords.hpp"
#include "engine/phone_number.hpp"
#include "smpp/command_status.hpp"
#include "smpp/pdu.hpp"
#include "smpp/reassembly.hpp"
#include "storage/message_log.hpp"
#include "storage/reply_store.hpp"

namespace engine {

// Numbers that opted out, by their digits (a leading "00" dropped, so
// "+37060012345", "0037060012345" and "37060012345" are one). Any thread.
class opt_out_list {
 public:
  static std::string key(std::string_view number);
  bool contains(std::string_view number) const;
  void set(std::string_view number, bool opted_out);
  std::size_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_set<std::string> numbers_;
  std::atomic<std::size_t> count_{0};  // numbers_.size(), read without the lock
};

// A message two_way sends (a confirmation, a HELP answer).
struct two_way_send {
  std::string to;    // the customer
  std::string from;  // the number they wrote to
  std::string text;
};

struct two_way_options {
  config::two_way_config config;
  // The SMSC accounts' meaning of data_coding 0, by account name
  // (default GSM-7).
  std::map<std::string, smpp::dc0_charset> dc0;
  // Sends one message (prepared, logged and queued by the daemon); it
  // goes out even to a number that opted out. False when it could not be
  // queued (it is then dropped with a log line).
  std::function<bool(const two_way_send&)> send;
  std::function<std::int64_t()> now_us;  // wall clock; default system_clock
  // Reads customers' numbers that come in national form (TON 2) as E.164,
  // so that they key the same opt-outs and conversations as the messages
  // sent to them.
  numbering_plan numbering;
};

// Why a reply got no auto-acknowledgement (when one was configured for it).
enum class ack_skip : std::uint8_t {
  keyword,     // STOP, START, HELP: answered on their own
  answer,      // a YES/NO answer to a conversation's question
  sender,      // not a phone number (an alphanumeric or short sender: a machine)
  automatic,   // reads like an automatic reply (out of office, autoreply, ...)
  opted_out,   // the customer opted out
  loop_guard,  // within loop_guard of an answer we sent them
  period,      // acknowledged within period already
  not_queued,  // the acknowledgement could not be queued
};
inline constexpr std::size_t ack_skip_count = 8;
std::string_view name(ack_skip s) noexcept;

struct two_way_counters {
  std::atomic<std::uint64_t> parts{0};        // PDUs received
  std::atomic<std::uint64_t> replies{0};      // replies stored
  std::atomic<std::uint64_t> incomplete{0};   // of them, with parts missing
  std::atomic<std::uint64_t> redelivered{0};  // PDUs seen before: acknowledged, not stored again
  std::atomic<std::uint64_t> undecodable{0};  // refused: the text cannot be decoded
  std::atomic<std::uint64_t> opt_outs{0};
  std::atomic<std::uint64_t> opt_ins{0};
  std::atomic<std::uint64_t> help{0};
  std::atomic<std::uint64_t> matched{0};  // replies tied to a conversation
  std::atomic<std::uint64_t> auto_acks{0};  // auto-acknowledgements queued
  std::array<std::atomic<std::uint64_t>, ack_skip_count> auto_acks_skipped{};  // by ack_skip
  // Removed by retention (two_way.reply_retention).
  std::atomic<std::uint64_t> removed_replies{0};
  std::atomic<std::uint64_t> removed_conversations{0};
  std::atomic<std::uint64_t> removed_opt_ins{0};
  std::atomic<std::uint64_t> removed_dead_letters{0};
};

class two_way {
 public:
  // Reads the opt-out list into `opt_outs`. Throws std::system_error when
  // the log cannot be read (startup only).
  two_way(boost::asio::io_context& io, storage::message_log& log, two_way_options options,
          opt_out_list& opt_outs);

  // On the io thread: feeds the parts a previous run stored, starts the
  // reassembly timer.
  void start();
  void stop();

  // On the io thread: one deliver_sm / data_sm that is not a receipt,
  // from the SMSC account `smsc`.
  mo_verdict on_mo(std::string_view smsc, const smpp::pdu& p);

  // Before start(): replies that are not keywords are matched to these
  // conversations (none: kept unmatched).
  void set_conversations(conversation_book* book) { conversations_ = book; }
  // Before start(): a campaign's auto-acknowledgement text by its id ("":
  // none; called on the io thread). Without it only the numbers' and the
  // general text are used.
  void set_campaign_acks(std::function<std::string(std::string_view campaign)> f) { campaign_acks_ = std::move(f); }

  const two_way_counters& counters() const noexcept { return counters_; }
  // Entries a retention step looks at, at most (a few thousand keys
  // removed per batch).
  static constexpr std::size_t retention_step_entries = 1000;
  storage::reply_store& store() noexcept { return store_; }

 private:
  using clock = std::chrono::steady_clock;
  using concat_id = std::tuple<std::string, std::uint16_t, std::uint8_t>;  // key, reference, total

  // Feeds a part to the reassembler; stores the reply when it completes.
  // Returns the last ticket written (0 when nothing was).
  std::uint64_t assemble(const storage::inbound_part& p, std::string part_key, std::error_code& ec);
  std::uint64_t store_reply(const smpp::reassembled& r, const storage::inbound_part& first,
                            std::vector<std::string> part_keys, std::string_view seen, std::error_code& ec);
  std::uint64_t act_on_keyword(const storage::reply_record& r, const keyword_match& kw, std::error_code& ec);
  // The auto-acknowledgement text for a reply ("" none) and where it came
  // from ("campaign", "number", "default").
  std::pair<std::string, std::string_view> ack_text(const storage::reply_record& r) const;
  std::optional<ack_skip> ack_refusal(const storage::reply_record& r, bool keyword,
                                      const storage::answer_mark& last) const;
  // What we last sent the customer: remembered this run, else as stored
  // (nullopt when it cannot be read).
  std::optional<storage::answer_mark> answered(std::string_view customer);
  void expire();
  // Starts a retention pass when one is due; takes one step of it.
  void retain(clock::time_point now);
  void arm_timer();
  smpp::decode_options decoding(std::string_view smsc) const;
  std::int64_t now_us() const { return options_.now_us(); }

  storage::message_log& log_;
  two_way_options options_;
  opt_out_list& opt_outs_;
  keyword_table keywords_;
  storage::reply_store store_;
  conversation_book* conversations_ = nullptr;
  std::function<std::string(std::string_view)> campaign_acks_;
  std::unordered_map<std::string, std::string> ack_by_number_;  // by opt_out_list::key
  // Answer marks queued this run (maybe not written yet), by
  // opt_out_list::key; those older than period and loop_guard are dropped.
  std::unordered_map<std::string, storage::answer_mark> answered_;
  clock::time_point last_forget_answered_{};
  smpp::reassembler reassembler_;
  // Per concatenated message waiting: its stored parts' keys and the first
  // part (who, to whom, through which SMSC).
  struct waiting {
    std::vector<std::string> part_keys;
    storage::inbound_part first;
    clock::time_point since;  // fed to the reassembler (this run)
  };
  std::map<concat_id, waiting> waiting_;
  // Seen keys queued for the log and maybe not written yet (seen() reads
  // only what is written): a PDU delivered twice in a row is caught here.
  std::unordered_set<std::string> unwritten_seen_;
  std::deque<std::pair<std::uint64_t, std::string>> unwritten_order_;  // by ticket
  void remember_seen(std::string key, std::uint64_t ticket);
  void forget_written_seen();
  // Opt-out changes queued this run, by digits, with their tickets: a
  // retention pass does not remove an entry whose newer state is queued.
  std::unordered_map<std::string, std::uint64_t> unwritten_opt_outs_;
  std::optional<storage::retention_pass> retention_;
  clock::time_point last_retention_{};
  boost::asio::steady_timer timer_;
  clock::time_point last_forget_{};
  bool stopped_ = false;
  two_way_counters counters_;
};

}  // namespace engine
