#include "storage/message_log.hpp"

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <bit>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <mutex>
#include <queue>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "logging/thread_name.hpp"
#include "storage/detail/log_access.hpp"
#include "storage/detail/schema.hpp"
#include "storage/detail/varint.hpp"

namespace storage {

namespace {

using namespace detail;

// Heterogeneous lookup, so that the writer finds a campaign's statistics
// by the record's string without building a key per event.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
template <class V>
using string_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

std::int64_t system_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool in_flight(const message_record& r) noexcept {
  for (const auto& p : r.parts)
    if (!is_terminal(p.st)) return true;
  return false;
}

// The last time anything happened to a message: retention measures age
// from it, so a message settled by a late receipt is kept as long as a
// fresh one.
std::int64_t last_activity(const message_record& r) noexcept {
  std::int64_t t = r.queued_us;
  for (const auto& p : r.parts) t = std::max({t, p.submitted_us, p.resp_us, p.receipt_us});
  return t;
}

bool is_receipt_cause(cause c) noexcept {
  return c == cause::receipt || c == cause::receipt_fallback || c == cause::parked_receipt;
}

std::chrono::microseconds since(std::int64_t from_us, std::int64_t to_us) {
  return std::chrono::microseconds(to_us - from_us);
}

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

// A set of ids above a watermark, in a sliding window: one bit per id
// from base (the watermark's word), for up to max_words x 64 ids. The
// engine numbers messages one by one, so the ids of the last seconds are
// dense.
class id_window {
 public:
  static constexpr std::uint64_t max_words = 1 << 16;  // 4 Mi ids, 512 KiB at most

  // Empty, holding ids above `watermark` from now on.
  void reset(std::uint64_t watermark) {
    words_.clear();
    watermark_ = watermark;
    base_ = watermark & ~std::uint64_t{63};
  }
  std::uint64_t watermark() const noexcept { return watermark_; }
  // False (nothing done) for an id at or below the watermark or beyond
  // the window's reach.
  bool insert(std::uint64_t id) {
    if (id <= watermark_) return false;
    const std::uint64_t w = (id - base_) >> 6;
    if (w >= max_words) return false;
    if (w >= words_.size()) words_.resize(w + 1);
    words_[w] |= bit(id);
    return true;
  }
  void erase(std::uint64_t id) {
    if (id < base_) return;
    const std::uint64_t w = (id - base_) >> 6;
    if (w < words_.size()) words_[w] &= ~bit(id);
  }
  bool contains(std::uint64_t id) const {
    if (id < base_) return false;
    const std::uint64_t w = (id - base_) >> 6;
    return w < words_.size() && (words_[w] & bit(id)) != 0;
  }
  // Calls f(id) for each id in the set up to `last`, ascending, and
  // removes them: `last` becomes the watermark.
  template <class F>
  void take_through(std::uint64_t last, F&& f) {
    watermark_ = std::max(watermark_, last);
    while (!words_.empty() && last >= base_) {
      std::uint64_t& front = words_.front();
      if (last - base_ < 63) {  // the word reaches past `last`: its lower bits only
        const std::uint64_t mask = (bit(last) << 1) - 1;
        for (std::uint64_t take = front & mask; take != 0; take &= take - 1)
          f(base_ + static_cast<std::uint64_t>(std::countr_zero(take)));
        front &= ~mask;
        return;
      }
      for (std::uint64_t take = front; take != 0; take &= take - 1)
        f(base_ + static_cast<std::uint64_t>(std::countr_zero(take)));
      words_.pop_front();
      base_ += 64;
    }
    if (words_.empty() && last >= base_) base_ = last & ~std::uint64_t{63};
  }

 private:
  static std::uint64_t bit(std::uint64_t id) { return std::uint64_t{1} << (id & 63); }
  std::uint64_t watermark_ = 0;
  std::uint64_t base_ = 0;
  std::deque<std::uint64_t> words_;
};

}  // namespace

struct message_log::impl {
  using event = log_event;

  message_log& self;
  log_options options;
  std::unique_ptr<rocksdb::DB> db;
  db_handles handles;
  std::vector<rocksdb::ColumnFamilyHandle*> cf_list;
  moodycamel::BlockingConcurrentQueue<event> queue;
  // The urgent lane: taken before `queue` at each batch; a `wake` event in
  // `queue` rouses a writer that waits on it.
  moodycamel::ConcurrentQueue<event> urgent_queue;
  std::atomic<std::size_t> backlog{0};
  std::atomic<std::size_t> urgent_backlog{0};
  std::atomic<std::uint64_t> next_ticket{0};
  std::atomic<std::uint64_t> next_urgent{0};
  std::atomic<bool> closing{false};

  // Idempotency keys appended but not yet written, so that a second append
  // with the same key is refused before the first reaches the database.
  // Producers insert, the writer erases once written.
  mutable std::mutex pending_keys_mutex;
  std::unordered_map<std::string, std::uint64_t> pending_keys;

  // Ids of records appended through the urgent lane and not yet applied.
  // Their message can be handed on before the record is written (a
  // notification goes to the dispatcher at once), so an update for it can
  // reach the writer first: the lanes keep each producer's order, not the
  // order between producers. Such an update waits in `early` for its
  // record. Producers insert, the writer erases.
  std::mutex awaited_mutex;
  std::unordered_set<std::uint64_t> awaited;

  // ---- Writer thread only. ----
  struct cached {
    message_record record;
    bool indexed_open = false;           // the open column family holds it now
    std::optional<state> written_state;  // the message state last written (counted)
  };
  std::unordered_map<std::uint64_t, cached> records;
  std::vector<std::uint64_t> dirty;  // records touched in the current batch
  std::atomic<std::size_t> cached_records{0};  // records.size(), for the metrics
  std::vector<std::pair<std::string, std::uint64_t>> written_keys;  // idempotency keys of the batch
  // Updates that came before their urgent record, by message id. Their
  // tickets count as written only once they are applied (with the record,
  // in the same batch): `released` holds those of the current batch.
  std::unordered_map<std::uint64_t, std::vector<event>> early;
  std::vector<std::uint64_t> released;

  // The open index. Every open message with an id at or below the
  // watermark (deferred.watermark()) has its entry; above it, an open
  // message is in `deferred` until the watermark passes it (or, beyond the
  // window's reach, was indexed at once). The watermark follows
  // max_written_id open_index_delay behind, through marks taken every
  // 50 ms.
  id_window deferred;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> open_marks;
  std::chrono::steady_clock::time_point last_open_mark{};

  struct stats_entry {
    stats s;
    bool dirty = false;
  };
  string_map<stats_entry> campaign_stats, smsc_stats;
  // Entries changed in the current batch (node pointers are stable).
  std::vector<std::pair<char, std::pair<const std::string, stats_entry>*>> dirty_stats;

  struct cursor_entry {
    cursor_value value;
    bool dirty = false;
  };
  string_map<cursor_entry> cursors;
  std::vector<std::pair<const std::string*, cursor_entry*>> dirty_cursors;

  std::uint64_t max_written_id = 0;  // a put at or below it may replace a record
  std::uint64_t retention_floor = 0; // every id below it was examined and removed
  bool retention_more = false;       // the last automatic step stopped at its limit
  std::chrono::steady_clock::time_point last_retention = std::chrono::steady_clock::now();
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> written;
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> written_urgent;  // without the bit
  // sync::interval: the fsync runs on a thread of its own, so that the
  // writer goes on writing batches while the disk flushes the WAL (under a
  // campaign's load an fdatasync takes milliseconds, as RocksDB's flushes
  // write to the same disk). `unsynced`: batches written since the last
  // fsync began.
  std::atomic<bool> unsynced{false};
  std::mutex sync_mutex;
  std::condition_variable sync_cv;
  bool sync_stop = false;  // guarded by sync_mutex
  std::thread syncer;
  std::string value_;     // encoding buffer

  // Guards nothing but the wait in wait_durable().
  std::mutex durable_mutex;
  std::condition_variable durable_cv;

  std::thread writer;

  impl(message_log& s, const log_options& o) : self(s), options(o) {
    if (!options.now_us) options.now_us = system_now_us;
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    db_options.IncreaseParallelism(2);
    // Column families that change rarely (cursors, orphans) would keep old
    // WAL files alive until their memtable flushes: past this much WAL,
    // RocksDB flushes them, which bounds the disk the WAL takes and the
    // time a restart spends replaying it. (Without it, a 10-million
    // message run held 3 GB of WAL.)
    db_options.max_total_wal_size = 256 << 20;
    // All memtables together; the largest is flushed beyond it. This is
    // most of the log's memory: it bounds the daemon's size whatever the
    // campaign's (a 1-million message run otherwise held 400 MB).
    db_options.db_write_buffer_size = options.memtable_bytes;
    // Point lookups (a record by id, a receipt's SMSC id, an idempotency
    // key) dominate: bloom filters let a miss skip the files without the
    // key, and one block cache is shared by all column families.
    const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const char* n : cf_names) {
      rocksdb::ColumnFamilyOptions cf_options;
      cf_options.OptimizeLevelStyleCompaction();
      // OptimizeLevelStyleCompaction allows six 128 MB memtables per
      // column family, and a Get searches each of them: fewer, smaller
      // ones. (No bloom filter in the memtables: every insert paid for it,
      // about a tenth of the writer's time, and lookups were no faster for
      // it: reconcile_bench's receipts for messages accepted before a
      // restart matched at 24k/s with it, 34k/s without.)
      cf_options.write_buffer_size = std::min<std::size_t>(32 << 20, options.memtable_bytes);
      cf_options.max_write_buffer_number = 3;
      cf_options.min_write_buffer_number_to_merge = 1;
      rocksdb::BlockBasedTableOptions table;
      table.block_cache = cache;
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      // Index and filter blocks grow with the log (about 10 bits a key):
      // kept in the block cache they are bounded with it. Partitioned (4 KB
      // pieces under a small top-level index, which stays pinned), so a
      // lookup reads and caches the pieces it needs, not a file's whole
      // filter (hundreds of KB): a small cache serves a large log.
      // (reconcile_bench, receipts for 2 million messages after a restart,
      // 16 MB cache: 6.8k matched/s with whole filters, 23k/s partitioned.)
      table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
      table.partition_filters = true;
      table.cache_index_and_filter_blocks = true;
      table.cache_index_and_filter_blocks_with_high_priority = true;
      table.metadata_cache_options.top_level_index_pinning = rocksdb::PinningTier::kAll;
      table.metadata_cache_options.partition_pinning = rocksdb::PinningTier::kNone;
      table.optimize_filters_for_memory = true;
      cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
      // Records and the open index are keyed by id (8 octets, big-endian)
      // and a batch writes its records in ascending id order: a memtable
      // insert then starts where the previous one of the same 65,536 ids
      // ended instead of at the skip list's head.
      if (std::string_view(n) == cf_names[cf_messages] || std::string_view(n) == cf_names[cf_open])
        cf_options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(6));
      descriptors.emplace_back(n, cf_options);
    }
    std::filesystem::create_directories(o.dir);
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status st =
        rocksdb::DB::Open(db_options, o.dir.string(), descriptors, &cf_list, &raw);
    if (!st.ok())
      throw std::system_error(make_error_code(storage_errc::io_error),
                              "opening message log " + o.dir.string() + ": " + st.ToString());
    db.reset(raw);
    handles.db = raw;
    for (std::size_t i = 0; i < cf_count; ++i) handles.cfs[i] = cf_list[i];
    // Continue numbering after the highest stored id.
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), handles.cfs[cf_messages]));
    it->SeekToLast();
    if (it->Valid() && it->key().size() == 8) self.max_id_ = read_u64_be(it->key().ToStringView());
    max_written_id = self.max_id_;
    index_open_above_watermark();
    load_stats_and_cursors();
    writer = std::thread([this] { run(); });
    logging::name_thread(writer, "log-writer");
    if (options.sync == sync_policy::interval) {
      syncer = std::thread([this] { sync_loop(); });
      logging::name_thread(syncer, "log-sync");
    }
  }

  ~impl() {
    closing = true;
    writer.join();
    if (syncer.joinable()) {
      {
        std::lock_guard lock(sync_mutex);
        sync_stop = true;
      }
      sync_cv.notify_one();
      syncer.join();
    }
    if (options.sync != sync_policy::never) db->SyncWAL();
    for (auto* h : cf_list) db->DestroyColumnFamilyHandle(h);
    db->Close();
  }

  // At open: the messages above the stored watermark that are open get
  // their entries (the last writer deferred them, or a crash cut it
  // short), and the watermark moves to the last id. A database without
  // one (new, or written before the index was deferred) has every open
  // message indexed.
  void index_open_above_watermark() {
    rocksdb::Status st;
    const std::optional<std::uint64_t> stored = stored_open_watermark(rocksdb::ReadOptions(), st);
    if (!st.ok())
      throw std::system_error(make_error_code(storage_errc::io_error),
                              "message log open index: " + st.ToString());
    rocksdb::WriteBatch batch;
    if (stored)
      for_open_records_above(*stored, rocksdb::ReadOptions(), [&](std::uint64_t id) {
        batch.Put(handles.cfs[cf_open], id_key(id), rocksdb::Slice());
      });
    put_open_watermark(max_written_id, batch);
    deferred.reset(max_written_id);
    rocksdb::WriteOptions wo;
    wo.sync = options.sync != sync_policy::never;
    if (const rocksdb::Status w = db->Write(wo, &batch); !w.ok())
      throw std::system_error(make_error_code(storage_errc::io_error),
                              "message log open index: " + w.ToString());
  }

  void put_open_watermark(std::uint64_t w, rocksdb::WriteBatch& batch) {
    std::string v;
    put_u64_be(v, w);
    batch.Put(handles.cfs[cf_open], slice(open_watermark_key), v);
  }

  // The watermark the database holds; none (status ok) in a database
  // written before the index was deferred.
  std::optional<std::uint64_t> stored_open_watermark(const rocksdb::ReadOptions& ro,
                                                     rocksdb::Status& st) const {
    std::string value;
    st = db->Get(ro, handles.cfs[cf_open], slice(open_watermark_key), &value);
    if (st.IsNotFound()) st = rocksdb::Status::OK();
    if (!st.ok() || value.size() != 8) return std::nullopt;
    return read_u64_be(value);
  }

  // Calls f(id) for each record above `watermark` with a part in flight.
  template <class F>
  rocksdb::Status for_open_records_above(std::uint64_t watermark, const rocksdb::ReadOptions& ro, F&& f) const {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, handles.cfs[cf_messages]));
    for (it->Seek(id_key(watermark + 1)); it->Valid(); it->Next()) {
      if (it->key().size() != 8) continue;
      message_record r;
      if (!decode_record(it->value().ToStringView(), r) && in_flight(r))
        f(read_u64_be(it->key().ToStringView()));
    }
    return it->status();
  }

  void load_stats_and_cursors() {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), handles.cfs[cf_stats]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view k = it->key().ToStringView();
      stats s;
      if (k.empty() || !decode_stats(it->value().ToStringView(), s))
        throw std::system_error(make_error_code(storage_errc::corrupt_record),
                                "message log statistics");
      auto& map = k[0] == stats_campaign ? campaign_stats : smsc_stats;
      map[std::string(k.substr(1))].s = std::move(s);
    }
    it.reset(db->NewIterator(rocksdb::ReadOptions(), handles.cfs[cf_campaigns]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      cursor_value c;
      if (!decode_cursor(it->value().ToStringView(), c))
        throw std::system_error(make_error_code(storage_errc::corrupt_record),
                                "message log campaign cursor");
      cursors[it->key().ToString()].value = std::move(c);
    }
  }

  // Takes room for n events in the backlog and their tickets: returns the
  // first ticket, or 0 with ec set (closed, backlog_full) and nothing taken.
  // (Urgent: each lane has its own limit and numbering; the first ticket
  // has urgent_ticket_bit set.)
  std::uint64_t reserve(std::size_t n, std::error_code& ec, urgency lane = urgency::normal) {
    if (closing) {
      ec = storage_errc::closed;
      return 0;
    }
    const bool urgent = lane == urgency::urgent;
    auto& count = urgent ? urgent_backlog : backlog;
    // An empty backlog takes any bulk, so that one larger than the limit
    // can still go through.
    const std::size_t queued = count.load(std::memory_order_relaxed);
    if (options.max_backlog == 0 || (queued != 0 && queued + n > options.max_backlog)) {
      ec = storage_errc::backlog_full;
      return 0;
    }
    count.fetch_add(n, std::memory_order_relaxed);
    ec.clear();
    if (urgent) return (next_urgent.fetch_add(n, std::memory_order_relaxed) + 1) | urgent_ticket_bit;
    return next_ticket.fetch_add(n, std::memory_order_relaxed) + 1;
  }

  // Queues events for which reserve() gave `first` (in its lane).
  std::uint64_t push(std::span<event> events, std::uint64_t first) {
    const std::size_t n = events.size();
    for (std::size_t i = 0; i < n; ++i) events[i].ticket = first + i;
    if (first & urgent_ticket_bit) {
      urgent_queue.enqueue_bulk(std::make_move_iterator(events.begin()), n);
      event wake;
      wake.kind = event_kind::wake;
      queue.enqueue(std::move(wake));
    } else if (n == 1) {
      queue.enqueue(std::move(events[0]));
    } else {
      queue.enqueue_bulk(std::make_move_iterator(events.begin()), n);
    }
    return first + n - 1;
  }

  std::uint64_t enqueue(std::span<event> events, std::error_code& ec) {
    if (events.empty()) {
      ec.clear();
      return 0;
    }
    const std::uint64_t first = reserve(events.size(), ec);
    return ec ? 0 : push(events, first);
  }

  template <class Record>
  std::uint64_t append(Record&& r, std::error_code& ec, urgency lane) {
    if (r.idempotency_key.empty()) return append_reserved(std::forward<Record>(r), ec, lane);
    // Claimed under the lock, so that two appends with one key cannot both
    // pass; the database is asked only when no queued append has the key.
    std::lock_guard lock(pending_keys_mutex);
    if (auto it = pending_keys.find(r.idempotency_key); it != pending_keys.end()) {
      if (it->second != r.id) {
        ec = storage_errc::duplicate_key;
        return 0;
      }
    } else {
      const auto stored = get_idempotent(handles, r.idempotency_key, ec);
      if (ec) return 0;
      if (stored && *stored != r.id) {
        ec = storage_errc::duplicate_key;
        return 0;
      }
    }
    std::string key = r.idempotency_key;
    const std::uint64_t id = r.id;
    const std::uint64_t ticket = append_reserved(std::forward<Record>(r), ec, lane);
    if (!ec) pending_keys[std::move(key)] = id;
    return ticket;
  }

  template <class Record>
  std::uint64_t append_reserved(Record&& r, std::error_code& ec, urgency lane) {
    const std::uint64_t first = reserve(1, ec, lane);
    if (ec) return 0;
    if (lane == urgency::urgent) {
      std::lock_guard lock(awaited_mutex);
      awaited.insert(r.id);
    }
    event e;
    e.kind = event_kind::put;
    e.record = std::forward<Record>(r);
    return push(std::span(&e, 1), first);
  }

  template <class Update>
  std::uint64_t update(Update&& u, std::error_code& ec, urgency lane) {
    const std::uint64_t first = reserve(1, ec, lane);
    if (ec) return 0;
    event e;
    e.update = std::forward<Update>(u);
    return push(std::span(&e, 1), first);
  }

  // ---- Statistics (writer thread). ----

  stats& stats_for(char kind, std::string_view name) {
    auto& map = kind == stats_campaign ? campaign_stats : smsc_stats;
    auto it = map.find(name);
    if (it == map.end()) it = map.emplace(std::string(name), stats_entry{}).first;
    if (!it->second.dirty) {
      it->second.dirty = true;
      dirty_stats.emplace_back(kind, &*it);
    }
    return it->second.s;
  }

  void count_part(const part_record& p, std::int64_t sign) {
    if (!p.smsc.empty()) stats_for(stats_smsc, p.smsc).counts[static_cast<std::size_t>(p.st)] += sign;
  }

  void flush_stats(rocksdb::WriteBatch& batch) {
    for (auto& [kind, entry] : dirty_stats) {
      encode_stats(entry->second.s, value_);
      batch.Put(handles.cfs[cf_stats], stats_key(kind, entry->first), value_);
      entry->second.dirty = false;
    }
    dirty_stats.clear();
  }

  // ---- Indexes (writer thread). ----

  // Every index entry a stored record has (a new record, or one that
  // replaces another).
  void index(const message_record& r, rocksdb::WriteBatch& batch) {
    const std::string address = address_key(r.recipient);
    if (!address.empty())
      batch.Put(handles.cfs[cf_recipients], recipient_key(address, r.queued_us, r.id),
                rocksdb::Slice());
    if (!r.idempotency_key.empty()) {
      batch.Put(handles.cfs[cf_idempotency], r.idempotency_key, id_key(r.id));
      written_keys.emplace_back(r.idempotency_key, r.id);
    }
    if (r.deliver_by_us && r.st != state::delivered)
      batch.Put(handles.cfs[cf_deadlines], deadline_key(r.deliver_by_us, r.id), rocksdb::Slice());
    for (std::size_t i = 0; i < r.parts.size(); ++i) {
      const part_record& p = r.parts[i];
      if (const std::string k = part_smsc_key(p); !k.empty())
        batch.Put(handles.cfs[cf_smsc_ids], k, part_value(r.id, static_cast<std::uint16_t>(i)));
      if (in_doubt(p)) add_in_doubt(r, static_cast<std::uint16_t>(i), batch);
      count_part(p, +1);
    }
  }

  // Removes what index() wrote. Entries shared by key with a newer message
  // (an SMSC that reuses ids, an idempotency key used again after
  // retention) are left to it. `uncount`: take its parts out of the SMSC
  // counts too (a replaced record; a removed one stays counted).
  void unindex(const message_record& r, bool uncount, rocksdb::WriteBatch& batch) {
    const std::string address = address_key(r.recipient);
    if (!address.empty())
      batch.Delete(handles.cfs[cf_recipients], recipient_key(address, r.queued_us, r.id));
    if (!r.idempotency_key.empty() && points_to(cf_idempotency, r.idempotency_key, id_key(r.id)))
      batch.Delete(handles.cfs[cf_idempotency], r.idempotency_key);
    if (r.deliver_by_us) batch.Delete(handles.cfs[cf_deadlines], deadline_key(r.deliver_by_us, r.id));
    for (std::size_t i = 0; i < r.parts.size(); ++i) {
      const part_record& p = r.parts[i];
      const std::string k = part_smsc_key(p);
      if (!k.empty() &&
          points_to(cf_smsc_ids, k, part_value(r.id, static_cast<std::uint16_t>(i))))
        batch.Delete(handles.cfs[cf_smsc_ids], k);
      if (in_doubt(p)) remove_in_doubt(r, static_cast<std::uint16_t>(i), batch);
      if (uncount) count_part(p, -1);
    }
  }

  bool points_to(cf family, std::string_view key, std::string_view expected) {
    std::string v;
    return db->Get(rocksdb::ReadOptions(), handles.cfs[family], slice(key), &v).ok() &&
           v == expected;
  }

  void add_in_doubt(const message_record& r, std::uint16_t part, rocksdb::WriteBatch& batch) {
    const part_record& p = r.parts[part];
    batch.Put(handles.cfs[cf_in_doubt],
              in_doubt_key(p.smsc, address_key(r.recipient), p.submitted_us, r.id, part),
              rocksdb::Slice());
    ++stats_for(stats_smsc, p.smsc).in_doubt;
    self.counters_.in_doubt_added.fetch_add(1, std::memory_order_relaxed);
  }

  void remove_in_doubt(const message_record& r, std::uint16_t part, rocksdb::WriteBatch& batch) {
    const part_record& p = r.parts[part];
    batch.Delete(handles.cfs[cf_in_doubt],
                 in_doubt_key(p.smsc, address_key(r.recipient), p.submitted_us, r.id, part));
    --stats_for(stats_smsc, p.smsc).in_doubt;
  }

  // ---- Records (writer thread). ----

  // The record an event applies to: one touched earlier (cached), else the
  // stored one; null if there is none.
  cached* record_for(std::uint64_t id) {
    if (auto it = records.find(id); it != records.end()) return &it->second;
    std::string value;
    if (!db->Get(rocksdb::ReadOptions(), handles.cfs[cf_messages], id_key(id), &value).ok())
      return nullptr;
    message_record r;
    if (decode_record(value, r)) return nullptr;
    return &records.emplace(id, loaded(std::move(r))).first->second;
  }

  // A record read back from the database, to cache.
  cached loaded(message_record&& r) {
    self.counters_.record_reads.fetch_add(1, std::memory_order_relaxed);
    const bool indexed = in_flight(r) && !deferred.contains(r.id);
    const state st = r.st;
    return cached{std::move(r), indexed, st};
  }

  // Reads the records the drained updates need and the cache lacks in one
  // MultiGet, sorted by key, before applying them: receipts for messages
  // accepted long ago (far beyond the cache) are the writer's main cost,
  // and one sorted batch of lookups is cheaper than as many single Gets.
  void prefetch(std::span<const event> events) {
    prefetch_ids.clear();
    for (const event& e : events)
      if (e.kind == event_kind::update && !records.contains(e.update.message_id))
        prefetch_ids.push_back(e.update.message_id);
    if (prefetch_ids.size() < 2) return;  // record_for() does one as well
    std::sort(prefetch_ids.begin(), prefetch_ids.end());
    prefetch_ids.erase(std::unique(prefetch_ids.begin(), prefetch_ids.end()), prefetch_ids.end());
    const std::size_t n = prefetch_ids.size();
    prefetch_keys.resize(n);
    std::vector<rocksdb::Slice> keys(n);
    for (std::size_t i = 0; i < n; ++i) {
      prefetch_keys[i] = id_key(prefetch_ids[i]);
      keys[i] = prefetch_keys[i];
    }
    std::vector<rocksdb::PinnableSlice> values(n);
    std::vector<rocksdb::Status> statuses(n);
    db->MultiGet(rocksdb::ReadOptions(), handles.cfs[cf_messages], n, keys.data(), values.data(),
                 statuses.data(), /*sorted_input=*/true);
    for (std::size_t i = 0; i < n; ++i) {
      if (!statuses[i].ok()) continue;  // record_for() tells a missing one apart
      message_record r;
      if (decode_record(values[i].ToStringView(), r)) continue;
      records.emplace(prefetch_ids[i], loaded(std::move(r)));
    }
  }
  std::vector<std::uint64_t> prefetch_ids;
  std::vector<std::string> prefetch_keys;

  void put(message_record& r, rocksdb::WriteBatch& batch) {
    const std::uint64_t id = r.id;
    // Ids above every id written are new; only an id at or below may
    // replace a record, whose index entries and counts then go first.
    cached* c = id <= max_written_id ? record_for(id) : nullptr;
    const bool replaces = c != nullptr;
    if (replaces) {
      unindex(c->record, true, batch);
      c->record = std::move(r);
    } else {
      c = &records.insert_or_assign(id, cached{std::move(r), false, std::nullopt}).first->second;
    }
    index(c->record, batch);
    if (!replaces) advance_cursor(c->record);
    mark_dirty(id);
    max_written_id = std::max(max_written_id, id);
    std::uint64_t seen = self.max_id_.load();
    while (id > seen && !self.max_id_.compare_exchange_weak(seen, id)) {
    }
  }

  // Applies an update; false (nothing done) when its record is an urgent
  // one still queued: the caller keeps the update until the record comes.
  bool apply(const part_update& u, rocksdb::WriteBatch& batch) {
    cached* c = record_for(u.message_id);
    if (c == nullptr && is_awaited(u.message_id)) return false;
    if (c == nullptr || u.part >= c->record.parts.size()) {
      self.counters_.unknown_messages.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    message_record& r = c->record;
    part_record& p = r.parts[u.part];
    switch (check_transition(p.st, u.to)) {
      case transition::unchanged:
        self.counters_.duplicate_events.fetch_add(1, std::memory_order_relaxed);
        return true;
      case transition::illegal:
        self.counters_.illegal_transitions.fetch_add(1, std::memory_order_relaxed);
        if (options.on_illegal) options.on_illegal(u.message_id, u.part, p.st, u.to);
        return true;
      case transition::applied:
        break;
    }
    const state from = p.st;
    const bool was_in_doubt = in_doubt(p);
    if (was_in_doubt) remove_in_doubt(r, u.part, batch);
    count_part(p, -1);
    p.st = u.to;
    p.settled_by = u.cause;
    switch (u.to) {
      case state::submitting:
        // A new attempt: what the last one got back no longer applies.
        p.submitted_us = u.at_us;
        p.resp_us = p.receipt_us = 0;
        p.command_status = p.error_code = 0;
        ++p.attempts;
        if (!u.smsc.empty()) p.smsc = u.smsc;
        break;
      case state::accepted:
        p.resp_us = u.at_us;
        p.command_status = u.command_status;
        p.smsc_message_id = u.smsc_message_id;
        p.resp_format = u.resp_format;
        if (const std::string k = part_smsc_key(p); !k.empty())
          batch.Put(handles.cfs[cf_smsc_ids], k, part_value(u.message_id, u.part));
        record_latency(r, p, &stats::submit_to_resp, p.resp_us);
        break;
      case state::retrying:
      case state::failed:
        if (from == state::submitting && u.cause != cause::recovery) {
          p.resp_us = u.at_us;
          p.command_status = u.command_status;
          record_latency(r, p, &stats::submit_to_resp, p.resp_us);
        }
        break;
      default:
        if ((from == state::accepted || from == state::submitting || from == state::unknown) &&
            (is_receipt_cause(u.cause) || (u.cause == cause::engine && u.to != state::unknown))) {
          p.receipt_us = u.at_us;
          p.error_code = u.error_code;
          record_latency(r, p, &stats::submit_to_receipt, p.receipt_us);
        }
        break;
    }
    count_part(p, +1);
    if (in_doubt(p) && !was_in_doubt) add_in_doubt(r, u.part, batch);
    mark_dirty(r.id);
    return true;
  }

  void record_latency(const message_record& r, const part_record& p,
                      latency_histogram stats::*which, std::int64_t at_us) {
    if (p.submitted_us == 0 || at_us == 0) return;
    const auto d = since(p.submitted_us, at_us);
    (stats_for(stats_campaign, r.campaign).*which).add(d);
    if (!p.smsc.empty()) (stats_for(stats_smsc, p.smsc).*which).add(d);
  }

  // Campaign rows arrive in order from one reader, but may land in
  // different batches across producers: the cursor moves over the
  // contiguous prefix only, and rows beyond a gap wait in `above`.
  void advance_cursor(const message_record& r) {
    if (r.origin != origin::campaign || r.row == 0) return;
    auto it = cursors.find(r.campaign);
    if (it == cursors.end()) it = cursors.emplace(r.campaign, cursor_entry{}).first;
    cursor_value& c = it->second.value;
    if (r.row <= c.row) return;
    if (r.row == c.row + 1) {
      ++c.row;
      auto a = c.above.begin();
      while (a != c.above.end() && *a == c.row + 1) ++c.row, ++a;
      c.above.erase(c.above.begin(), a);
    } else {
      auto pos = std::lower_bound(c.above.begin(), c.above.end(), r.row);
      if (pos != c.above.end() && *pos == r.row) return;
      c.above.insert(pos, r.row);
    }
    if (!it->second.dirty) {
      it->second.dirty = true;
      dirty_cursors.emplace_back(&it->first, &it->second);
    }
  }

  void mark_dirty(std::uint64_t id) { dirty.push_back(id); }

  void write_dirty(rocksdb::WriteBatch& batch) {
    std::sort(dirty.begin(), dirty.end());
    dirty.erase(std::unique(dirty.begin(), dirty.end()), dirty.end());
    for (std::uint64_t id : dirty) write_record(records.at(id), batch);
    flush_stats(batch);
    for (auto& [name, entry] : dirty_cursors) {
      encode_cursor(entry->value, value_);
      batch.Put(handles.cfs[cf_campaigns], *name, value_);
      entry->dirty = false;
    }
    dirty_cursors.clear();
  }

  // A message's state became final (not unknown), from `before` (none: a
  // new record). Delivered, it leaves the deadline list; the webhooks that
  // want its event get an outbox entry in this batch, once per event (a
  // failure refined by a late receipt into another failure is not told
  // twice).
  void settled(const message_record& r, std::optional<state> before, rocksdb::WriteBatch& batch) {
    const bool delivered = r.st == state::delivered;
    if (delivered && r.deliver_by_us)
      batch.Delete(handles.cfs[cf_deadlines], deadline_key(r.deliver_by_us, r.id));
    if (!options.message_event_targets) return;
    if (!delivered && before && is_terminal(*before) && *before != state::unknown &&
        *before != state::delivered)
      return;
    const message_event ev = delivered ? message_event::delivered : message_event::failed;
    event_targets_.clear();
    options.message_event_targets(ev, r, event_targets_);
    if (event_targets_.empty()) return;
    const std::int64_t at = last_activity(r);
    for (auto& w : event_targets_) {
      const outbox_entry o = message_outbox_entry(ev, r, std::move(w), at);
      encode_outbox(o, value_);
      batch.Put(handles.cfs[cf_replies], outbox_key(o, false), value_);
    }
  }
  std::vector<std::string> event_targets_;

  void write_record(cached& c, rocksdb::WriteBatch& batch) {
    message_record& r = c.record;
    std::array<state, 255> parts;
    const std::size_t n = std::min(r.parts.size(), parts.size());
    for (std::size_t i = 0; i < n; ++i) parts[i] = r.parts[i].st;
    r.st = derive_message_state(std::span(parts.data(), n));
    if (c.written_state != r.st) {
      stats& s = stats_for(stats_campaign, r.campaign);
      if (c.written_state) --s.counts[static_cast<std::size_t>(*c.written_state)];
      ++s.counts[static_cast<std::size_t>(r.st)];
      if (r.st == state::suppressed)
        for (std::size_t i = 0; i < n; ++i)
          if (parts[i] == state::suppressed) {
            ++s.suppressed_by[static_cast<std::size_t>(r.parts[i].settled_by)];
            break;
          }
      const std::optional<state> before = c.written_state;
      c.written_state = r.st;
      if (is_terminal(r.st) && r.st != state::unknown) settled(r, before, batch);
    }
    encode_record(r, value_);
    const std::string key = id_key(r.id);
    batch.Put(handles.cfs[cf_messages], key, value_);
    // A message with a part in flight is open; unknown parts do not keep
    // it open (recovery has nothing to do for them). Above the watermark,
    // its entry waits (index_open_if_due); one final by then never gets
    // one.
    const bool open = in_flight(r);
    if (open && !c.indexed_open) {
      if (!deferred.insert(r.id)) {
        batch.Put(handles.cfs[cf_open], key, rocksdb::Slice());
        c.indexed_open = true;
        self.counters_.open_indexed.fetch_add(1, std::memory_order_relaxed);
      }
    } else if (!open) {
      if (c.indexed_open) {
        batch.Delete(handles.cfs[cf_open], key);
        c.indexed_open = false;
      } else {
        deferred.erase(r.id);
      }
    }
  }

  // Moves the watermark to the highest id written open_index_delay ago,
  // giving the messages it passes that are still open their entries, in
  // a batch of its own with the new watermark.
  void index_open_if_due() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_open_mark >= std::chrono::milliseconds(50)) {
      last_open_mark = now;
      if (open_marks.empty() || open_marks.back().second != max_written_id)
        open_marks.emplace_back(now, max_written_id);
    }
    std::uint64_t through = deferred.watermark();
    while (!open_marks.empty() && now - open_marks.front().first >= options.open_index_delay) {
      through = std::max(through, open_marks.front().second);
      open_marks.pop_front();
    }
    if (through == deferred.watermark()) return;
    rocksdb::WriteBatch batch;
    std::uint64_t indexed = 0;
    deferred.take_through(through, [&](std::uint64_t id) {
      batch.Put(handles.cfs[cf_open], id_key(id), rocksdb::Slice());
      if (const auto it = records.find(id); it != records.end()) it->second.indexed_open = true;
      ++indexed;
    });
    put_open_watermark(through, batch);
    write_batch(batch);
    self.counters_.open_indexed.fetch_add(indexed, std::memory_order_relaxed);
  }

  // After the batch is written: finished messages leave memory (only the
  // batch's records can have finished), and when the cache is over its
  // bound, others go too (every cached record is written by now).
  void trim_cache() {
    for (std::uint64_t id : dirty) {
      auto it = records.find(id);
      if (it != records.end() && !in_flight(it->second.record)) records.erase(it);
    }
    dirty.clear();
    if (records.size() > options.max_cached_records) {
      const std::size_t target = options.max_cached_records - options.max_cached_records / 8;
      for (auto it = records.begin(); it != records.end() && records.size() > target;)
        it = records.erase(it);
    }
    cached_records.store(records.size(), std::memory_order_relaxed);
  }

  void release_written_keys() {
    if (written_keys.empty()) return;
    std::lock_guard lock(pending_keys_mutex);
    for (const auto& [key, id] : written_keys)
      if (auto it = pending_keys.find(key); it != pending_keys.end() && it->second == id)
        pending_keys.erase(it);
    written_keys.clear();
  }

  // ---- Retention (writer thread). ----

  // Examines up to `limit` records from the floor up, removing final ones
  // whose last event is before cutoff_us; stops at the first record queued
  // at or after it (ids grow with time). Sets `more` when it stopped at the
  // limit. Writes its own batch.
  std::uint64_t retention_step(std::int64_t cutoff_us, std::size_t limit, bool& more) {
    rocksdb::WriteBatch batch;
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), handles.cfs[cf_messages]));
    std::uint64_t removed = 0, run_first = 0, run_last = 0;
    bool in_run = false, floor_set = false;
    auto end_run = [&] {
      if (!in_run) return;
      // Consecutive removed ids go as one range tombstone: cheaper to
      // write, and later scans skip the range at once.
      if (run_first == run_last)
        batch.Delete(handles.cfs[cf_messages], id_key(run_first));
      else
        batch.DeleteRange(handles.cfs[cf_messages], id_key(run_first), id_key(run_last + 1));
      in_run = false;
    };
    std::size_t examined = 0;
    more = false;
    std::uint64_t last_id = retention_floor;
    for (it->Seek(id_key(retention_floor)); it->Valid(); it->Next()) {
      if (examined == limit) {
        more = true;
        break;
      }
      ++examined;
      const std::string_view k = it->key().ToStringView();
      if (k.size() != 8) continue;
      const std::uint64_t id = read_u64_be(k);
      last_id = id;
      message_record r;
      const bool readable = !decode_record(it->value().ToStringView(), r);
      if (readable && r.queued_us >= cutoff_us) {
        if (!floor_set) retention_floor = id, floor_set = true;
        break;
      }
      // A cached record may have events in flight; only a stored record
      // with nothing in flight and old enough goes.
      const auto cached_it = records.find(id);
      const bool busy = cached_it != records.end() && in_flight(cached_it->second.record);
      if (readable && !busy && !in_flight(r) && last_activity(r) < cutoff_us) {
        unindex(r, false, batch);
        ++stats_for(stats_campaign, r.campaign).removed;
        if (cached_it != records.end()) records.erase(cached_it);
        if (!in_run) run_first = id, in_run = true;
        run_last = id;
        ++removed;
      } else {
        end_run();
        if (!floor_set) retention_floor = id, floor_set = true;
      }
    }
    end_run();
    // Nothing kept: everything examined went, up to last_id.
    if (!floor_set && examined > 0) retention_floor = last_id + 1;
    flush_stats(batch);
    if (batch.Count() > 0) write_batch(batch);
    self.counters_.removed_messages.fetch_add(removed, std::memory_order_relaxed);
    return removed;
  }

  std::uint64_t retention_pass(std::int64_t cutoff_us) {
    std::uint64_t removed = 0;
    bool more = true;
    while (more) removed += retention_step(cutoff_us, 4096, more);
    return removed;
  }

  void retention_if_due() {
    if (options.retention.count() <= 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (!retention_more && now - last_retention < options.retention_interval) return;
    last_retention = now;
    const std::int64_t cutoff =
        options.now_us() -
        std::chrono::duration_cast<std::chrono::microseconds>(options.retention).count();
    retention_step(cutoff, 4096, retention_more);
  }

  // ---- The loop. ----

  void write_batch(rocksdb::WriteBatch& batch) {
    rocksdb::WriteOptions wo;
    wo.sync = options.sync == sync_policy::always;
    // The events are only acknowledged once written: retry a failing
    // write (disk full, I/O error) rather than drop it.
    while (!db->Write(wo, &batch).ok()) {
      if (closing && drained()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (options.sync == sync_policy::interval && !unsynced.exchange(true)) {
      // The first batch since the last fsync: the syncer may be asleep.
      std::lock_guard lock(sync_mutex);
      sync_cv.notify_one();
    }
  }

  void apply_event(event& e, rocksdb::WriteBatch& batch,
                   std::vector<std::shared_ptr<retention_request>>& retention_requests) {
    switch (e.kind) {
      case event_kind::put: {
        const std::uint64_t id = e.record.id;
        put(e.record, batch);
        if (e.ticket & urgent_ticket_bit) record_arrived(id, batch);
        break;
      }
      case event_kind::update:
        if (!apply(e.update, batch)) {
          const std::uint64_t id = e.update.message_id;
          early[id].push_back(std::move(e));
          e.ticket = 0;  // written when applied, with its record
          self.counters_.early_updates.fetch_add(1, std::memory_order_relaxed);
        }
        break;
      case event_kind::park: batch.Put(handles.cfs[cf_orphans], e.key, e.value); break;
      case event_kind::unpark: batch.Delete(handles.cfs[cf_orphans], e.key); break;
      case event_kind::orphan_expired:
        batch.Delete(handles.cfs[cf_orphans], e.key);
        ++stats_for(stats_smsc, e.smsc).orphans_expired;
        break;
      case event_kind::retention: retention_requests.push_back(std::move(e.retention)); break;
      case event_kind::write:
        for (const kv_write& w : e.writes) {
          if (w.erase) batch.Delete(handles.cfs[w.family], w.key);
          else batch.Put(handles.cfs[w.family], w.key, w.value);
        }
        break;
      case event_kind::wake: break;
    }
  }

  bool is_awaited(std::uint64_t id) {
    std::lock_guard lock(awaited_mutex);
    return awaited.contains(id);
  }

  // An urgent record was applied: the updates that came before it follow
  // it into the same batch.
  void record_arrived(std::uint64_t id, rocksdb::WriteBatch& batch) {
    {
      std::lock_guard lock(awaited_mutex);
      awaited.erase(id);
    }
    const auto it = early.find(id);
    if (it == early.end()) return;
    for (event& d : it->second) {
      apply(d.update, batch);
      released.push_back(d.ticket);
    }
    early.erase(it);
  }

  // Marks the tickets of the batch just written (0: an update kept for
  // its record, not written yet) and of the early updates it applied.
  void mark_written(std::span<const event> batch_events) {
    for (const event& e : batch_events)
      if (e.ticket) push_written(e.ticket);
    for (std::uint64_t t : released) push_written(t);
    released.clear();
  }
  void push_written(std::uint64_t ticket) {
    if (ticket & urgent_ticket_bit) written_urgent.push(ticket & ~urgent_ticket_bit);
    else written.push(ticket);
  }

  // Every urgent event queued now, appended to `out` in order.
  void take_urgent(std::vector<event>& out, std::vector<event>& buffer) {
    for (;;) {
      const std::size_t k = urgent_queue.try_dequeue_bulk(buffer.begin(), buffer.size());
      for (std::size_t i = 0; i < k; ++i) out.push_back(std::move(buffer[i]));
      if (k < buffer.size()) return;
    }
  }

  bool drained() const { return backlog.load() == 0 && urgent_backlog.load() == 0; }

  void run() {
    std::vector<event> events(1024), urgent, buffer(64);
    std::vector<std::shared_ptr<retention_request>> retention_requests;
    while (true) {
      // Urgent events first, then the normal ones waiting (at most 1024).
      take_urgent(urgent, buffer);
      std::size_t n = urgent.empty()
                          ? queue.wait_dequeue_bulk_timed(events.begin(), events.size(), std::chrono::milliseconds(5))
                          : queue.try_dequeue_bulk(events.begin(), events.size());
      // An urgent event a producer queued before one of these is visible
      // now: it must not be applied after it.
      if (n) take_urgent(urgent, buffer);
      n = static_cast<std::size_t>(std::remove_if(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n),
                                                  [](const event& e) { return e.kind == event_kind::wake; }) -
                                   events.begin());
      if (n == 0 && urgent.empty()) {
        if (closing && drained()) break;
        index_open_if_due();
        retention_if_due();
        continue;
      }
      if (!urgent.empty()) {
        // A small batch of their own, written first: durable without
        // waiting for the normal events' larger write.
        prefetch(std::span(urgent.data(), urgent.size()));
        rocksdb::WriteBatch batch;
        for (event& e : urgent) apply_event(e, batch, retention_requests);
        write_dirty(batch);
        write_batch(batch);
        release_written_keys();
        mark_written(std::span(urgent.data(), urgent.size()));
        advance_durable();
        self.counters_.events.fetch_add(urgent.size(), std::memory_order_relaxed);
        self.counters_.batches.fetch_add(1, std::memory_order_relaxed);
        urgent_backlog.fetch_sub(urgent.size(), std::memory_order_relaxed);
        urgent.clear();
      }
      if (n > 0) {
        prefetch(std::span(events.data(), n));
        rocksdb::WriteBatch batch;
        for (std::size_t i = 0; i < n; ++i) apply_event(events[i], batch, retention_requests);
        write_dirty(batch);
        write_batch(batch);
        release_written_keys();
        mark_written(std::span(events.data(), n));
        advance_durable();
        self.counters_.events.fetch_add(n, std::memory_order_relaxed);
        self.counters_.batches.fetch_add(1, std::memory_order_relaxed);
        backlog.fetch_sub(n, std::memory_order_relaxed);
      }
      trim_cache();
      index_open_if_due();
      for (auto& request : retention_requests)
        request->removed.set_value(retention_pass(request->cutoff_us));
      retention_requests.clear();
      retention_if_due();
    }
    // Updates still waiting for a record that never came (its append
    // cannot fail once queued, so none should): dropped as unknown, their
    // tickets released so that no one waits on them.
    for (auto& [id, list] : early)
      for (const event& d : list) {
        self.counters_.unknown_messages.fetch_add(1, std::memory_order_relaxed);
        push_written(d.ticket);
      }
    if (!early.empty()) advance_durable();
    early.clear();
  }

  // sync::interval (the syncer thread): fsyncs the WAL at most every
  // sync_interval, and only when a batch was written since the last fsync
  // began: a batch waits at most about the interval plus one fsync for the
  // disk, and an idle log makes no syscalls. (A batch written while an
  // fsync runs sets `unsynced` again and is in the next one.)
  void sync_loop() {
    auto last_sync = std::chrono::steady_clock::now() - options.sync_interval;
    std::unique_lock lock(sync_mutex);
    while (true) {
      sync_cv.wait(lock, [&] { return sync_stop || unsynced.load(); });
      if (sync_stop) return;  // the destructor syncs what the writer wrote last
      if (sync_cv.wait_until(lock, last_sync + options.sync_interval, [&] { return sync_stop; }))
        return;
      unsynced.store(false);
      lock.unlock();
      last_sync = std::chrono::steady_clock::now();
      db->SyncWAL();
      lock.lock();
    }
  }

  // Tickets are taken before enqueueing, so they can be written out of
  // order across producers: durable is the highest ticket with every
  // smaller one written.
  void advance_durable() {
    auto advance = [](auto& heap, std::uint64_t d) {
      while (!heap.empty() && heap.top() <= d + 1) {
        d = std::max(d, heap.top());
        heap.pop();
      }
      return d;
    };
    const std::uint64_t d = advance(written, self.durable_.load(std::memory_order_relaxed));
    const std::uint64_t u = advance(written_urgent, self.urgent_durable_.load(std::memory_order_relaxed));
    {
      std::lock_guard lock(durable_mutex);
      self.durable_.store(d, std::memory_order_release);
      self.urgent_durable_.store(u, std::memory_order_release);
    }
    durable_cv.notify_all();
    if (options.on_durable) options.on_durable(d);
  }
};

message_log::message_log(const log_options& options)
    : impl_(std::make_unique<impl>(*this, options)) {}

message_log::~message_log() = default;

std::uint64_t message_log::append(message_record&& r, std::error_code& ec, urgency lane) {
  return impl_->append(std::move(r), ec, lane);
}

std::uint64_t message_log::append(const message_record& r, std::error_code& ec, urgency lane) {
  return impl_->append(r, ec, lane);
}

std::uint64_t message_log::update(part_update&& u, std::error_code& ec, urgency lane) {
  return impl_->update(std::move(u), ec, lane);
}

std::uint64_t message_log::update(const part_update& u, std::error_code& ec, urgency lane) {
  return impl_->update(u, ec, lane);
}

std::uint64_t message_log::update(std::span<part_update> updates, std::error_code& ec) {
  if (updates.empty()) {
    ec.clear();
    return 0;
  }
  const std::uint64_t first = impl_->reserve(updates.size(), ec);
  if (ec) return 0;
  std::vector<impl::event> events(updates.size());
  for (std::size_t i = 0; i < updates.size(); ++i) events[i].update = std::move(updates[i]);
  return impl_->push(events, first);
}

std::uint64_t message_log::issued_ticket(urgency lane) const noexcept {
  if (lane == urgency::urgent) return impl_->next_urgent.load(std::memory_order_acquire) | urgent_ticket_bit;
  return impl_->next_ticket.load(std::memory_order_acquire);
}

void message_log::wait_durable(std::uint64_t ticket) {
  std::unique_lock lock(impl_->durable_mutex);
  impl_->durable_cv.wait(lock, [&] { return is_durable(ticket) || impl_->closing; });
}

std::optional<message_record> message_log::get(std::uint64_t id, std::error_code& ec) const {
  return get_record(impl_->handles, id, ec);
}

std::optional<part_ref> message_log::find_part(std::string_view smsc, std::string_view receipt_id,
                                               id_format receipt_format,
                                               std::error_code& ec) const {
  ec.clear();
  for (const std::string& k : receipt_id_keys(receipt_id, receipt_format)) {
    std::string value;
    const rocksdb::Status st = impl_->db->Get(
        rocksdb::ReadOptions(), impl_->handles.cfs[cf_smsc_ids], smsc_index_key(smsc, k), &value);
    if (st.IsNotFound()) continue;
    part_ref ref;
    if (!st.ok() || !read_part_value(value, ref.message_id, ref.part)) {
      ec = st.ok() ? storage_errc::corrupt_record : storage_errc::io_error;
      return std::nullopt;
    }
    return ref;
  }
  return std::nullopt;
}

std::vector<std::uint64_t> message_log::open_message_ids(std::error_code& ec) const {
  std::vector<std::uint64_t> ids;
  rocksdb::DB& db = *impl_->db;
  // The watermark, the entries at or below it and the records above it as
  // of one moment (each batch of the writer is seen whole or not at all).
  const rocksdb::Snapshot* snapshot = db.GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  rocksdb::Status st;
  const std::uint64_t watermark = impl_->stored_open_watermark(ro, st).value_or(0);
  if (st.ok()) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(ro, impl_->handles.cfs[cf_open]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8) continue;
      const std::uint64_t id = read_u64_be(it->key().ToStringView());
      if (id > watermark) break;
      ids.push_back(id);
    }
    st = it->status();
  }
  if (st.ok())
    st = impl_->for_open_records_above(watermark, ro, [&](std::uint64_t id) { ids.push_back(id); });
  db.ReleaseSnapshot(snapshot);
  ec = to_error(st);
  return ids;
}

std::optional<std::uint64_t> message_log::find_idempotent(std::string_view key,
                                                          std::error_code& ec) const {
  {
    std::lock_guard lock(impl_->pending_keys_mutex);
    if (auto it = impl_->pending_keys.find(std::string(key)); it != impl_->pending_keys.end()) {
      ec.clear();
      return it->second;
    }
  }
  return get_idempotent(impl_->handles, key, ec);
}

std::vector<std::uint64_t> message_log::messages_to(std::string_view recipient,
                                                    std::int64_t since_us, std::int64_t until_us,
                                                    std::size_t limit,
                                                    std::error_code& ec) const {
  return detail::messages_to(impl_->handles, recipient, since_us, until_us, limit, ec);
}

std::map<std::string, campaign_cursor> message_log::campaign_cursors(std::error_code& ec) const {
  std::map<std::string, campaign_cursor> out;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(rocksdb::ReadOptions(), impl_->handles.cfs[cf_campaigns]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    cursor_value c;
    if (!decode_cursor(it->value().ToStringView(), c)) {
      ec = storage_errc::corrupt_record;
      return out;
    }
    out[it->key().ToString()] = campaign_cursor{c.row, std::move(c.above)};
  }
  ec = to_error(it->status());
  return out;
}

std::uint64_t message_log::remove_before(std::int64_t cutoff_us, std::error_code& ec) {
  impl::event e;
  e.kind = event_kind::retention;
  e.retention = std::make_shared<retention_request>();
  e.retention->cutoff_us = cutoff_us;
  std::future<std::uint64_t> done = e.retention->removed.get_future();
  (void)impl_->enqueue(std::span(&e, 1), ec);
  if (ec) return 0;
  return done.get();
}

std::size_t message_log::backlog() const noexcept {
  return impl_->backlog.load(std::memory_order_relaxed) + impl_->urgent_backlog.load(std::memory_order_relaxed);
}

namespace {

// A RocksDB integer property summed over the column families (0 when the
// database does not have it).
std::uint64_t summed_property(rocksdb::DB& db, const std::string& property) {
  std::uint64_t v = 0;
  return db.GetAggregatedIntProperty(property, &v) ? v : 0;
}

}  // namespace

std::uint64_t message_log::pending_compaction_bytes() const {
  return summed_property(*impl_->db, rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
}

message_log::memory_use message_log::memory() const {
  memory_use m;
  rocksdb::DB& db = *impl_->db;
  // One block cache serves every column family: read it from one.
  auto cache_property = [&](const std::string& property) {
    std::uint64_t v = 0;
    return db.GetIntProperty(impl_->handles.cfs[cf_messages], property, &v) ? v : 0;
  };
  m.memtables = summed_property(db, rocksdb::DB::Properties::kCurSizeAllMemTables);
  m.table_readers = summed_property(db, rocksdb::DB::Properties::kEstimateTableReadersMem);
  m.block_cache = cache_property(rocksdb::DB::Properties::kBlockCacheUsage);
  m.block_cache_pinned = cache_property(rocksdb::DB::Properties::kBlockCachePinnedUsage);
  m.cached_records = impl_->cached_records.load(std::memory_order_relaxed);
  m.memtables_limit = impl_->options.memtable_bytes;
  m.block_cache_limit = impl_->options.block_cache_bytes;
  return m;
}

namespace {

std::array<std::uint64_t, state_count> state_totals(const db_handles& h, char kind, std::string_view name,
                                                    std::error_code& ec) {
  const stats s = get_stats(h, kind, name, ec);
  std::array<std::uint64_t, state_count> out{};
  for (std::size_t i = 0; i < state_count; ++i)
    out[i] = static_cast<std::uint64_t>(std::max<std::int64_t>(s.counts[i], 0));
  return out;
}

}  // namespace

std::array<std::uint64_t, state_count> message_log::campaign_states(std::string_view campaign,
                                                                    std::error_code& ec) const {
  return state_totals(impl_->handles, stats_campaign, campaign, ec);
}

std::array<std::uint64_t, state_count> message_log::smsc_states(std::string_view smsc, std::error_code& ec) const {
  return state_totals(impl_->handles, stats_smsc, smsc, ec);
}

latency_histogram message_log::smsc_receipt_latency(std::string_view smsc, std::error_code& ec) const {
  return get_stats(impl_->handles, stats_smsc, smsc, ec).submit_to_receipt;
}

void message_log::compact() {
  rocksdb::CompactRangeOptions o;
  for (auto* h : impl_->handles.cfs) impl_->db->CompactRange(o, h, nullptr, nullptr);
}

namespace detail {

const db_handles& log_access::handles(const message_log& log) noexcept {
  return log.impl_->handles;
}

std::uint64_t log_access::enqueue(message_log& log, std::span<log_event> events,
                                  std::error_code& ec) {
  return log.impl_->enqueue(events, ec);
}

}  // namespace detail

}  // namespace storage
