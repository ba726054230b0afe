#include "engine/router.hpp"

#include <algorithm>

namespace engine {

router::router(std::vector<operator_route_table> operators, std::optional<std::size_t> default_operator)
    : default_(default_operator) {
  for (std::size_t i = 0; i < operators.size(); ++i) {
    auto& o = operators[i];
    for (auto& p : o.prefixes) {
      std::string digits = p.starts_with('+') ? p.substr(1) : p;
      longest_ = std::max(longest_, digits.size());
      by_prefix_.emplace(std::move(digits), i);
    }
    op_state s;
    s.name = std::move(o.name);
    s.smscs = std::move(o.smscs);
    s.current.assign(s.smscs.size(), 0);
    ops_.push_back(std::move(s));
  }
}

std::optional<std::size_t> router::route(std::string_view e164) const {
  std::string_view digits = e164.starts_with('+') ? e164.substr(1) : e164;
  for (std::size_t n = std::min(longest_, digits.size()); n > 0; --n)
    if (auto it = by_prefix_.find(std::string(digits.substr(0, n))); it != by_prefix_.end()) return it->second;
  return default_;
}

std::optional<std::size_t> router::pick(std::size_t op, const std::function<bool(std::size_t)>& live) {
  auto& s = ops_[op];
  long long total = 0;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < s.smscs.size(); ++i) {
    if (!live(s.smscs[i].smsc)) continue;
    s.current[i] += s.smscs[i].weight;
    total += s.smscs[i].weight;
    if (!best || s.current[i] > s.current[*best]) best = i;
  }
  if (!best) return std::nullopt;
  s.current[*best] -= total;
  return s.smscs[*best].smsc;
}

}  // namespace engine
