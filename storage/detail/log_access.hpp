// What the reconciler needs of the message log beyond its public API: its
// database handles (for reads) and the writer's queue for events that are
// not part updates (parking and releasing receipts). Inside storage/ only.
// Threads: as message_log (handles for reads from any thread; enqueue from
// any producer).
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "storage/detail/schema.hpp"
#include "storage/message_log.hpp"

namespace storage::detail {

enum class event_kind : std::uint8_t {
  put,             // record: a new or replaced message
  update,          // update: a part's change
  park,            // key/value: a receipt nobody claimed yet, into orphans
  unpark,          // key: a parked receipt claimed (or replaced)
  orphan_expired,  // key, smsc: a parked receipt kept too long, dropped and counted
  retention,       // retention: a pass requested by remove_before()
  write,           // writes: puts and deletes in any column family, in one batch
  wake,            // nothing: wakes the writer for urgent events (no ticket, not in the backlog)
};

// One change of a `write` event.
struct kv_write {
  cf family = cf_default;
  std::string key;
  std::string value;
  bool erase = false;
};

struct retention_request {
  std::int64_t cutoff_us = 0;
  std::promise<std::uint64_t> removed;
};

struct log_event {
  std::uint64_t ticket = 0;
  event_kind kind = event_kind::update;
  message_record record;
  part_update update;
  std::string key, value, smsc;
  // Shared with the caller of remove_before(), who waits on it.
  std::shared_ptr<retention_request> retention;
  std::vector<kv_write> writes;
};

struct log_access {
  static const db_handles& handles(const message_log& log) noexcept;
  // All events or none, in order (see message_log::update(span)).
  static std::uint64_t enqueue(message_log& log, std::span<log_event> events,
                               std::error_code& ec);
};

}  // namespace storage::detail
