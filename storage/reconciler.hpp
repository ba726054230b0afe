// Receipt reconciliation: settles each part with the delivery receipt the
// SMSC sends for it, however and whenever the receipt comes.
//
//   - By id: the receipt's id is read in the forms the SMSC account's
//     setting allows (message_id.hpp: decimal or hex, leading zeros, any
//     case) and looked up first in memory (parts accepted since start),
//     then in the log's SMSC-id index (parts accepted before a restart).
//     Keys are per SMSC account, not per bind: a receipt that comes on
//     another bind of the same account matches.
//   - Before its resp: a receipt no part claims is parked (kept in memory
//     and in the log's orphans column family, so it survives a restart and
//     reports show it) and applied when on_resp() brings its id.
//   - In doubt: a part that was written but never got a resp has no id.
//     When it is `unknown` for that reason (the in-doubt policy, or a resp
//     timeout), a receipt is matched to it on a fallback key instead: same
//     SMSC account, same destination, submitted within a window before the
//     receipt's done time (or around its submit time), and, when the
//     receipt has a text field, the part's text starting with it. Only a
//     single candidate is taken; two are ambiguous and the receipt is parked.
//   - A duplicate (the part is already final, or the same receipt is
//     already parked) changes nothing and is counted.
//   - A parked receipt nobody claims within orphan_keep is dropped by
//     expire_parked() and counted in its SMSC's statistics.
//
// Final states and latencies: the receipt's state is applied to the part
// through the log, which derives the message's state, stores the receipt
// time and error, and adds submit -> resp and submit -> receipt to the
// campaign's and the SMSC account's histograms.
//
// Threads: one reconciler is owned by one engine thread (the one that
// receives receipts and resps from the binds, through a queue); none of its
// functions may be called from another. It writes through the log's queue
// (so it is subject to its back-pressure: a call that fails with
// backlog_full has changed nothing and can be repeated, e.g. by not
// acknowledging the deliver_sm yet) and reads the log's database directly.
// Only the reconciler may report resps (on_resp) for parts: otherwise a
// receipt that came first stays parked. Its view of a part's state comes
// from its own events, or from the database the first time it meets a part
// after a restart; a change the engine writes to the log directly (an
// overdue part marked unknown) is not seen, so a receipt repeating that
// state is reported `matched` while the log finds nothing to change and
// counts it (log_counters::duplicate_events). Either way nothing changes.
//
// Memory: the id index holds the parts accepted or settled recently, in
// two generations of memory_ids entries each (about 24 octets per numeric
// id); when one fills, the older is dropped and its parts are found in the
// database instead, a few microseconds slower. Parked receipts are bounded
// by max_parked.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <system_error>

#include "storage/message_id.hpp"
#include "storage/message_log.hpp"
#include "storage/state.hpp"

namespace storage {

struct reconciler_options {
  // How long a receipt that no part claims is kept (for a resp that comes
  // late, or an in-doubt part) before it counts as an orphan and goes.
  std::chrono::seconds orphan_keep = std::chrono::hours(24);
  std::size_t max_parked = 1'000'000;
  // Fallback matching: how long before the receipt's done time an in-doubt
  // part may have been submitted, and how far clocks may disagree.
  std::chrono::seconds fallback_window = std::chrono::hours(48);
  std::chrono::seconds clock_skew = std::chrono::minutes(15);
  // Entries per generation of the in-memory id index (rounded up to a
  // power of two; filled to 3/4): 2 x 12 MiB hold about 10 s of parts at
  // 50,000 a second, far more than receipts usually take.
  std::size_t memory_ids = std::size_t{1} << 19;
  // The wall clock (microseconds since the Unix epoch); tests inject one.
  // Default: std::chrono::system_clock.
  std::function<std::int64_t()> now_us;
};

// A delivery receipt as the engine read it (smpp/receipt.hpp), in plain
// terms. The views need only live during the call.
struct receipt_event {
  std::string_view smsc;        // the SMSC account (not the bind) it came from
  std::string_view receipt_id;  // as sent
  id_format receipt_format = id_format::automatic;  // the account's setting
  // The outcome: delivered, undeliverable, expired, rejected, deleted or
  // unknown. (Intermediate notifications are not receipts: the engine
  // drops them.)
  state final_state = state::delivered;
  std::uint32_t error_code = 0;  // err: or network_error_code
  std::int64_t done_us = 0;      // "done date", 0 if absent
  std::int64_t submit_us = 0;    // "submit date", 0 if absent
  std::string_view destination;  // who received the message (the deliver_sm's source_addr)
  std::string_view text_prefix;  // the receipt's "text:" field, possibly empty
};

// A successful submit_sm_resp for a part.
struct resp_event {
  part_ref part;
  std::string_view smsc;  // the account the part was submitted through
  std::string_view smsc_message_id;
  id_format resp_format = id_format::automatic;  // the account's setting
  std::uint32_t command_status = 0;
  std::int64_t at_us = 0;  // when it came; 0: now
};

enum class receipt_outcome : std::uint8_t {
  matched,    // settled a part (by id, or by the fallback key)
  duplicate,  // the part was already final, or the receipt already parked: nothing changed
  parked,     // no part yet: kept for orphan_keep
  orphan,     // no part, and not kept (no room)
};
std::string_view name(receipt_outcome o) noexcept;

// Plain counters; read them on the owning thread (or copy them out).
struct reconciler_counters {
  std::uint64_t matched_by_id = 0;
  std::uint64_t matched_by_fallback = 0;
  std::uint64_t matched_when_resp_came = 0;  // parked first, applied by on_resp()
  std::uint64_t duplicates = 0;
  std::uint64_t conflicting = 0;  // duplicates naming another final state than the part has
  std::uint64_t parked = 0;       // receipts parked (ever)
  std::uint64_t orphans_expired = 0;
  std::uint64_t orphans_dropped = 0;  // not kept: max_parked reached
  std::uint64_t memory_hits = 0;      // found in the in-memory index
  std::uint64_t database_hits = 0;    // found in the log's SMSC-id index
};

class reconciler {
 public:
  // Loads the receipts parked before a restart. Throws std::system_error
  // if the log cannot be read (startup only).
  reconciler(message_log& log, reconciler_options options = {});
  ~reconciler();
  reconciler(const reconciler&) = delete;
  reconciler& operator=(const reconciler&) = delete;

  // Settles the part the receipt names, or parks the receipt. Errors:
  // backlog_full or closed (nothing changed; try again), io_error,
  // invalid_argument (no id, or final_state not a receipt outcome).
  [[nodiscard]] receipt_outcome on_receipt(const receipt_event& e, std::error_code& ec);

  // Records the resp (the part becomes accepted, its id indexed) and
  // applies a receipt parked for that id. Returns true if it did. Errors as
  // on_receipt (nothing changed on error).
  [[nodiscard]] bool on_resp(const resp_event& e, std::error_code& ec);

  // Drops the parked receipts older than orphan_keep; returns how many.
  // Call it now and then (a timer on the owning thread).
  std::size_t expire_parked(std::error_code& ec);

  // Tries every parked receipt against the parts in doubt (after recovery
  // marked parts unknown, or when the log's in-doubt count moved); returns
  // how many it settled.
  std::size_t retry_parked(std::error_code& ec);

  // expire_parked(), then retry_parked() if parts entered doubt since the
  // last retry.
  void tick(std::error_code& ec);

  std::size_t parked_now() const noexcept;
  // The ticket of the last event this reconciler queued to the log. A
  // receipt's effect is durable once the log's durable_ticket() reaches
  // it: acknowledge the deliver_sm then, and an SMSC resends whatever a
  // crash lost.
  std::uint64_t last_ticket() const noexcept;
  const reconciler_counters& counters() const noexcept { return counters_; }

 private:
  struct impl;
  reconciler_counters counters_;
  std::unique_ptr<impl> impl_;
};

}  // namespace storage
