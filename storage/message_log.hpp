// The message log: a RocksDB database that remembers every message the
// engine accepted and every change of its parts' states, so that each ends
// in a known final state across crashes and restarts.
//
// Threads: any number of producers call append()/update() (lock-free:
// moodycamel queue; append() with an idempotency key also takes a short
// mutex); one writer thread drains the queue in bulk and writes one
// WriteBatch per drain (group commit), synced as `sync` says, then advances
// durable_ticket(). Reads (get, find_part, open_message_ids,
// find_idempotent, messages_to, campaign_cursors) may come from any thread
// and see what the writer has written. The reconciler (reconciler.hpp)
// writes through the same queue.
//
// Column families and key forms: detail/schema.hpp. Besides the records
// the writer keeps, in the same batch as the change they follow:
//   - the open index (messages with a part in flight: recovery reads it,
//     not the log);
//   - the SMSC-id index (receipts find their part), the in-doubt index
//     (unknown parts that never got a resp, for receipts matched by
//     destination, time and text), the recipient index (recent messages to
//     a number, for replies), the idempotency index;
//   - per campaign, counts by message state and latency histograms; per
//     SMSC account, counts by part state, parts in doubt, expired orphan
//     receipts and latency histograms (reports without scans);
//   - per campaign, a cursor: the highest row such that every row up to it
//     is in the log, plus the rows above it already there (a campaign
//     continues after its cursor on restart, skipping those);
//   - the deadline list (messages with deliver_by_us not delivered yet),
//     and the webhook outbox entries of messages that became final (see
//     log_options::message_event_targets).
// Being in one batch, they can never disagree with the records after a
// crash.
//
// Durability:
//   sync::always    each batch is fsynced before its events count as durable;
//   sync::interval  batches reach the OS at once (a crash of smppd loses
//                   nothing) and are fsynced at most every sync_interval (a
//                   power cut loses at most that much);
//   sync::never     the OS decides (tests and benchmarks only).
// Back-pressure: at most max_backlog events wait for the writer; beyond
// that, append/update return storage_errc::backlog_full and the producer
// stops pulling work until durable_ticket() moves.
//
// Retention: with `retention` set, the writer removes messages whose parts
// are all final and whose last event (queued, submit, resp, receipt) is
// older than that, with their index entries, a few thousand per batch
// between the engine's batches. Counts and histograms keep them (a report
// of an old campaign still adds up); `removed` says how many went.
//
// Urgency: an urgent event (a notification's record, its first
// `submitting` marks) goes through a lane of its own that the writer takes
// first, in the next batch, however many normal events wait: an OTP never
// waits behind a campaign's backlog. Urgent tickets are numbered apart
// (urgent_ticket_bit set); is_durable() and wait_durable() take either
// kind, durable_ticket() is the normal lane's.
//
// Ordering: events of one producer thread and lane are applied in the order
// it queued them; an urgent event may overtake normal ones queued before
// it (so a producer makes urgent only events that nothing of the same
// message waits before, such as a new record or a first submit), while a
// normal event never overtakes an urgent one its thread queued earlier.
// Events of different threads may be reordered within a few
// milliseconds. Dispatch must therefore make a part's `submitting` event
// durable before it writes the PDU (which it must anyway: otherwise a crash
// leaves a sent part looking queued, and it is sent twice), so that the
// resp, reported from another thread, always finds it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "storage/latency_histogram.hpp"
#include "storage/message_id.hpp"
#include "storage/record.hpp"
#include "storage/state.hpp"

namespace storage {

namespace detail {
struct log_access;
}

enum class sync_policy : std::uint8_t { always, interval, never };

// What happened to an outbound message, for the webhooks that ask
// (reply_store.hpp keeps them in its outbox).
enum class message_event : std::uint8_t {
  none = 0,                 // not a message's event: a reply's
  delivered,                // the message reached `delivered`
  failed,                   // it reached another final state (unknown aside: a late receipt may settle it)
  undelivered_by_deadline,  // its deliver_by_us passed before it was delivered
};
inline constexpr std::uint8_t message_event_count = 4;
std::string_view name(message_event e) noexcept;

struct log_options {
  std::filesystem::path dir;
  sync_policy sync = sync_policy::interval;
  std::chrono::milliseconds sync_interval{10};
  std::size_t max_backlog = 1 << 16;
  // Records the writer keeps in memory (messages in flight first), so that
  // a message's next event needs no read. Beyond it, records are read back
  // from the database (a few microseconds each). About 400 octets each:
  // 64 Ki of them (26 MB) hold a campaign's messages from append to
  // receipt at 50,000 messages/s with receipts within a second.
  std::size_t max_cached_records = 1 << 16;
  // RocksDB's cache of uncompressed blocks, shared by all column families.
  // Receipts for messages accepted long ago read their records back: the
  // larger the share of those records it holds, the fewer reads reach the
  // files (each a syscall and a decompression). It also holds the files'
  // index and filter blocks (partitioned: the pieces in use).
  std::size_t block_cache_bytes = std::size_t{16} << 20;
  // All memtables together (RocksDB's db_write_buffer_size): the largest
  // is flushed beyond it.
  std::size_t memtable_bytes = std::size_t{96} << 20;
  // The open index (the messages recovery looks at after a restart) gets
  // a message's entry only once the message has been open this long
  // (checked every 50 ms): a message whose receipt comes sooner never
  // gets one, which would have been deleted again straight after (two of
  // the writer's seven writes per message, when the SMSC answers at
  // once). Messages newer than the index covers are found by scanning
  // their records instead: at open, which then indexes those still open,
  // and in open_message_ids(). So a longer delay saves more writes and
  // costs a longer scan after a crash (about delay x message rate
  // records).
  std::chrono::milliseconds open_index_delay{2000};
  // Remove final messages whose last event is older than this; zero keeps
  // everything.
  std::chrono::seconds retention{0};
  std::chrono::seconds retention_interval{60};
  // The wall clock retention compares with (microseconds since the Unix
  // epoch); tests inject one. Default: std::chrono::system_clock.
  std::function<std::int64_t()> now_us;
  // Called on the writer thread after each batch with the new durable
  // ticket. Must not block (post to the owner's io_context).
  std::function<void(std::uint64_t)> on_durable;
  // Called on the writer thread for each illegal transition (also counted),
  // with the message, the part and both states.
  std::function<void(std::uint64_t, std::uint16_t, state, state)> on_illegal;
  // Message events for webhooks: called on the writer thread when a
  // message's state becomes final (delivered, or failed for any other
  // final state but unknown), to fill in the webhooks to tell (cleared
  // before the call). Each gets an outbox entry (reply_store.hpp) in the
  // batch that makes the message final, so a crash loses none. Unset (no
  // webhook wants them): nothing is done per message. Must not block.
  std::function<void(message_event, const message_record&, std::vector<std::string>&)> message_event_targets;
};

// A change of one part, as the engine observes it.
struct part_update {
  std::uint64_t message_id = 0;
  std::uint16_t part = 0;
  state to = state::queued;
  std::int64_t at_us = 0;  // when it happened (microseconds since the epoch)
  // With to == submitting: the SMSC account it is written to.
  std::string smsc;
  // With to == accepted: the id the submit_sm_resp gave, and how that
  // SMSC writes ids in its resps.
  std::string smsc_message_id;
  id_format resp_format = id_format::automatic;
  std::uint32_t command_status = 0;  // resp status (accepted, retrying, failed)
  std::uint32_t error_code = 0;      // receipt error (final states)
  // What caused it. A final state from a receipt (cause receipt*, or
  // engine for any final state but unknown) sets the part's receipt time
  // and error; recovery and an engine's `unknown` (no receipt in time) do not.
  storage::cause cause = cause::engine;
};

enum class urgency : std::uint8_t { normal, urgent };
inline constexpr std::uint64_t urgent_ticket_bit = std::uint64_t{1} << 63;

struct part_ref {
  std::uint64_t message_id = 0;
  std::uint16_t part = 0;
  bool operator==(const part_ref&) const = default;
};

struct campaign_cursor {
  std::uint64_t row = 0;                    // every row <= row is in the log
  std::vector<std::uint64_t> rows_above;    // rows above it already in the log
};

struct log_counters {
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> illegal_transitions{0};
  std::atomic<std::uint64_t> unknown_messages{0};  // updates naming no stored message
  std::atomic<std::uint64_t> duplicate_events{0};  // a part already in that state: nothing done
  std::atomic<std::uint64_t> in_doubt_added{0};    // parts that entered the in-doubt index
  std::atomic<std::uint64_t> record_reads{0};      // records read back (not cached)
  std::atomic<std::uint64_t> removed_messages{0};  // by retention
  std::atomic<std::uint64_t> early_updates{0};     // came before their urgent record, applied with it
  std::atomic<std::uint64_t> open_indexed{0};      // messages given an open-index entry (open past the delay)
};

class message_log {
 public:
  // Opens (creating if needed) the database in options.dir and starts the
  // writer thread. Throws std::system_error when the database cannot be
  // opened (startup only).
  explicit message_log(const log_options& options);
  ~message_log();  // drains and writes every queued event, then closes
  message_log(const message_log&) = delete;
  message_log& operator=(const message_log&) = delete;

  // Queues a new message (or replaces one, keeping its id). Returns the
  // event's ticket: it is durable once durable_ticket() >= ticket. Fails
  // with backlog_full (try again later), closed, or duplicate_key when the
  // record's idempotency key already names another message (queued or
  // stored; find_idempotent() tells which). The record is moved from only
  // when it is queued, so a caller can retry with it.
  [[nodiscard]] std::uint64_t append(message_record&& r, std::error_code& ec, urgency u = urgency::normal);
  [[nodiscard]] std::uint64_t append(const message_record& r, std::error_code& ec, urgency u = urgency::normal);
  [[nodiscard]] std::uint64_t update(part_update&& u, std::error_code& ec, urgency how = urgency::normal);
  [[nodiscard]] std::uint64_t update(const part_update& u, std::error_code& ec, urgency how = urgency::normal);
  // Queues all of them, in order, or none (backlog_full, closed; then they
  // are left as they were); returns the last ticket.
  [[nodiscard]] std::uint64_t update(std::span<part_update> updates, std::error_code& ec);

  std::uint64_t durable_ticket() const noexcept { return durable_.load(std::memory_order_acquire); }
  // A ticket of either lane (0 counts as durable).
  bool is_durable(std::uint64_t ticket) const noexcept {
    return ticket & urgent_ticket_bit
               ? (ticket & ~urgent_ticket_bit) <= urgent_durable_.load(std::memory_order_acquire)
               : ticket <= durable_.load(std::memory_order_acquire);
  }
  // The highest ticket of the lane handed out so far, by any producer: once
  // it is durable, everything queued in that lane before the call is
  // durable (and perhaps more).
  std::uint64_t issued_ticket(urgency lane = urgency::normal) const noexcept;
  // Blocks until `ticket` is durable (or the log is closed).
  void wait_durable(std::uint64_t ticket);

  std::optional<message_record> get(std::uint64_t id, std::error_code& ec) const;
  // The part a receipt names: tries each key receipt_id_keys() gives.
  std::optional<part_ref> find_part(std::string_view smsc, std::string_view receipt_id,
                                    id_format receipt_format, std::error_code& ec) const;
  // Messages with a part still in flight, ascending: the open index, and
  // the records newer than it covers (the last open_index_delay or so),
  // read at one snapshot.
  std::vector<std::uint64_t> open_message_ids(std::error_code& ec) const;
  // The message appended with this idempotency key, queued or stored.
  std::optional<std::uint64_t> find_idempotent(std::string_view key, std::error_code& ec) const;
  // Messages to `recipient` queued in [since_us, until_us], newest first,
  // at most `limit` (for matching a reply to what was sent). Any form of
  // the number matches (see detail/schema.hpp).
  std::vector<std::uint64_t> messages_to(std::string_view recipient, std::int64_t since_us,
                                         std::int64_t until_us, std::size_t limit,
                                         std::error_code& ec) const;
  // Every campaign's cursor as stored.
  std::map<std::string, campaign_cursor> campaign_cursors(std::error_code& ec) const;

  // One retention pass now, on the writer thread: removes final messages
  // whose last event is before cutoff_us, with their index entries; blocks
  // until done and returns how many went. (The automatic retention does the
  // same in small steps.)
  std::uint64_t remove_before(std::int64_t cutoff_us, std::error_code& ec);
  // Compacts every column family now (RocksDB does it in the background
  // anyway; for measurements and after large deletions).
  void compact();
  // The largest message id ever stored (to continue numbering after a restart).
  std::uint64_t max_message_id() const noexcept { return max_id_.load(); }

  // For the metrics (any thread): events waiting for the writer; RocksDB's
  // estimate of the bytes compaction has still to rewrite; a campaign's
  // messages ("": the API's) and an SMSC account's parts by state, as last
  // written, one read each.
  std::size_t backlog() const noexcept;
  std::uint64_t pending_compaction_bytes() const;
  // What the log holds in memory, by RocksDB's own accounting (bytes): the
  // memtables (mutable and those waiting for their flush), the block cache
  // (index and filter blocks included), the part of it pinned, and table
  // readers outside the cache; and the records the writer keeps cached.
  struct memory_use {
    std::uint64_t memtables = 0, block_cache = 0, block_cache_pinned = 0, table_readers = 0;
    std::uint64_t cached_records = 0;  // a count, not bytes
    // The bounds it was opened with (log_options).
    std::uint64_t memtables_limit = 0, block_cache_limit = 0;
  };
  memory_use memory() const;
  std::array<std::uint64_t, state_count> campaign_states(std::string_view campaign, std::error_code& ec) const;
  std::array<std::uint64_t, state_count> smsc_states(std::string_view smsc, std::error_code& ec) const;
  // An SMSC account's submit -> final receipt times, as last written (every
  // run of the log, one read).
  latency_histogram smsc_receipt_latency(std::string_view smsc, std::error_code& ec) const;

  const log_counters& counters() const noexcept { return counters_; }

 private:
  friend struct detail::log_access;
  struct impl;
  // Constructed before impl_, whose writer thread uses them.
  std::atomic<std::uint64_t> durable_{0};
  std::atomic<std::uint64_t> urgent_durable_{0};  // without urgent_ticket_bit
  std::atomic<std::uint64_t> max_id_{0};
  log_counters counters_;
  std::unique_ptr<impl> impl_;  // last: destroyed first, joining the writer
  friend struct impl;
};

}  // namespace storage
