#include "storage/message_log.hpp"

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <span>
#include <condition_variable>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>

namespace storage {

namespace {

enum cf : std::size_t { cf_default = 0, cf_messages, cf_open, cf_smsc_ids, cf_count };
// "default" is RocksDB's kDefaultColumnFamilyName, which must exist.
constexpr const char* cf_names[cf_count] = {"default",
                                            "messages", "open", "smsc_ids"};

std::string id_key(std::uint64_t id) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[i] = static_cast<char>(id >> (56 - 8 * i));
  return k;
}

std::uint64_t read_u64(std::string_view s) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(s[i]);
  return v;
}

std::string smsc_index_key(std::string_view smsc, std::string_view id_key_) {
  std::string k(smsc);
  k.push_back('\0');
  k.append(id_key_);
  return k;
}

std::string part_value(std::uint64_t id, std::uint16_t part) {
  std::string v = id_key(id);
  v.push_back(static_cast<char>(part >> 8));
  v.push_back(static_cast<char>(part));
  return v;
}

}  // namespace

struct message_log::impl {
  struct event {
    std::uint64_t ticket = 0;
    bool is_put = false;
    message_record record;
    part_update update;
  };

  message_log& self;
  log_options options;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  moodycamel::BlockingConcurrentQueue<event> queue;
  std::atomic<std::size_t> backlog{0};
  std::atomic<std::uint64_t> next_ticket{0};
  std::atomic<bool> closing{false};

  // Writer thread only.
  struct cached {
    message_record record;
    bool indexed_open = false;  // the open column family holds it now
  };
  std::unordered_map<std::uint64_t, cached> open_records;
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> written;
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();
  bool unsynced = false;  // batches written since the last fsync

  // Guards nothing but the wait in wait_durable().
  std::mutex durable_mutex;
  std::condition_variable durable_cv;

  std::thread writer;

  impl(message_log& s, const log_options& o) : self(s), options(o) {
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.IncreaseParallelism(2);
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const char* n : cf_names) {
      rocksdb::ColumnFamilyOptions cf_options;
      cf_options.OptimizeLevelStyleCompaction();
      descriptors.emplace_back(n, cf_options);
    }
    std::filesystem::create_directories(o.dir);
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status st = rocksdb::DB::Open(db_options, o.dir.string(), descriptors, &cfs, &raw);
    if (!st.ok())
      throw std::system_error(make_error_code(storage_errc::io_error),
                              "opening message log " + o.dir.string() + ": " + st.ToString());
    db.reset(raw);
    // Continue numbering after the highest stored id.
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cfs[cf_messages]));
    it->SeekToLast();
    if (it->Valid() && it->key().size() == 8) self.max_id_ = read_u64(it->key().ToStringView());
    writer = std::thread([this] { run(); });
  }

  ~impl() {
    closing = true;
    writer.join();
    if (options.sync != sync_policy::never) db->SyncWAL();
    for (auto* h : cfs) db->DestroyColumnFamilyHandle(h);
    db->Close();
  }

  std::uint64_t enqueue(event e, std::error_code& ec) {
    if (closing) {
      ec = storage_errc::closed;
      return 0;
    }
    if (backlog.load(std::memory_order_relaxed) >= options.max_backlog) {
      ec = storage_errc::backlog_full;
      return 0;
    }
    backlog.fetch_add(1, std::memory_order_relaxed);
    e.ticket = next_ticket.fetch_add(1, std::memory_order_relaxed) + 1;
    const std::uint64_t t = e.ticket;
    queue.enqueue(std::move(e));
    ec.clear();
    return t;
  }

  // The record an update applies to: one touched earlier (this batch or
  // still open), else the stored one.
  message_record* record_for(std::uint64_t id) {
    if (auto it = open_records.find(id); it != open_records.end()) return &it->second.record;
    std::string value;
    if (!db->Get(rocksdb::ReadOptions(), cfs[cf_messages], id_key(id), &value).ok()) return nullptr;
    message_record r;
    if (decode_record(value, r)) return nullptr;
    const bool open = in_flight(r);
    return &open_records.emplace(id, cached{std::move(r), open}).first->second.record;
  }

  void apply(const part_update& u, rocksdb::WriteBatch& batch) {
    message_record* r = record_for(u.message_id);
    if (r == nullptr || u.part >= r->parts.size()) {
      self.counters_.unknown_messages.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    part_record& p = r->parts[u.part];
    switch (check_transition(p.st, u.to)) {
      case transition::unchanged:
        return;
      case transition::illegal:
        self.counters_.illegal_transitions.fetch_add(1, std::memory_order_relaxed);
        if (options.on_illegal) options.on_illegal(u.message_id, u.part, p.st, u.to);
        return;
      case transition::applied:
        break;
    }
    const state from = p.st;
    p.st = u.to;
    switch (u.to) {
      case state::submitting:
        p.submitted_us = u.at_us;
        ++p.attempts;
        if (!u.smsc.empty()) p.smsc = u.smsc;
        break;
      case state::accepted:
        p.resp_us = u.at_us;
        p.command_status = u.command_status;
        p.smsc_message_id = u.smsc_message_id;
        if (!p.smsc_message_id.empty())
          batch.Put(cfs[cf_smsc_ids],
                    smsc_index_key(p.smsc, resp_id_key(p.smsc_message_id, u.resp_format)),
                    part_value(u.message_id, u.part));
        break;
      case state::retrying:
      case state::failed:
        if (from == state::submitting) {
          p.resp_us = u.at_us;
          p.command_status = u.command_status;
        }
        break;
      default:
        if (from == state::accepted || from == state::submitting || from == state::unknown) {
          p.receipt_us = u.at_us;
          p.error_code = u.error_code;
        }
        break;
    }
    mark_dirty(r->id);
  }

  // Records touched in the current batch: each is written once per batch
  // however many of its events the batch holds.
  std::vector<std::uint64_t> dirty;

  void mark_dirty(std::uint64_t id) { dirty.push_back(id); }

  void write_dirty(rocksdb::WriteBatch& batch) {
    std::sort(dirty.begin(), dirty.end());
    dirty.erase(std::unique(dirty.begin(), dirty.end()), dirty.end());
    for (std::uint64_t id : dirty) write_record(open_records.at(id), batch);
  }

  // Finished messages leave the writer's memory (after their batch is
  // written; only the batch's records can have finished).
  void evict_finished() {
    for (std::uint64_t id : dirty) {
      auto it = open_records.find(id);
      if (it != open_records.end() && !in_flight(it->second.record)) open_records.erase(it);
    }
    dirty.clear();
  }

  static bool in_flight(const message_record& r) noexcept {
    for (const auto& p : r.parts)
      if (!is_terminal(p.st)) return true;
    return false;
  }

  void write_record(cached& c, rocksdb::WriteBatch& batch) {
    message_record& r = c.record;
    std::array<state, 255> parts;
    const std::size_t n = std::min(r.parts.size(), parts.size());
    for (std::size_t i = 0; i < n; ++i) parts[i] = r.parts[i].st;
    r.st = derive_message_state(std::span(parts.data(), n));
    encode_record(r, value_);
    const std::string key = id_key(r.id);
    batch.Put(cfs[cf_messages], key, value_);
    // A message with a part in flight is open; unknown parts do not keep
    // it open (recovery has nothing to do for them). The index is written
    // only when that changes.
    const bool open = in_flight(r);
    if (open && !c.indexed_open) batch.Put(cfs[cf_open], key, rocksdb::Slice());
    if (!open && c.indexed_open) batch.Delete(cfs[cf_open], key);
    c.indexed_open = open;
  }

  std::string value_;  // encoding buffer, writer thread only

  void run() {
    std::vector<event> events(1024);
    while (true) {
      const std::size_t n = queue.wait_dequeue_bulk_timed(events.begin(), events.size(),
                                                          std::chrono::milliseconds(5));
      if (n == 0) {
        if (closing && backlog.load() == 0) break;
        sync_if_due();
        continue;
      }
      rocksdb::WriteBatch batch;
      for (std::size_t i = 0; i < n; ++i) {
        event& e = events[i];
        if (e.is_put) {
          // A new message, or one replaced whole: its open entry may or
          // may not exist, so write it when it is open.
          const std::uint64_t id = e.record.id;
          auto [it, _] = open_records.insert_or_assign(id, cached{std::move(e.record), false});
          mark_dirty(id);
          std::uint64_t seen = self.max_id_.load();
          while (it->first > seen && !self.max_id_.compare_exchange_weak(seen, it->first)) {
          }
        } else {
          apply(e.update, batch);
        }
      }
      write_dirty(batch);
      rocksdb::WriteOptions wo;
      wo.sync = options.sync == sync_policy::always;
      // The events are only acknowledged once written: retry a failing
      // write (disk full, I/O error) rather than drop it.
      while (!db->Write(wo, &batch).ok()) {
        if (closing && backlog.load() == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      unsynced = true;
      sync_if_due();
      evict_finished();
      for (std::size_t i = 0; i < n; ++i) written.push(events[i].ticket);
      advance_durable();
      self.counters_.events.fetch_add(n, std::memory_order_relaxed);
      self.counters_.batches.fetch_add(1, std::memory_order_relaxed);
      backlog.fetch_sub(n, std::memory_order_relaxed);
    }
  }

  // sync::interval: fsync the WAL when something was written since the
  // last fsync and the interval has passed (checked after each batch and on
  // the idle wake-up every 5 ms, so nothing waits much longer than the
  // interval). An idle log makes no syscalls.
  void sync_if_due() {
    if (options.sync != sync_policy::interval || !unsynced) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sync < options.sync_interval) return;
    db->SyncWAL();
    last_sync = now;
    unsynced = false;
  }

  // Tickets are taken before enqueueing, so they can be written out of
  // order across producers: durable is the highest ticket with every
  // smaller one written.
  void advance_durable() {
    std::uint64_t d = self.durable_.load(std::memory_order_relaxed);
    while (!written.empty() && written.top() <= d + 1) {
      d = std::max(d, written.top());
      written.pop();
    }
    {
      std::lock_guard lock(durable_mutex);
      self.durable_.store(d, std::memory_order_release);
    }
    durable_cv.notify_all();
    if (options.on_durable) options.on_durable(d);
  }
};

message_log::message_log(const log_options& options)
    : impl_(std::make_unique<impl>(*this, options)) {}

message_log::~message_log() = default;

std::uint64_t message_log::append(message_record r, std::error_code& ec) {
  impl::event e;
  e.is_put = true;
  e.record = std::move(r);
  return impl_->enqueue(std::move(e), ec);
}

std::uint64_t message_log::update(part_update u, std::error_code& ec) {
  impl::event e;
  e.update = std::move(u);
  return impl_->enqueue(std::move(e), ec);
}

void message_log::wait_durable(std::uint64_t ticket) {
  std::unique_lock lock(impl_->durable_mutex);
  impl_->durable_cv.wait(lock, [&] { return durable_.load() >= ticket || impl_->closing; });
}

std::optional<message_record> message_log::get(std::uint64_t id, std::error_code& ec) const {
  std::string value;
  const rocksdb::Status st =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->cfs[cf_messages], id_key(id), &value);
  if (st.IsNotFound()) {
    ec = storage_errc::not_found;
    return std::nullopt;
  }
  if (!st.ok()) {
    ec = storage_errc::io_error;
    return std::nullopt;
  }
  message_record r;
  if ((ec = decode_record(value, r))) return std::nullopt;
  return r;
}

std::optional<part_ref> message_log::find_part(std::string_view smsc, std::string_view receipt_id,
                                               id_format receipt_format,
                                               std::error_code& ec) const {
  ec.clear();
  for (const std::string& k : receipt_id_keys(receipt_id, receipt_format)) {
    std::string value;
    const rocksdb::Status st = impl_->db->Get(rocksdb::ReadOptions(), impl_->cfs[cf_smsc_ids],
                                              smsc_index_key(smsc, k), &value);
    if (st.IsNotFound()) continue;
    if (!st.ok() || value.size() != 10) {
      ec = st.ok() ? storage_errc::corrupt_record : storage_errc::io_error;
      return std::nullopt;
    }
    return part_ref{read_u64(value),
                    static_cast<std::uint16_t>((static_cast<std::uint8_t>(value[8]) << 8) |
                                               static_cast<std::uint8_t>(value[9]))};
  }
  return std::nullopt;
}

void message_log::compact() {
  rocksdb::CompactRangeOptions o;
  for (auto* h : impl_->cfs) impl_->db->CompactRange(o, h, nullptr, nullptr);
}

std::vector<std::uint64_t> message_log::open_message_ids(std::error_code& ec) const {
  std::vector<std::uint64_t> ids;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->cfs[cf_open]));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    if (it->key().size() == 8) ids.push_back(read_u64(it->key().ToStringView()));
  ec = it->status().ok() ? std::error_code() : make_error_code(storage_errc::io_error);
  return ids;
}

}  // namespace storage
