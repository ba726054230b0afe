// Routing: an E.164 number to its operator by the longest matching prefix
// (or the default operator), then to one of the operator's SMSCs by
// weight, skipping SMSCs that have no live bind (failover).
//
// The choice between live SMSCs is smooth weighted round robin: over any
// run of picks each SMSC gets its share of the weights, interleaved
// rather than in bursts. Built once from the configuration; route() is
// const, pick() keeps per-operator state: one thread (the dispatcher).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace engine {

struct route_target {
  std::size_t smsc = 0;  // index into the engine's SMSC list
  unsigned weight = 1;
};

struct operator_route_table {
  std::string name;
  std::vector<std::string> prefixes;  // "+3706"
  std::vector<route_target> smscs;
  bool removed = false;  // gone after a reload: no prefixes, no SMSCs; kept so indexes stay
};

class router {
 public:
  router(std::vector<operator_route_table> operators, std::optional<std::size_t> default_operator);

  // The operator for a number in E.164 form; nullopt when no prefix
  // matches and there is no default.
  std::optional<std::size_t> route(std::string_view e164) const;

  // One of the operator's SMSCs for which live(smsc) holds; nullopt when
  // none is live.
  std::optional<std::size_t> pick(std::size_t op, const std::function<bool(std::size_t)>& live);

  std::size_t operators() const noexcept { return ops_.size(); }
  const std::string& name(std::size_t op) const { return ops_[op].name; }

 private:
  struct op_state {
    std::string name;
    std::vector<route_target> smscs;
    std::vector<long long> current;  // smooth weighted round robin state
  };
  std::vector<op_state> ops_;
  std::unordered_map<std::string, std::size_t> by_prefix_;  // digits without '+'
  std::size_t longest_ = 0;
  std::optional<std::size_t> default_;
};

}  // namespace engine
