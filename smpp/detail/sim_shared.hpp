// What smsc-sim's connections share: the counters, the per-thread worker
// (io_context, message-id block, destination counts), and the registry of
// binds per system_id that routes receipts between connections and holds
// them while no receiver is bound.
//
// Threads: counters are atomics bumped by whichever thread counts (in
// practice the connection's own). The registry's methods may be called
// from any thread; they take its mutex, once per bind or per batch of
// receipts. A worker's io_context and id block belong to its thread; its
// destination map has its own mutex because counts_json() reads it from
// the control thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "smpp/command_status.hpp"
#include "smpp/receipt.hpp"
#include "smpp/smsc_sim.hpp"

namespace smpp::detail {

using sim_clock = std::chrono::steady_clock;

// Lets maps keyed by std::string be searched with a string_view, without
// building a string (the destination counts, per submit).
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

inline void bump(std::atomic<std::uint64_t>& a, std::uint64_t n = 1) noexcept {
  a.fetch_add(n, std::memory_order_relaxed);
}

// Counts of one status-valued event (responses sent, binds refused): one
// slot per status below 0x100 (every status the specification defines),
// one per --reject status above it, and one for anything else.
class status_counts {
 public:
  explicit status_counts(const std::vector<sim_reject>& rejects)
      : rejects_(&rejects), slots_(256 + rejects.size() + 1) {}
  void add(std::uint32_t status) noexcept { bump(slots_[slot(status)]); }
  // Appends `"NAME":count` pairs of the nonzero slots to `json`, summed
  // with the same slots of `others`.
  static void to_json(const std::vector<const status_counts*>& all, std::string& json);

 private:
  std::size_t slot(std::uint32_t status) const noexcept {
    if (status < 256) return status;
    for (std::size_t i = 0; i < rejects_->size(); ++i)
      if (static_cast<std::uint32_t>((*rejects_)[i].status) == status) return 256 + i;
    return slots_.size() - 1;
  }
  const std::vector<sim_reject>* rejects_;
  std::vector<std::atomic<std::uint64_t>> slots_;
};

// X(name): every plain counter, in the order counts_json() prints them.
#define SMPP_SIM_COUNTERS(X)     \
  X(connections)                 \
  X(tls_handshake_failures)      \
  X(binds_transmitter)           \
  X(binds_receiver)              \
  X(binds_transceiver)           \
  X(unbinds)                     \
  X(submit_sm)                   \
  X(submit_multi)                \
  X(submit_multi_destinations)   \
  X(data_sm)                     \
  X(receipts_sent)               \
  X(receipts_acked)              \
  X(receipts_nacked)             \
  X(receipts_rerouted)           \
  X(receipts_dropped)            \
  X(mo_sent)                     \
  X(mo_parts_sent)               \
  X(mo_parts_acked)              \
  X(mo_parts_nacked)             \
  X(mo_parts_dropped)            \
  X(mo_parts_redelivered)        \
  X(mo_injected)                 \
  X(enquire_link_received)       \
  X(enquire_link_sent)           \
  X(enquire_link_resp_received)  \
  X(generic_nacks_sent)          \
  X(generic_nacks_received)      \
  X(dropped_drop_after)          \
  X(dropped_drop_every)          \
  X(closed_bad_framing)          \
  X(encode_failures)

struct alignas(64) sim_counters {
#define SMPP_SIM_COUNTER_FIELD(name) std::atomic<std::uint64_t> name{0};
  SMPP_SIM_COUNTERS(SMPP_SIM_COUNTER_FIELD)
#undef SMPP_SIM_COUNTER_FIELD
  status_counts submit_resps;
  status_counts binds_refused;
  explicit sim_counters(const std::vector<sim_reject>& rejects)
      : submit_resps(rejects), binds_refused(rejects) {}
};

// A delivery receipt waiting to be sent: everything needed to format it,
// copied out of the submit (the submit's buffer is gone by then).
// Addresses are as the receipt sends them: source = the submit's
// destination. Fixed size, so queues of them do not allocate per item.
struct receipt_item {
  sim_clock::time_point due;
  std::int64_t submit_time = 0;  // Unix seconds
  std::uint64_t id = 0;          // the message id, formatted on sending
  message_state state = message_state::delivered;
  std::uint8_t source_addr_ton = 0, source_addr_npi = 0;
  std::uint8_t dest_addr_ton = 0, dest_addr_npi = 0;
  std::uint8_t source_len = 0, dest_len = 0, text_len = 0;
  std::array<char, 20> source_addr{};  // deliver_sm allows 20 characters
  std::array<char, 20> destination_addr{};
  std::array<char, 20> text{};  // the first 20 characters of the submitted text
};

// One deliver_sm of an MO, ready to send.
struct mo_part {
  std::string source_addr;
  std::string destination_addr;
  std::uint8_t source_addr_ton = 0, source_addr_npi = 0;
  std::uint8_t esm_class = 0;
  std::uint8_t data_coding = 0;
  std::vector<std::uint8_t> short_message;  // UDH included (message_payload of a data_sm)
  bool data_sm = false;                     // sent as data_sm instead of deliver_sm
  std::uint16_t sar_reference = 0;          // SAR TLVs when sar_total > 0
  std::uint8_t sar_total = 0;
  std::uint8_t sar_seqnum = 0;
};

// A connection as others see it: something receipts and MOs can be
// handed to from any thread.
class sim_peer {
 public:
  virtual ~sim_peer() = default;
  // Thread-safe. The peer sends them from its own thread; if it has closed
  // meanwhile, receipts go back to the registry and MO parts are dropped.
  virtual void deliver(std::span<const receipt_item> receipts, std::vector<mo_part>&& mo) = 0;
};

// Everything of one system_id. The TPS window is lock-free (checked per
// submit); the rest is guarded by the registry's mutex.
struct sim_system {
  std::string system_id;
  std::atomic<std::int64_t> tps_window{-1};  // steady seconds of the current window
  std::atomic<std::uint32_t> tps_used{0};

  // Guarded by sim_registry::mutex_.
  unsigned active = 0;
  std::deque<sim_clock::time_point> stale_until;  // sorted: unclean closes still counting
  std::vector<std::weak_ptr<sim_peer>> receivers;  // rx-capable binds
  std::size_t next_receiver = 0;
  std::deque<receipt_item> held;  // receipts waiting for a receiver

  // One submit against the cap: true when it is within it.
  bool admit(std::uint32_t cap, sim_clock::time_point now) noexcept;
};

struct sim_worker {
  explicit sim_worker(const std::vector<sim_reject>& rejects) : counters(rejects) {}
  boost::asio::io_context ioc{1};
  sim_counters counters;
  // Message ids are handed out in blocks so that threads do not contend
  // on one atomic per submit. Owned by the worker's thread.
  std::uint64_t next_id = 0;
  std::uint64_t end_id = 0;
  std::mutex destinations_mutex;
  std::unordered_map<std::string, std::uint64_t, string_hash, std::equal_to<>> destinations;
};

class sim_registry {
 public:
  struct bind_result {
    command_status status = command_status::ESME_ROK;
    std::shared_ptr<sim_system> system;
    std::vector<receipt_item> held;  // for a receiver: receipts that waited for it
  };

  sim_registry(const smsc_sim_options& options, sim_counters& counters)
      : options_(options), counters_(counters) {}

  // A bind of `system_id` passed the credentials check: counts it unless
  // max_binds is reached (ESME_RALYBND).
  bind_result bind(std::string_view system_id, std::weak_ptr<sim_peer> receiver,
                   sim_clock::time_point now);
  // The bind ended: `clean` after an unbind; otherwise it keeps counting
  // for stale_bind_hold. Removes `self` from the receivers.
  void unbind(sim_system& system, const sim_peer* self, bool clean, sim_clock::time_point now);
  // Hands receipts to a receiver of the system, or holds them (bounded)
  // until one binds.
  void route(sim_system& system, std::span<const receipt_item> receipts);
  // A receiver of any system, round robin; null when none is bound.
  std::shared_ptr<sim_peer> any_receiver();
  std::size_t held_receipts();

 private:
  std::shared_ptr<sim_peer> pick_locked(sim_system& s);

  const smsc_sim_options& options_;
  sim_counters& counters_;  // for receipts dropped
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<sim_system>, string_hash, std::equal_to<>>
      systems_;
  std::size_t next_system_ = 0;
};

// The arrivals file (smsc_sim_options::arrivals_file): opened for
// appending; each line is one write(), so lines of different threads never
// mix.
class sim_arrivals {
 public:
  // Fails with errno's error (the caller names the file).
  static std::unique_ptr<sim_arrivals> open(const std::string& file, std::string prefix, std::error_code& ec);
  ~sim_arrivals();
  sim_arrivals(const sim_arrivals&) = delete;
  sim_arrivals& operator=(const sim_arrivals&) = delete;

  bool wanted(std::string_view destination) const noexcept { return destination.starts_with(prefix_); }
  // Writes "DESTINATION UNIX_MICROSECONDS" with the time now.
  void note(std::string_view destination) const;

 private:
  sim_arrivals(int fd, std::string prefix) : fd_(fd), prefix_(std::move(prefix)) {}
  int fd_;
  std::string prefix_;
};

// State shared by every connection of one smsc_sim.
struct sim_shared {
  sim_shared(const smsc_sim_options& o, sim_counters& control_counters);
  const smsc_sim_options& options;
  sim_registry registry;
  // Set by smsc_sim::start() before the first connection, when asked for.
  std::unique_ptr<sim_arrivals> arrivals;
  // The receipt mix as running sums of the weights (empty: all delivered).
  std::vector<std::uint32_t> mix_cumulative;
  std::atomic<std::uint64_t> next_id_block{0};
  std::atomic<std::uint64_t> connection_serial{0};
  std::atomic<bool> stopping{false};
  // With mo_redeliver: MO parts a connection wrote but that were not
  // acknowledged (it closed first, or the ESME answered with a temporary
  // error), to be sent again to a receiver, as a real SMSC retries them.
  void mo_unacked(std::vector<mo_part>&& parts);
  std::vector<mo_part> take_mo_unacked();

 private:
  std::mutex unacked_mutex_;
  std::vector<mo_part> unacked_;
};

}  // namespace smpp::detail
