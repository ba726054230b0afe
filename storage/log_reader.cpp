#include "storage/log_reader.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <stdlib.h>

#include "storage/detail/log_access.hpp"
#include "storage/detail/schema.hpp"
#include "storage/detail/varint.hpp"

namespace storage {

namespace {

using namespace detail;

latency_summary summarise(const latency_histogram& h) {
  latency_summary s;
  s.count = h.count();
  s.p50 = h.percentile(0.50);
  s.p90 = h.percentile(0.90);
  s.p99 = h.percentile(0.99);
  s.max = h.max();
  return s;
}

state_counts counts_of(const stats& s) {
  state_counts c;
  for (std::size_t i = 0; i < state_count; ++i)
    c.by_state[i] = static_cast<std::uint64_t>(std::max<std::int64_t>(s.counts[i], 0));
  return c;
}

double delivery_rate(const state_counts& c) {
  const std::uint64_t final_total = c.final_total();
  return final_total == 0 ? 0.0
                          : static_cast<double>(c[state::delivered]) /
                                static_cast<double>(final_total);
}

}  // namespace

std::uint64_t state_counts::total() const noexcept {
  std::uint64_t t = 0;
  for (std::uint64_t n : by_state) t += n;
  return t;
}

std::uint64_t state_counts::final_total() const noexcept {
  std::uint64_t t = 0;
  for (std::size_t i = 0; i < state_count; ++i)
    if (is_terminal(static_cast<state>(i))) t += by_state[i];
  return t;
}

std::string_view name(timeline_entry::kind k) noexcept {
  switch (k) {
    case timeline_entry::kind::queued: return "queued";
    case timeline_entry::kind::submitted: return "submitted";
    case timeline_entry::kind::resp: return "resp";
    case timeline_entry::kind::receipt: return "receipt";
    case timeline_entry::kind::settled: return "settled";
  }
  return "invalid";
}

struct log_reader::impl {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cf_list;
  db_handles handles;
  std::filesystem::path own_secondary;  // removed on close

  explicit impl(const reader_options& o) {
    std::filesystem::path secondary = o.secondary_dir;
    if (secondary.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "smppd-reader-XXXXXX").string();
      if (mkdtemp(tmpl.data()) == nullptr)
        throw std::system_error(errno, std::generic_category(), "creating " + tmpl);
      secondary = own_secondary = tmpl;
    }
    rocksdb::DBOptions options;
    options.max_open_files = -1;  // required of a secondary instance
    // Only the families the database has: one an older smppd wrote lacks
    // the newer ones (their handles stay null; reads of them find nothing).
    std::vector<std::string> existing;
    (void)rocksdb::DB::ListColumnFamilies(options, o.dir.string(), &existing);
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    std::vector<std::size_t> opened;
    for (std::size_t i = 0; i < cf_count; ++i) {
      if (i != cf_default && std::find(existing.begin(), existing.end(), cf_names[i]) == existing.end()) continue;
      descriptors.emplace_back(cf_names[i], rocksdb::ColumnFamilyOptions());
      opened.push_back(i);
    }
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status st = rocksdb::DB::OpenAsSecondary(options, o.dir.string(),
                                                            secondary.string(), descriptors,
                                                            &cf_list, &raw);
    if (!st.ok()) {
      remove_own();
      throw std::system_error(make_error_code(storage_errc::io_error),
                              "opening message log " + o.dir.string() + " to read: " +
                                  st.ToString());
    }
    db.reset(raw);
    handles.db = raw;
    for (std::size_t i = 0; i < opened.size(); ++i) handles.cfs[opened[i]] = cf_list[i];
  }

  // Borrows an open log's handles; owns nothing.
  explicit impl(const message_log& log) : handles(log_access::handles(log)) {}

  ~impl() {
    if (!db) return;
    for (auto* h : cf_list) db->DestroyColumnFamilyHandle(h);
    db.reset();
    remove_own();
  }

  void remove_own() {
    std::error_code ignored;
    if (!own_secondary.empty()) std::filesystem::remove_all(own_secondary, ignored);
  }

  std::vector<std::string> stats_names(char kind, std::error_code& ec) const {
    std::vector<std::string> names;
    std::unique_ptr<rocksdb::Iterator> it(
        handles.db->NewIterator(rocksdb::ReadOptions(), handles.cfs[cf_stats]));
    const std::string prefix(1, kind);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
      names.push_back(it->key().ToString().substr(1));
    ec = to_error(it->status());
    return names;
  }

  template <class F>
  void each_orphan(F&& f, std::error_code& ec) const {
    std::unique_ptr<rocksdb::Iterator> it(
        handles.db->NewIterator(rocksdb::ReadOptions(), handles.cfs[cf_orphans]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      parked_receipt p;
      if (!decode_parked(it->value().ToStringView(), p)) {
        ec = storage_errc::corrupt_record;
        return;
      }
      if (!f(p)) break;
    }
    ec = to_error(it->status());
  }
};

log_reader::log_reader(const reader_options& options)
    : impl_(std::make_unique<impl>(options)) {}

log_reader::log_reader(const message_log& log) : impl_(std::make_unique<impl>(log)) {}

log_reader::~log_reader() = default;

std::error_code log_reader::catch_up() {
  return impl_->db ? to_error(impl_->db->TryCatchUpWithPrimary()) : std::error_code();
}

campaign_report log_reader::report(std::string_view campaign, std::error_code& ec) const {
  campaign_report r;
  r.campaign = campaign;
  const stats s = get_stats(impl_->handles, stats_campaign, campaign, ec);
  if (ec) return r;
  r.messages = counts_of(s);
  r.removed = s.removed;
  r.suppressed_by = s.suppressed_by;
  r.delivery_rate = delivery_rate(r.messages);
  r.submit_to_resp = summarise(s.submit_to_resp);
  r.submit_to_receipt = summarise(s.submit_to_receipt);
  std::string value;
  const rocksdb::Status st =
      impl_->handles.db->Get(rocksdb::ReadOptions(), impl_->handles.cfs[cf_campaigns],
                     rocksdb::Slice(campaign.data(), campaign.size()), &value);
  if (st.ok()) {
    cursor_value c;
    if (!decode_cursor(value, c)) ec = storage_errc::corrupt_record;
    r.cursor_row = c.row;
  } else if (!st.IsNotFound()) {
    ec = to_error(st);
  }
  return r;
}

smsc_report log_reader::smsc(std::string_view smsc, std::error_code& ec) const {
  smsc_report r;
  r.smsc = smsc;
  const stats s = get_stats(impl_->handles, stats_smsc, smsc, ec);
  if (ec) return r;
  r.parts = counts_of(s);
  r.in_doubt = static_cast<std::uint64_t>(std::max<std::int64_t>(s.in_doubt, 0));
  r.orphans_expired = s.orphans_expired;
  r.delivery_rate = delivery_rate(r.parts);
  r.submit_to_resp = summarise(s.submit_to_resp);
  r.submit_to_receipt = summarise(s.submit_to_receipt);
  // Parked receipts are bounded (reconciler_options::max_parked).
  impl_->each_orphan(
      [&](const parked_receipt& p) {
        if (p.smsc == smsc) ++r.orphans_kept;
        return true;
      },
      ec);
  return r;
}

std::vector<std::string> log_reader::campaigns(std::error_code& ec) const {
  return impl_->stats_names(stats_campaign, ec);
}

std::vector<std::string> log_reader::smscs(std::error_code& ec) const {
  return impl_->stats_names(stats_smsc, ec);
}

std::optional<message_view> log_reader::message(std::uint64_t id, std::error_code& ec) const {
  auto r = get_record(impl_->handles, id, ec);
  if (!r) return std::nullopt;
  message_view v;
  v.timeline = timeline_of(*r);
  v.record = std::move(*r);
  return v;
}

std::optional<std::uint64_t> log_reader::find_idempotent(std::string_view key,
                                                         std::error_code& ec) const {
  return get_idempotent(impl_->handles, key, ec);
}

std::vector<std::uint64_t> log_reader::messages_to(std::string_view recipient,
                                                   std::int64_t since_us, std::int64_t until_us,
                                                   std::size_t limit, std::error_code& ec) const {
  return detail::messages_to(impl_->handles, recipient, since_us, until_us, limit, ec);
}

std::optional<reply_record> log_reader::reply(std::uint64_t id, std::error_code& ec) const {
  return get_reply(impl_->handles, id, ec);
}

std::vector<reply_record> log_reader::replies_from(std::string_view customer, std::size_t limit,
                                                   std::error_code& ec) const {
  return detail::replies_from(impl_->handles, customer, limit, ec);
}

std::vector<orphan_receipt> log_reader::orphans(std::size_t limit, std::error_code& ec) const {
  std::vector<orphan_receipt> out;
  if (limit == 0) return out;
  impl_->each_orphan(
      [&](const parked_receipt& p) {
        out.push_back({p.smsc, p.receipt_id, p.st, p.error_code, p.parked_us, p.destination});
        return out.size() < limit;
      },
      ec);
  return out;
}

std::vector<timeline_entry> log_reader::timeline_of(const message_record& r) {
  using kind = timeline_entry::kind;
  std::vector<timeline_entry> t;
  t.push_back({r.queued_us, -1, kind::queued, state::queued, 0, 0, {}, cause::engine});
  for (std::size_t i = 0; i < r.parts.size(); ++i) {
    const part_record& p = r.parts[i];
    const int part = static_cast<int>(i);
    if (p.submitted_us != 0)
      t.push_back({p.submitted_us, part, kind::submitted, state::submitting, 0, p.attempts, p.smsc,
                   cause::engine});
    if (p.resp_us != 0) {
      // The state the resp left the part in: accepted, or the retrying /
      // failed it caused.
      const state after = p.st == state::retrying || p.st == state::failed ? p.st : state::accepted;
      t.push_back({p.resp_us, part, kind::resp, after, p.command_status, p.attempts, p.smsc,
                   cause::engine});
    }
    if (p.receipt_us != 0)
      t.push_back({p.receipt_us, part, kind::receipt, p.st, p.error_code, p.attempts, p.smsc,
                   p.settled_by});
    else if (is_terminal(p.st))
      // Final without a receipt: by the engine's verdict or by recovery;
      // its time is not kept, so it sorts after what is known.
      t.push_back({std::max({r.queued_us, p.submitted_us, p.resp_us}), part, kind::settled, p.st,
                   p.error_code, p.attempts, p.smsc, p.settled_by});
  }
  std::stable_sort(t.begin(), t.end(),
                   [](const timeline_entry& a, const timeline_entry& b) { return a.at_us < b.at_us; });
  return t;
}

}  // namespace storage
