// The message log: a RocksDB database that remembers every message the
// engine accepted and every change of its parts' states, so that each ends
// in a known final state across crashes and restarts.
//
// Threads: any number of producers call append()/update() (lock-free:
// moodycamel queue, one producer token per thread is optional); one writer
// thread drains the queue in bulk and writes one WriteBatch per drain
// (group commit), synced as `sync` says, then advances durable_ticket().
// Reads (get, find_part, open_message_ids) may come from any thread and see
// what the writer has written.
//
// Column families:
//   messages   id (8 octets BE)                  -> record (record.hpp)
//   open       id                                -> "" while any part is in flight
//   smsc_ids   smsc NUL key(message_id.hpp)      -> id + part (8 + 2 octets BE)
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
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "storage/message_id.hpp"
#include "storage/record.hpp"
#include "storage/state.hpp"

namespace storage {

enum class sync_policy : std::uint8_t { always, interval, never };

struct log_options {
  std::filesystem::path dir;
  sync_policy sync = sync_policy::interval;
  std::chrono::milliseconds sync_interval{10};
  std::size_t max_backlog = 1 << 16;
  // Called on the writer thread after each batch with the new durable
  // ticket. Must not block (post to the owner's io_context).
  std::function<void(std::uint64_t)> on_durable;
  // Called on the writer thread for each illegal transition (also counted),
  // with the message, the part and both states.
  std::function<void(std::uint64_t, std::uint16_t, state, state)> on_illegal;
};

// A change of one part, as the engine observes it.
struct part_update {
  std::uint64_t message_id = 0;
  std::uint16_t part = 0;
  state to = state::queued;
  std::int64_t at_us = 0;  // when it happened (microseconds since the epoch)
  // With to == submitting: the SMSC it is written to.
  std::string smsc;
  // With to == accepted: the id the submit_sm_resp gave, and how that
  // SMSC writes ids in its resps.
  std::string smsc_message_id;
  id_format resp_format = id_format::automatic;
  std::uint32_t command_status = 0;  // resp status (accepted, retrying, failed)
  std::uint32_t error_code = 0;      // receipt error (final states)
};

struct part_ref {
  std::uint64_t message_id = 0;
  std::uint16_t part = 0;
};

struct log_counters {
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> illegal_transitions{0};
  std::atomic<std::uint64_t> unknown_messages{0};  // updates naming no stored message
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
  // with backlog_full (try again later) or closed.
  [[nodiscard]] std::uint64_t append(message_record r, std::error_code& ec);
  [[nodiscard]] std::uint64_t update(part_update u, std::error_code& ec);

  std::uint64_t durable_ticket() const noexcept { return durable_.load(std::memory_order_acquire); }
  // Blocks until `ticket` is durable (or the log is closed).
  void wait_durable(std::uint64_t ticket);

  std::optional<message_record> get(std::uint64_t id, std::error_code& ec) const;
  // The part a receipt names: tries each key receipt_id_keys() gives.
  std::optional<part_ref> find_part(std::string_view smsc, std::string_view receipt_id,
                                    id_format receipt_format, std::error_code& ec) const;
  // Messages with a part still in flight, without scanning the log.
  std::vector<std::uint64_t> open_message_ids(std::error_code& ec) const;
  // Compacts every column family now (RocksDB does it in the background
  // anyway; for measurements and after large deletions).
  void compact();
  // The largest message id ever stored (to continue numbering after a restart).
  std::uint64_t max_message_id() const noexcept { return max_id_.load(); }

  const log_counters& counters() const noexcept { return counters_; }

 private:
  struct impl;
  // Constructed before impl_, whose writer thread uses them.
  std::atomic<std::uint64_t> durable_{0};
  std::atomic<std::uint64_t> max_id_{0};
  log_counters counters_;
  std::unique_ptr<impl> impl_;  // last: destroyed first, joining the writer
  friend struct impl;
};

}  // namespace storage
