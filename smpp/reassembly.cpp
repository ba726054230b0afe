#include "smpp/reassembly.hpp"

#include <algorithm>
#include <functional>
#include <string_view>

namespace smpp {

std::optional<reassembled> reassembler::add(std::string_view key,
                                            std::span<const std::uint8_t> short_message,
                                            bool udhi, std::uint8_t data_coding,
                                            const decode_options& options,
                                            std::optional<sar_info> sar, clock::time_point now,
                                            std::error_code& ec) {
  udh_info udh;
  detail::alphabet kind{};
  std::vector<std::uint8_t> units;
  ec = detail::extract_units(short_message, udhi, data_coding, options, std::nullopt, udh, kind,
                             units);
  if (ec) return std::nullopt;

  std::uint16_t ref = udh.reference;
  std::uint8_t total = udh.total, seq = udh.seqnum;
  if (!udh.concatenated && sar) {
    if (sar->total == 0 || sar->seqnum == 0 || sar->seqnum > sar->total) {
      ec = text_errc::invalid_udh;
      return std::nullopt;
    }
    ref = sar->reference, total = sar->total, seq = sar->seqnum;
  }
  if (total <= 1) {
    reassembled r{std::string(key), 0, {}, 1, 1};
    detail::units_to_utf8(kind, udh.locking_shift, udh.single_shift, units, r.utf8);
    return r;
  }

  const id k{std::string(key), ref, total};
  if (auto done = completed_.find(k); done != completed_.end()) {
    if (done->second.part_hashes[seq - 1] == hash_units(units)) return std::nullopt;
    completed_.erase(done);  // same numbers, new content: a new message
  }
  auto [it, inserted] = pending_.try_emplace(k);
  entry& e = it->second;
  if (inserted) {
    e.first_seen = now;
    e.kind = kind;
    e.locking = udh.locking_shift;
    e.single = udh.single_shift;
    e.parts.resize(total);
  }
  auto& slot = e.parts[seq - 1];
  if (slot) return std::nullopt;  // duplicate
  slot = std::move(units);
  ++e.received;
  if (e.received < total) return std::nullopt;
  reassembled r = finish(k, e);
  completed c{now, {}};
  for (const auto& part : e.parts) c.part_hashes.push_back(hash_units(*part));
  completed_.insert_or_assign(k, std::move(c));
  pending_.erase(it);
  return r;
}

std::size_t reassembler::hash_units(const std::vector<std::uint8_t>& units) noexcept {
  return std::hash<std::string_view>{}(
      {reinterpret_cast<const char*>(units.data()), units.size()});
}

reassembled reassembler::finish(const id& k, const entry& e) {
  reassembled r{std::get<0>(k), std::get<1>(k), {}, std::get<2>(k), e.received};
  std::vector<std::uint8_t> joined;
  for (const auto& p : e.parts)
    if (p) joined.insert(joined.end(), p->begin(), p->end());
  detail::units_to_utf8(e.kind, e.locking, e.single, joined, r.utf8);
  return r;
}

std::vector<reassembled> reassembler::expire(clock::time_point now, clock::duration max_wait) {
  std::vector<reassembled> out;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second.first_seen >= max_wait) {
      out.push_back(finish(it->first, it->second));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(completed_, [&](const auto& c) { return now - c.second.at >= max_wait; });
  while (completed_.size() > max_pending_) {
    auto oldest = std::min_element(completed_.begin(), completed_.end(), [](auto& a, auto& b) {
      return a.second.at < b.second.at;
    });
    completed_.erase(oldest);
  }
  while (pending_.size() > max_pending_) {
    auto oldest = std::min_element(pending_.begin(), pending_.end(), [](auto& a, auto& b) {
      return a.second.first_seen < b.second.first_seen;
    });
    out.push_back(finish(oldest->first, oldest->second));
    pending_.erase(oldest);
  }
  return out;
}

}  // namespace smpp
