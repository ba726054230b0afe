// Reading the message log from outside the daemon (smppctl report,
// smppctl message), while smppd keeps writing it: the database is opened
// as a RocksDB secondary instance, which reads the primary's files without
// locking them and follows its writes when asked (catch_up()). Reports
// come from the per-campaign and per-SMSC statistics the writer keeps, so
// they cost a few reads however large the campaign.
//
// What a report says:
//   messages      counts by message state (every message the campaign ever
//                 had, including those retention removed since: `removed`);
//   delivery_rate delivered / messages in a final state (0 when none);
//   latencies     submit -> resp and submit -> receipt, percentiles read
//                 from the histograms (within about 6%; the last attempt
//                 of each part counts);
//   SMSC reports  counts by part state, parts in doubt now, receipts nobody
//                 claimed: kept (parked) now, and expired.
//
// Threads: the const functions may run on several threads at once;
// catch_up() must not run alongside them. Works on a stopped database too.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "storage/message_log.hpp"
#include "storage/record.hpp"
#include "storage/reply_store.hpp"
#include "storage/state.hpp"

namespace storage {

struct reader_options {
  std::filesystem::path dir;  // the daemon's message log
  // Where the secondary instance keeps its own small files (info log).
  // Empty: a fresh directory under the system's temp dir, removed on close.
  std::filesystem::path secondary_dir;
};

struct state_counts {
  std::array<std::uint64_t, state_count> by_state{};
  std::uint64_t operator[](state s) const noexcept { return by_state[static_cast<std::size_t>(s)]; }
  std::uint64_t total() const noexcept;
  std::uint64_t final_total() const noexcept;  // in a terminal state
};

struct latency_summary {
  std::uint64_t count = 0;
  std::chrono::microseconds p50{0}, p90{0}, p99{0}, max{0};
};

struct campaign_report {
  std::string campaign;  // "" for messages that came through the API
  state_counts messages;
  std::uint64_t removed = 0;
  std::array<std::uint64_t, cause_count> suppressed_by{};  // suppressed messages by why (record.hpp)
  double delivery_rate = 0;
  latency_summary submit_to_resp, submit_to_receipt;
  std::uint64_t cursor_row = 0;  // every row up to it is in the log
};

struct smsc_report {
  std::string smsc;
  state_counts parts;
  std::uint64_t in_doubt = 0;
  std::uint64_t orphans_kept = 0;     // parked receipts now
  std::uint64_t orphans_expired = 0;  // kept too long, dropped
  double delivery_rate = 0;
  latency_summary submit_to_resp, submit_to_receipt;
};

struct orphan_receipt {
  std::string smsc;
  std::string receipt_id;
  state st = state::delivered;
  std::uint32_t error_code = 0;
  std::int64_t parked_us = 0;
  std::string destination;
};

// One line of a message's history, as far as the record tells it (the
// last attempt of each part).
struct timeline_entry {
  enum class kind : std::uint8_t { queued, submitted, resp, receipt, settled };
  std::int64_t at_us = 0;
  int part = -1;  // -1: the message
  kind what = kind::queued;
  state st = state::queued;  // the part's state after it (settled: its final state)
  std::uint32_t code = 0;    // resp: command_status; receipt: error code
  std::uint32_t attempt = 0;
  std::string smsc;
  storage::cause cause = cause::engine;
};
std::string_view name(timeline_entry::kind k) noexcept;

struct message_view {
  message_record record;
  std::vector<timeline_entry> timeline;  // by time
};

class log_reader {
 public:
  // Throws std::system_error when the database cannot be opened.
  explicit log_reader(const reader_options& options);
  // Reads through the daemon's own open log (no second instance, no second
  // set of caches and memtables): it always sees what the writer wrote, and
  // catch_up() has nothing to do. `log` must outlive the reader.
  explicit log_reader(const message_log& log);
  ~log_reader();
  log_reader(const log_reader&) = delete;
  log_reader& operator=(const log_reader&) = delete;

  // Reads the primary's latest writes (its MANIFEST and WAL).
  [[nodiscard]] std::error_code catch_up();

  campaign_report report(std::string_view campaign, std::error_code& ec) const;
  smsc_report smsc(std::string_view smsc, std::error_code& ec) const;
  std::vector<std::string> campaigns(std::error_code& ec) const;
  std::vector<std::string> smscs(std::error_code& ec) const;
  // not_found when there is no such message (or retention removed it).
  std::optional<message_view> message(std::uint64_t id, std::error_code& ec) const;
  std::optional<std::uint64_t> find_idempotent(std::string_view key, std::error_code& ec) const;
  std::vector<std::uint64_t> messages_to(std::string_view recipient, std::int64_t since_us,
                                         std::int64_t until_us, std::size_t limit,
                                         std::error_code& ec) const;
  // Parked receipts, oldest first, at most `limit`.
  std::vector<orphan_receipt> orphans(std::size_t limit, std::error_code& ec) const;
  // Customers' replies (reply_store.hpp): one by id, or a customer's,
  // newest first. None in a database no two-way smppd has written.
  std::optional<reply_record> reply(std::uint64_t id, std::error_code& ec) const;
  std::vector<reply_record> replies_from(std::string_view customer, std::size_t limit,
                                         std::error_code& ec) const;

  // The timeline of a record (what message() adds to it).
  static std::vector<timeline_entry> timeline_of(const message_record& r);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace storage
