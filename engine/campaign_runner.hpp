// One campaign as a job source: streams its recipients file, prepares each
// row (number to E.164, template, duplicate check, route, encode), makes
// it a durable message in the log and hands it to the dispatcher.
//
// - Rows are read one at a time; at most `max_unconfirmed` messages wait
//   for the log's durability and the dispatcher's lane is bounded, so
//   memory stays flat whatever the file's size (the duplicate check is a
//   Bloom filter of at most 8 MiB backed by the log: duplicate_check.hpp).
// - A bad row (bad number, missing template field, wrong column count, a
//   text that cannot be encoded, no operator for the number) is rejected
//   with its row number and reason: counted, written to the rejections
//   file, recorded in the log as a failed message (a repeated recipient as
//   a suppressed one), never stopping the campaign.
// - A send window is set on each message (and kept in its record), in its
//   recipient's zone (or the campaign's one zone): the dispatcher holds a
//   message whose window is closed, so one zone's night does not hold up
//   the others. The campaign's tps paces it.
// - Consent (campaign `consent:`): a recipient whose consent column is not
//   a yes and who is not on the consent list is recorded as suppressed
//   (cause no_consent) and counted; nothing is sent.
// - A campaign that expects replies opens a conversation per message: the
//   message goes from a reply number the customer has no other open
//   conversation on and carries its reference code (conversations.hpp).
// - Restart: the log's cursor for the campaign says which rows are
//   already messages; those are skipped (their numbers still feed the
//   duplicate check's filter; the log has their messages).
// - A message reaches the dispatcher only once its record is durable, so
//   no part can be submitted for a message the log could lose.
//
// - Its gate (campaign_gate.hpp) is checked before each row: while the
//   campaign waits for its start or is paused no row is read; once it is
//   cancelled the runner hands over what it already made (the dispatcher
//   cancels those) and returns.
//
// Threads: run() blocks on its own thread until the file is read, the
// campaign is cancelled or stop() is called (any thread).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "engine/campaign_gate.hpp"
#include "engine/conversations.hpp"
#include "engine/dispatcher.hpp"
#include "engine/phone_number.hpp"
#include "engine/prepare.hpp"
#include "engine/recipient_zone.hpp"
#include "engine/throttle.hpp"
#include "smpp/text.hpp"
#include "storage/message_log.hpp"

namespace engine {

struct campaign_counts {
  std::atomic<std::uint64_t> file_bytes{0};  // the recipients file's size
  std::atomic<std::uint64_t> bytes_read{0};  // of it, consumed
  std::atomic<double> rate{0};               // messages handed to the dispatcher per second, smoothed
  std::atomic<std::uint64_t> rows{0};       // data rows read
  std::atomic<std::uint64_t> accepted{0};   // became messages
  std::atomic<std::uint64_t> rejected{0};   // bad rows
  std::atomic<std::uint64_t> duplicates{0}; // same recipient again in this campaign
  std::atomic<std::uint64_t> duplicate_lookups{0}; // rows the duplicate filter sent to the log
  std::atomic<std::uint64_t> skipped{0};    // already messages before a restart
  std::atomic<std::uint64_t> no_consent{0}; // suppressed: consent required and not given
};

// Who consented to a campaign (config::consent_rule): the column's yes
// values and the list's numbers.
class consent_check {
 public:
  // Reads the list, if any. Lines that are not numbers are skipped and
  // counted (bad_lines(), first_bad_line()); a list that cannot be read
  // leaves error() set.
  consent_check(const config::consent_rule& rule, const numbering_plan& numbering);
  const std::string& error() const noexcept { return error_; }
  std::uint64_t bad_lines() const noexcept { return bad_lines_; }
  std::uint64_t first_bad_line() const noexcept { return first_bad_; }
  std::size_t listed() const noexcept { return listed_.size(); }

  // Finds the column in the recipients file's header; false (with
  // error()) when the rule names one the file does not have.
  bool bind(const std::vector<std::string>& header);
  // A row's recipient (E.164) has consent.
  bool allows(const std::vector<std::string>& row, const std::string& e164) const;
  static bool is_yes(std::string_view field) noexcept;

 private:
  config::consent_rule rule_;
  std::optional<std::size_t> column_;
  std::unordered_set<std::string> listed_;
  std::uint64_t bad_lines_ = 0, first_bad_ = 0;
  std::string error_;
};

struct campaign_setup {
  config::campaign_config campaign;
  prepare_context prepare;
  const prepare_source* prepare_from = nullptr;  // when set, `prepare` follows it (reload)
  std::filesystem::path rejections_file;  // CSV: row,reason
  std::size_t max_unconfirmed = 4096;
  const campaign_gate* gate = nullptr;  // null: always running
  conversation_book* conversations = nullptr;  // for campaigns that expect replies
};

class campaign_runner {
 public:
  campaign_runner(campaign_setup setup, storage::message_log& log, dispatcher& dispatch,
                  std::atomic<std::uint64_t>& next_message_id);

  // Reads the whole file (or until stop()). Returns "" when the file was
  // read to its end, else why the campaign could not run.
  std::string run();
  void stop() noexcept { stop_.store(true); }
  // Any thread: a new campaign rate (parts per second; 0: no limit of its own).
  void set_tps(double tps) noexcept { new_tps_.store(tps); }
  bool finished_reading() const noexcept { return done_.load(); }
  bool stopped() const noexcept { return stop_.load(); }
  const campaign_counts& counts() const noexcept { return counts_; }
  const std::string& id() const noexcept { return setup_.campaign.id; }

 private:
  struct unconfirmed {
    std::uint64_t ticket;
    std::unique_ptr<outbound_message> message;
  };
  bool wait_for_gate();  // false once cancelled or stopped
  bool hand_over(bool all);  // durable messages to the dispatcher; false if stopped
  // Counts, reports and records a row that will not be sent.
  void reject(std::uint64_t row, const std::string& reason, std::string_view recipient, storage::state st,
              storage::cause why = storage::cause::engine);

  campaign_setup setup_;
  storage::message_log& log_;
  dispatcher& dispatch_;
  std::atomic<std::uint64_t>& next_id_;
  std::optional<window_rule> window_;
  std::vector<unconfirmed> pending_;
  std::size_t pending_front_ = 0;
  std::FILE* rejections_ = nullptr;
  token_bucket pace_;  // the campaign's tps
  std::atomic<double> new_tps_{-1};  // set_tps(); -1: unchanged
  std::uint64_t prepare_generation_ = 0;
  std::uint64_t handed_ = 0;  // since rate_since_
  std::chrono::steady_clock::time_point rate_since_{};
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  campaign_counts counts_;
};

}  // namespace engine
