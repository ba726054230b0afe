#include "storage/reconciler.hpp"

#include <rocksdb/db.h>

#include <algorithm>
#include <array>
#include <bit>
#include <optional>
#include <map>
#include <unordered_map>
#include <vector>

#include "storage/detail/log_access.hpp"
#include "storage/detail/schema.hpp"
#include "storage/detail/varint.hpp"

namespace storage {

namespace {

using namespace detail;

bool is_receipt_state(state s) noexcept {
  switch (s) {
    case state::delivered:
    case state::undeliverable:
    case state::expired:
    case state::rejected:
    case state::deleted:
    case state::unknown: return true;
    default: return false;
  }
}

std::uint64_t mix(std::uint64_t x) noexcept {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A numeric id key ("#" + 8 octets, message_id.hpp) as its value.
bool numeric_key(std::string_view key, std::uint64_t& v) noexcept {
  if (key.size() != 9 || key[0] != '#') return false;
  v = read_u64_be(key.substr(1));
  return true;
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\0')) s.remove_suffix(1);
  return s;
}

// Receipts carry the first characters of the part as the SMSC saw it
// (often 20), in whatever case the SMSC's software chose: compare as far as
// both go, ignoring ASCII case.
bool text_matches(std::string_view text, std::uint32_t offset, std::string_view prefix) {
  prefix = trim(prefix);
  if (prefix.empty()) return true;
  if (offset > text.size()) return false;
  const std::string_view rest = text.substr(offset);
  const std::size_t n = std::min(prefix.size(), rest.size());
  if (n == 0) return false;
  for (std::size_t i = 0; i < n; ++i)
    if (lower(rest[i]) != lower(prefix[i])) return false;
  return true;
}

// Open addressing, linear probing, no deletion (entries are overwritten
// and whole generations dropped): 24 octets per numeric id.
class id_table {
 public:
  struct slot {
    std::uint64_t value = 0;
    std::uint64_t message_id = 0;
    std::uint32_t account = 0;  // + 1; 0 marks an empty slot
    std::uint16_t part = 0;
    std::uint8_t st = 0;
  };

  explicit id_table(std::size_t capacity) : capacity_(std::bit_ceil(std::max<std::size_t>(capacity, 16))) {}

  slot* find(std::uint32_t account, std::uint64_t value) noexcept {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = index(account, value);; i = (i + 1) & (capacity_ - 1)) {
      slot& s = slots_[i];
      if (s.account == 0) return nullptr;
      if (s.account == account + 1 && s.value == value) return &s;
    }
  }

  // False when the table is full (3/4): the caller starts a new generation.
  bool put(std::uint32_t account, std::uint64_t value, part_ref ref, state st) {
    if (slots_.empty()) slots_.resize(capacity_);
    for (std::size_t i = index(account, value);; i = (i + 1) & (capacity_ - 1)) {
      slot& s = slots_[i];
      if (s.account == 0) {
        if (used_ >= capacity_ / 4 * 3) return false;
        ++used_;
      } else if (s.account != account + 1 || s.value != value) {
        continue;
      }
      s = slot{value, ref.message_id, account + 1, ref.part, static_cast<std::uint8_t>(st)};
      return true;
    }
  }

  void clear() {
    if (used_ == 0) return;
    std::fill(slots_.begin(), slots_.end(), slot{});
    used_ = 0;
  }

 private:
  std::size_t index(std::uint32_t account, std::uint64_t value) const noexcept {
    return static_cast<std::size_t>(mix(value ^ (std::uint64_t{account} << 48))) & (capacity_ - 1);
  }
  std::size_t capacity_;
  std::vector<slot> slots_;  // allocated on first use
  std::size_t used_ = 0;
};

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// Ids that are not numbers (UUIDs, ids beyond 64 bits), keyed by account
// and id key.
struct string_entry {
  part_ref ref;
  std::uint8_t st = 0;
};

}  // namespace

std::string_view name(receipt_outcome o) noexcept {
  switch (o) {
    case receipt_outcome::matched: return "matched";
    case receipt_outcome::duplicate: return "duplicate";
    case receipt_outcome::parked: return "parked";
    case receipt_outcome::orphan: return "orphan";
  }
  return "invalid";
}

struct reconciler::impl {
  reconciler_counters& counters;
  message_log& log;
  reconciler_options options;
  const db_handles& handles;

  std::unordered_map<std::string, std::uint32_t, string_hash, std::equal_to<>> accounts;

  // Two generations each: lookups try the newer, then the older.
  std::array<id_table, 2> numbers;
  std::array<std::unordered_map<std::string, string_entry>, 2> strings;
  int newer = 0, newer_strings = 0;

  struct parked_entry {
    parked_receipt receipt;
    std::string store_key;
    std::vector<std::string> id_keys;  // smsc NUL id key, as in smsc_ids
  };
  std::map<std::uint64_t, parked_entry> parked;  // by sequence: oldest first
  std::unordered_map<std::string, std::uint64_t> parked_by_id;
  std::uint64_t next_seq = 1;
  std::uint64_t in_doubt_seen = 0;
  std::uint64_t last_ticket = 0;

  // A found id: where its part is and what the reconciler last knew of it.
  struct hit {
    part_ref ref;
    std::uint8_t* st = nullptr;
  };

  impl(reconciler_counters& c, message_log& l, reconciler_options o)
      : counters(c),
        log(l),
        options(std::move(o)),
        handles(log_access::handles(l)),
        numbers{id_table(options.memory_ids), id_table(options.memory_ids)} {
    if (!options.now_us)
      options.now_us = [] {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
      };
    load_parked();
  }

  void load_parked() {
    std::unique_ptr<rocksdb::Iterator> it(
        handles.db->NewIterator(rocksdb::ReadOptions(), handles.cfs[cf_orphans]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view k = it->key().ToStringView();
      parked_receipt r;
      if (k.size() != 16 || !decode_parked(it->value().ToStringView(), r))
        throw std::system_error(make_error_code(storage_errc::corrupt_record), "parked receipt");
      next_seq = std::max(next_seq, read_u64_be(k.substr(8)) + 1);
      remember_parked(std::move(r), std::string(k));
    }
    if (!it->status().ok())
      throw std::system_error(to_error(it->status()), "reading parked receipts");
  }

  std::uint64_t remember_parked(parked_receipt r, std::string store_key) {
    const std::uint64_t seq = next_seq++;
    parked_entry e{std::move(r), std::move(store_key), {}};
    for (const std::string& k : receipt_id_keys(e.receipt.receipt_id, e.receipt.receipt_format)) {
      e.id_keys.push_back(smsc_index_key(e.receipt.smsc, k));
      parked_by_id[e.id_keys.back()] = seq;
    }
    parked.emplace(seq, std::move(e));
    return seq;
  }

  void forget_parked(std::map<std::uint64_t, parked_entry>::iterator it) {
    for (const std::string& k : it->second.id_keys)
      if (auto p = parked_by_id.find(k); p != parked_by_id.end() && p->second == it->first)
        parked_by_id.erase(p);
    parked.erase(it);
  }

  std::int64_t now() const { return options.now_us(); }

  void queue(std::span<log_event> events, std::error_code& ec) {
    const std::uint64_t t = log_access::enqueue(log, events, ec);
    if (!ec) last_ticket = t;
  }

  std::uint32_t account(std::string_view smsc) {
    // Few accounts; the lookup builds no string when the account is known.
    if (auto it = accounts.find(smsc); it != accounts.end()) return it->second;
    const auto n = static_cast<std::uint32_t>(accounts.size());
    accounts.emplace(std::string(smsc), n);
    return n;
  }

  // ---- The in-memory id index. ----

  std::optional<hit> memory_find(std::uint32_t acc, std::string_view key) {
    std::uint64_t v;
    if (numeric_key(key, v)) {
      for (int g : {newer, 1 - newer})
        if (id_table::slot* s = numbers[g].find(acc, v))
          return hit{{s->message_id, s->part}, &s->st};
      return std::nullopt;
    }
    const std::string k = string_memory_key(acc, key);
    for (int g : {newer_strings, 1 - newer_strings})
      if (auto it = strings[g].find(k); it != strings[g].end())
        return hit{it->second.ref, &it->second.st};
    return std::nullopt;
  }

  static std::string string_memory_key(std::uint32_t acc, std::string_view key) {
    std::string k(reinterpret_cast<const char*>(&acc), sizeof acc);
    k.append(key);
    return k;
  }

  hit memory_put(std::uint32_t acc, std::string_view key, part_ref ref, state st) {
    std::uint64_t v;
    if (numeric_key(key, v)) {
      if (!numbers[newer].put(acc, v, ref, st)) {
        // The newer generation is full: the older one goes, and its parts
        // are found in the database from now on.
        newer = 1 - newer;
        numbers[newer].clear();
        numbers[newer].put(acc, v, ref, st);
      }
      return *memory_find(acc, key);
    }
    if (strings[newer_strings].size() >= options.memory_ids / 4 * 3) {
      newer_strings = 1 - newer_strings;
      strings[newer_strings].clear();
    }
    auto& e = strings[newer_strings][string_memory_key(acc, key)];
    e = string_entry{ref, static_cast<std::uint8_t>(st)};
    return hit{ref, &e.st};
  }

  // The log's SMSC-id index, then the part's stored state.
  std::optional<hit> database_find(std::uint32_t acc, std::string_view smsc, std::string_view key,
                                   std::error_code& ec) {
    std::string value;
    const rocksdb::Status st = handles.db->Get(rocksdb::ReadOptions(), handles.cfs[cf_smsc_ids],
                                               smsc_index_key(smsc, key), &value);
    if (st.IsNotFound()) return std::nullopt;
    part_ref ref;
    if ((ec = to_error(st))) return std::nullopt;
    if (!read_part_value(value, ref.message_id, ref.part)) {
      ec = storage_errc::corrupt_record;
      return std::nullopt;
    }
    const auto r = get_record(handles, ref.message_id, ec);
    if (ec == storage_errc::not_found) {  // removed by retention meanwhile
      ec.clear();
      return std::nullopt;
    }
    if (ec) return std::nullopt;
    if (ref.part >= r->parts.size()) {
      ec = storage_errc::corrupt_record;
      return std::nullopt;
    }
    return memory_put(acc, key, ref, r->parts[ref.part].st);
  }

  std::optional<hit> find(std::uint32_t acc, std::string_view smsc, const receipt_keys& keys,
                          std::error_code& ec) {
    for (const std::string& k : keys)
      if (auto h = memory_find(acc, k)) {
        ++counters.memory_hits;
        return h;
      }
    for (const std::string& k : keys) {
      auto h = database_find(acc, smsc, k, ec);
      if (ec) return std::nullopt;
      if (h) {
        ++counters.database_hits;
        return h;
      }
    }
    return std::nullopt;
  }

  // ---- Settling. ----

  static part_update settlement(part_ref ref, state to, std::int64_t at_us, std::uint32_t error,
                                cause c) {
    part_update u;
    u.message_id = ref.message_id;
    u.part = ref.part;
    u.to = to;
    u.at_us = at_us;
    u.error_code = error;
    u.cause = c;
    return u;
  }

  static log_event update_event(part_update u) {
    log_event e;
    e.kind = event_kind::update;
    e.update = std::move(u);
    return e;
  }

  static log_event orphans_event(event_kind kind, std::string key) {
    log_event e;
    e.kind = kind;
    e.key = std::move(key);
    return e;
  }

  bool is_duplicate(state current, state receipt) {
    // unknown is the one final state a receipt may still refine.
    const bool settled = is_terminal(current) && (current != state::unknown || receipt == state::unknown);
    if (!settled) return false;
    ++counters.duplicates;
    if (current != receipt) ++counters.conflicting;
    return true;
  }

  receipt_outcome settle(hit h, state to, std::int64_t at_us, std::uint32_t error, cause c,
                         std::error_code& ec) {
    if (is_duplicate(static_cast<state>(*h.st), to)) return receipt_outcome::duplicate;
    log_event e = update_event(settlement(h.ref, to, at_us, error, c));
    queue(std::span(&e, 1), ec);
    if (ec) return receipt_outcome::orphan;
    *h.st = static_cast<std::uint8_t>(to);
    return receipt_outcome::matched;
  }

  // ---- Fallback: in-doubt parts by destination, time and text. ----

  std::optional<part_ref> fallback_find(std::string_view smsc, std::string_view destination,
                                        std::int64_t submit_us, std::int64_t done_us,
                                        std::string_view text_prefix, std::error_code& ec) {
    const std::string address = address_key(destination);
    if (address.empty()) return std::nullopt;
    const std::int64_t skew =
        std::chrono::duration_cast<std::chrono::microseconds>(options.clock_skew).count();
    const std::int64_t window =
        std::chrono::duration_cast<std::chrono::microseconds>(options.fallback_window).count();
    std::int64_t lo, hi;
    if (submit_us > 0) {
      lo = submit_us - skew;
      hi = submit_us + skew;
    } else {
      const std::int64_t ref = done_us > 0 ? done_us : now();
      lo = ref - window;
      hi = ref + skew;
    }
    const std::string prefix = in_doubt_prefix(smsc, address);
    std::string lower_key = prefix, upper_key = prefix;
    put_u64_be(lower_key, static_cast<std::uint64_t>(std::max<std::int64_t>(lo, 0)));
    put_u64_be(upper_key, static_cast<std::uint64_t>(std::max<std::int64_t>(hi, 0)) + 1);
    rocksdb::ReadOptions ro;
    const rocksdb::Slice upper(upper_key);
    ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(handles.db->NewIterator(ro, handles.cfs[cf_in_doubt]));
    std::optional<part_ref> found;
    int candidates = 0, examined = 0;
    // A number gets few messages from one account in a window; more than a
    // handful of parts in doubt cannot be told apart anyway.
    for (it->Seek(lower_key); it->Valid() && examined < 16; it->Next(), ++examined) {
      const std::string_view k = it->key().ToStringView();
      if (k.size() != prefix.size() + 18) continue;
      part_ref ref{read_u64_be(k.substr(prefix.size() + 8)),
                   static_cast<std::uint16_t>((static_cast<std::uint8_t>(k[prefix.size() + 16]) << 8) |
                                              static_cast<std::uint8_t>(k[prefix.size() + 17]))};
      const auto r = get_record(handles, ref.message_id, ec);
      if (ec == storage_errc::not_found) {
        ec.clear();
        continue;
      }
      if (ec) return std::nullopt;
      if (ref.part >= r->parts.size()) continue;
      const part_record& p = r->parts[ref.part];
      if (!in_doubt(p) || !text_matches(r->text, p.text_offset, text_prefix)) continue;
      if (++candidates > 1) return std::nullopt;  // ambiguous: do not guess
      found = ref;
    }
    if ((ec = to_error(it->status()))) return std::nullopt;
    return found;
  }

  // ---- Parking. ----

  receipt_outcome park(const receipt_event& e, std::uint64_t replaces, std::error_code& ec) {
    if (replaces == 0 && parked.size() >= options.max_parked) {
      ++counters.orphans_dropped;
      return receipt_outcome::orphan;
    }
    parked_receipt r;
    r.smsc = e.smsc;
    r.receipt_id = e.receipt_id;
    r.receipt_format = e.receipt_format;
    r.st = e.final_state;
    r.error_code = e.error_code;
    r.done_us = e.done_us;
    r.submit_us = e.submit_us;
    r.parked_us = now();
    r.destination = e.destination;
    r.text_prefix = e.text_prefix;
    log_event events[2];
    std::size_t n = 0;
    if (replaces != 0) events[n++] = orphans_event(event_kind::unpark, parked.at(replaces).store_key);
    std::string key = orphan_key(r.parked_us, next_seq);
    events[n] = orphans_event(event_kind::park, key);
    encode_parked(r, events[n].value);
    ++n;
    queue(std::span(events, n), ec);
    if (ec) return receipt_outcome::orphan;
    if (replaces != 0) forget_parked(parked.find(replaces));
    remember_parked(std::move(r), std::move(key));
    ++counters.parked;
    return receipt_outcome::parked;
  }

  receipt_outcome on_receipt(const receipt_event& e, std::error_code& ec) {
    ec.clear();
    const receipt_keys keys = receipt_id_keys(e.receipt_id, e.receipt_format);
    if (keys.count == 0 || !is_receipt_state(e.final_state)) {
      ec = storage_errc::invalid_argument;
      return receipt_outcome::orphan;
    }
    const std::uint32_t acc = account(e.smsc);
    const std::int64_t at = now();
    if (auto h = find(acc, e.smsc, keys, ec)) {
      const receipt_outcome o = settle(*h, e.final_state, at, e.error_code, cause::receipt, ec);
      if (o == receipt_outcome::matched) ++counters.matched_by_id;
      return o;
    }
    if (ec) return receipt_outcome::orphan;
    // Already parked under this id: the same receipt again, or a newer
    // verdict, which replaces it.
    std::uint64_t replaces = 0;
    for (const std::string& k : keys) {
      auto p = parked_by_id.find(smsc_index_key(e.smsc, k));
      if (p == parked_by_id.end()) continue;
      if (parked.at(p->second).receipt.st == e.final_state) {
        ++counters.duplicates;
        return receipt_outcome::duplicate;
      }
      replaces = p->second;
      break;
    }
    if (!e.destination.empty()) {
      const auto ref = fallback_find(e.smsc, e.destination, e.submit_us, e.done_us,
                                     e.text_prefix, ec);
      if (ec) return receipt_outcome::orphan;
      if (ref) {
        std::size_t n = 0;
        log_event events[2];
        events[n++] = update_event(
            settlement(*ref, e.final_state, at, e.error_code, cause::receipt_fallback));
        if (replaces != 0)
          events[n++] = orphans_event(event_kind::unpark, parked.at(replaces).store_key);
        queue(std::span(events, n), ec);
        if (ec) return receipt_outcome::orphan;
        if (replaces != 0) forget_parked(parked.find(replaces));
        // Remembered under the receipt's id, so that the same receipt again
        // is a duplicate rather than a second fallback search.
        memory_put(acc, keys.keys[0], *ref, e.final_state);
        ++counters.matched_by_fallback;
        return receipt_outcome::matched;
      }
    }
    return park(e, replaces, ec);
  }

  bool on_resp(const resp_event& e, std::error_code& ec) {
    ec.clear();
    part_update accepted;
    accepted.message_id = e.part.message_id;
    accepted.part = e.part.part;
    accepted.to = state::accepted;
    accepted.at_us = e.at_us != 0 ? e.at_us : now();
    accepted.smsc_message_id = e.smsc_message_id;
    accepted.resp_format = e.resp_format;
    accepted.command_status = e.command_status;
    const std::string key = resp_id_key(e.smsc_message_id, e.resp_format);
    auto waiting = parked.end();
    if (!key.empty())
      if (auto p = parked_by_id.find(smsc_index_key(e.smsc, key)); p != parked_by_id.end())
        waiting = parked.find(p->second);
    log_event events[3];
    std::size_t n = 0;
    events[n++] = update_event(std::move(accepted));
    if (waiting != parked.end()) {
      // The parked receipt follows the resp in this producer's order, with
      // the time it came.
      const parked_receipt& r = waiting->second.receipt;
      events[n++] = update_event(
          settlement(e.part, r.st, r.parked_us, r.error_code, cause::parked_receipt));
      events[n++] = orphans_event(event_kind::unpark, waiting->second.store_key);
    }
    queue(std::span(events, n), ec);
    if (ec || key.empty()) return false;
    const bool settled = waiting != parked.end();
    memory_put(account(e.smsc), key, e.part, settled ? waiting->second.receipt.st : state::accepted);
    if (!settled) return false;
    forget_parked(waiting);
    ++counters.matched_when_resp_came;
    return true;
  }

  std::size_t expire_parked(std::error_code& ec) {
    ec.clear();
    const std::int64_t cutoff =
        now() - std::chrono::duration_cast<std::chrono::microseconds>(options.orphan_keep).count();
    std::size_t dropped = 0;
    while (!parked.empty() && parked.begin()->second.receipt.parked_us < cutoff) {
      // In steps, so that one call never needs more than a small part of
      // the writer's backlog.
      std::vector<log_event> events;
      for (auto it = parked.begin();
           it != parked.end() && it->second.receipt.parked_us < cutoff && events.size() < 256;
           ++it) {
        events.push_back(orphans_event(event_kind::orphan_expired, it->second.store_key));
        events.back().smsc = it->second.receipt.smsc;
      }
      queue(events, ec);
      if (ec) return dropped;
      for (std::size_t i = 0; i < events.size(); ++i) forget_parked(parked.begin());
      dropped += events.size();
      counters.orphans_expired += events.size();
    }
    return dropped;
  }

  std::size_t retry_parked(std::error_code& ec) {
    ec.clear();
    in_doubt_seen = log.counters().in_doubt_added.load();
    std::size_t settled = 0;
    for (auto it = parked.begin(); it != parked.end();) {
      const parked_receipt& r = it->second.receipt;
      const receipt_keys keys = receipt_id_keys(r.receipt_id, r.receipt_format);
      const std::uint32_t acc = account(r.smsc);
      // Its id may have been indexed meanwhile (a resp reported straight
      // to the log); else the fallback key.
      std::optional<part_ref> ref;
      cause how = cause::receipt;
      std::optional<hit> h = find(acc, r.smsc, keys, ec);
      if (ec) return settled;
      if (h && is_duplicate(static_cast<state>(*h->st), r.st)) {
        // Its part was settled by another receipt meanwhile.
        log_event drop = orphans_event(event_kind::unpark, it->second.store_key);
        queue(std::span(&drop, 1), ec);
        if (ec) return settled;
        auto next = std::next(it);
        forget_parked(it);
        it = next;
        continue;
      }
      if (h) {
        ref = h->ref;
      } else if (!r.destination.empty()) {
        ref = fallback_find(r.smsc, r.destination, r.submit_us, r.done_us, r.text_prefix, ec);
        if (ec) return settled;
        how = cause::receipt_fallback;
      }
      if (!ref) {
        ++it;
        continue;
      }
      log_event events[2] = {update_event(settlement(*ref, r.st, r.parked_us, r.error_code, how)),
                             orphans_event(event_kind::unpark, it->second.store_key)};
      queue(std::span(events, 2), ec);
      if (ec) return settled;
      if (h) *h->st = static_cast<std::uint8_t>(r.st);
      else memory_put(acc, keys.keys[0], *ref, r.st);
      if (how == cause::receipt) ++counters.matched_by_id;
      else ++counters.matched_by_fallback;
      ++settled;
      auto next = std::next(it);
      forget_parked(it);
      it = next;
    }
    return settled;
  }
};

reconciler::reconciler(message_log& log, reconciler_options options)
    : impl_(std::make_unique<impl>(counters_, log, std::move(options))) {}

reconciler::~reconciler() = default;

receipt_outcome reconciler::on_receipt(const receipt_event& e, std::error_code& ec) {
  return impl_->on_receipt(e, ec);
}

bool reconciler::on_resp(const resp_event& e, std::error_code& ec) { return impl_->on_resp(e, ec); }

std::size_t reconciler::expire_parked(std::error_code& ec) { return impl_->expire_parked(ec); }

std::size_t reconciler::retry_parked(std::error_code& ec) { return impl_->retry_parked(ec); }

void reconciler::tick(std::error_code& ec) {
  impl_->expire_parked(ec);
  if (ec) return;
  if (impl_->log.counters().in_doubt_added.load() != impl_->in_doubt_seen) impl_->retry_parked(ec);
}

std::size_t reconciler::parked_now() const noexcept { return impl_->parked.size(); }

std::uint64_t reconciler::last_ticket() const noexcept { return impl_->last_ticket; }

}  // namespace storage
