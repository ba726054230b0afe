// smsc_sim: the server side of smsc-sim, an SMSC that speaks SMPP 3.4 to
// any number of ESMEs for demos, tests and benchmarks. It accepts binds,
// answers submit_sm / submit_multi / data_sm with unique message ids,
// sends delivery receipts and customers' replies (MO) as deliver_sm, and
// injects faults on demand (throttling, rejections, delays, dropped
// connections, silence on enquire_link).
//
// Threads: `threads` io_contexts, one thread each; a connection lives on
// one of them for life, so its state needs no lock. What connections of
// one system_id share (bind counts, the TPS window, receipts waiting for a
// receiver) sits in a registry behind a mutex that is taken per bind and
// per batch of rerouted receipts, never per PDU. Counters are atomics,
// readable from any thread.
//
// Use from one controlling thread: construct, start(), attach signal
// handlers to control_context(), run() (blocks), and stop() from any
// thread (a signal handler on control_context() included). counts_json()
// may be called from any thread at any time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "smpp/command_status.hpp"
#include "smpp/receipt.hpp"
#include "smpp/text.hpp"

namespace smpp {

enum class sim_id_format : std::uint8_t {
  decimal,    // "1712345678901234"
  hex_lower,  // "615b1a2c3d4e2"
  hex_upper,  // "615B1A2C3D4E2"
};

// One --reject rule: answer `fraction` of submits with `status`.
struct sim_reject {
  double fraction = 0;
  command_status status = command_status::ESME_RSYSERR;
};

// One entry of the receipt mix: final state and its weight.
struct sim_receipt_weight {
  message_state state = message_state::delivered;
  std::uint32_t weight = 0;
};

// One MO (a customer's reply) of a script.
struct sim_mo {
  std::string from;  // source_addr: the customer's number
  std::string to;    // destination_addr: the short code or long number
  std::string text;  // UTF-8
};

struct smsc_sim_options {
  // Listening. An IP literal; port 0 picks a free port.
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 2775;
  std::string tls_cert_file;  // both set: SMPP over TLS
  std::string tls_key_file;
  unsigned threads = 1;

  // Binds. Unset system_id / password: any is accepted.
  std::optional<std::string> system_id;
  std::optional<std::string> password;
  unsigned max_binds = 0;  // per system_id, 0 = unlimited
  // A connection that closes without unbind keeps counting against
  // max_binds this long.
  std::chrono::milliseconds stale_bind_hold{0};
  // Send enquire_link to a bound connection after this long without
  // input; 0 = never.
  std::chrono::milliseconds enquire_link_interval{0};

  // Submits.
  sim_id_format id_format = sim_id_format::decimal;
  std::chrono::milliseconds resp_delay{0};
  std::uint32_t tps_cap = 0;        // per system_id and second, 0 = none
  std::vector<sim_reject> rejects;  // fractions add up to at most 1
  bool count_destinations = false;
  // With arrivals_file set: one line "DESTINATION UNIX_MICROSECONDS" is
  // appended to it for every submit to a destination_addr starting with
  // arrivals_prefix, at the time the sim decodes it (answered or not).
  // Benchmarks measure latency up to the wire with it.
  std::string arrivals_file;
  std::string arrivals_prefix;

  // Receipts.
  std::chrono::milliseconds receipt_delay{0};  // after the resp
  std::vector<sim_receipt_weight> receipt_mix;  // empty: all delivered
  double receipt_before_resp = 0;               // fraction, 0..1
  std::size_t receipt_queue_limit = 100000;     // per system_id, while no receiver is bound
  std::uint64_t seed = 1;

  // Faults.
  std::uint64_t drop_after = 0;  // PDUs received; the last one is not answered
  std::chrono::milliseconds drop_every{0};
  bool answer_enquire_link = true;

  // MO. A script is sent once, from the first receiver or transceiver
  // bind on; without one, mo_rate > 0 generates MOs from mo_text, in
  // which "{n}" stands for the MO's number (1, 2, ...).
  std::optional<std::vector<sim_mo>> mo_script;
  double mo_rate = 0;  // per second; 0 = a script as fast as possible
  std::string mo_text = "Reply {n}";
  std::string mo_from = "447700900001";
  std::string mo_to = "12345";
  std::uint64_t mo_count = 0;  // generated MOs, 0 = unlimited
  std::optional<text_encoding> mo_encoding;  // nullopt: automatic
  // Tests inject MOs by writing files here (see sim_options.cpp, --mo-inject-dir).
  std::string mo_inject_dir;
  // MO parts not acknowledged (the connection closed first, or a temporary
  // error) are sent again to the next receiver.
  bool mo_redeliver = false;
};

class smsc_sim {
 public:
  explicit smsc_sim(smsc_sim_options options);
  ~smsc_sim();
  smsc_sim(const smsc_sim&) = delete;
  smsc_sim& operator=(const smsc_sim&) = delete;

  // Loads the TLS certificate and key (when set) and starts listening. On
  // failure returns the error and sets `what` to a sentence naming the
  // file or address.
  [[nodiscard]] std::error_code start(std::string& what);

  // After start(): where it listens, "127.0.0.1:2775" or "[::1]:2775", and
  // the port alone.
  std::string listening_address() const;
  std::uint16_t port() const;

  // The io_context run by the thread that calls run(): for the caller's
  // signal_set and timers.
  boost::asio::io_context& control_context();

  // Serves until stop(). Connections stay open until the smsc_sim is
  // destroyed.
  void run();
  // Any thread; idempotent.
  void stop();

  // The counters as one JSON object, one line: every counter of
  // SMPP_SIM_COUNTERS (smpp/detail/sim_shared.hpp) summed over threads,
  // "receipts_held" (waiting for a receiver), "submit_resps" and
  // "binds_refused" as objects keyed by status name ("ESME_RTHROTTLED", or
  // "0x00000400" for a status without one), and with count_destinations
  // "destinations": destination_addr -> submits.
  std::string counts_json() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The stat word of a receipt's text form ("DELIVRD", "UNDELIV"); "" for a
// state that is not final.
std::string_view receipt_stat_word(message_state s) noexcept;

}  // namespace smpp
