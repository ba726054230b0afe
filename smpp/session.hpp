// The ESME side of one SMPP session, without I/O ("sans-I/O"): it turns
// bytes read from the SMSC, the passing of time and the engine's requests
// into bytes to write and events for a handler. The Asio driver
// (client.hpp) owns the socket and feeds it; tests feed it directly.
//
// What it does (SMPP 3.4 sections 2.2-2.9):
//   - binds as transmitter, receiver or transceiver and reports the verdict;
//   - keeps a window of at most `window` outstanding requests, each with
//     its own deadline; sequence numbers run 1..0x7FFFFFFF and wrap;
//     responses are matched by sequence number only; a response after its
//     request timed out is reported as late, to that request's tag;
//   - sends enquire_link after `enquire_link_interval` without traffic
//     from the SMSC; a missing enquire_link_resp means the link is dead;
//   - answers enquire_link, unbind, and unknown or malformed requests
//     (generic_nack or the request's own error resp); passes deliver_sm and
//     data_sm to the handler and answers them only when the handler calls
//     respond(), so nothing is acknowledged before the engine has it safe;
//   - drains and unbinds on request.
//
// Bytes out: every PDU is encoded straight into one output buffer, so many
// PDUs leave in one write. The driver takes the buffer (take_output) and
// reports how much reached the socket (on_written). When the connection
// ends, requests whose bytes were fully written are reported "in doubt"
// (session_errc::connection_lost: the SMSC may have them); requests still
// (partly) in the buffer are reported "not_sent" (safe to send again).
//
// Threads: one session is used by one thread (its io_context) for life;
// handler callbacks run inside the session's calls on that thread and may
// call submit()/respond() again. Views handed to the handler point into
// the read buffer and live until the callback returns.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "smpp/codec.hpp"
#include "smpp/command_status.hpp"
#include "smpp/pdu.hpp"
#include "smpp/window.hpp"

namespace smpp {

enum class session_errc {
  response_timeout = 1,  // no response within the request's timeout (outcome unknown)
  connection_lost,       // written, then the connection ended before the response: in doubt
  not_sent,              // never (completely) written: safe to send again
  not_bound,             // the session cannot send requests now
  window_full,           // no room in the window
  bind_refused,          // the SMSC answered the bind with an error status
  bind_timeout,          // no bind response in time
  link_dead,             // no enquire_link_resp in time
  peer_unbound,          // the SMSC sent unbind
  framing_lost,          // the SMSC sent an impossible command_length
  peer_closed,           // the SMSC closed the connection
  unbound,               // we unbound (shutdown)
  stale_token,           // respond() for a PDU of an earlier connection
  unexpected_pdu,        // a request the ESME must not send (bind, unbind, resps)
};
const std::error_category& session_category() noexcept;
inline std::error_code make_error_code(session_errc e) noexcept {
  return {static_cast<int>(e), session_category()};
}

enum class bind_type : std::uint8_t { transmitter, receiver, transceiver };
std::string_view name(bind_type t) noexcept;
constexpr bool can_send(bind_type t) noexcept { return t != bind_type::receiver; }
constexpr bool can_receive(bind_type t) noexcept { return t != bind_type::transmitter; }

struct session_options {
  std::uint32_t id = 0;  // the caller's name for this session (a bind pool's index)
  bind_type type = bind_type::transceiver;
  std::string system_id;
  std::string password;  // never logged
  std::string system_type;
  std::uint8_t interface_version = 0x34;
  std::uint8_t addr_ton = 0;
  std::uint8_t addr_npi = 0;
  std::string address_range;
  std::size_t window = 64;  // outstanding requests of the engine
  std::chrono::milliseconds response_timeout{10000};
  std::chrono::milliseconds bind_timeout{10000};
  std::chrono::milliseconds enquire_link_interval{30000};  // idle time before a probe
  std::chrono::milliseconds unbind_timeout{2000};
  std::uint32_t max_command_length = default_max_command_length;
  // The first sequence number on each connection (tests start near the
  // 0x7FFFFFFF wrap).
  std::uint32_t first_sequence = 1;
};

// A request the SMSC sent (deliver_sm, data_sm) waiting for the engine's
// verdict. Valid for the connection it came on only.
struct inbound_token {
  std::uint32_t session = 0;     // session_options::id
  std::uint64_t connection = 0;  // which connection of that session
  std::uint32_t sequence_number = 0;
  command_id request = command_id::deliver_sm;
};

// The outcome of a request the engine sent.
struct response {
  std::error_code ec;  // empty when a response PDU came (whatever its status)
  command_id request = command_id::submit_sm;
  command_status status = command_status::ESME_ROK;  // the SMSC's verdict
  std::string_view message_id;  // submit_sm_resp / data_sm_resp / submit_multi_resp
  const pdu* resp = nullptr;    // the whole response PDU (nullptr without one)
  bool late = false;            // came after the request had been reported as timed out
};

class session_handler {
 public:
  virtual ~session_handler() = default;
  virtual void on_bound(std::uint32_t session, std::string_view smsc_system_id) = 0;
  // The bind was refused (status) or failed (ec); the connection will end.
  virtual void on_bind_failed(std::uint32_t session, std::error_code ec, command_status status) = 0;
  virtual void on_response(std::uint32_t session, std::uint64_t tag, const response& r) = 0;
  // deliver_sm / data_sm from the SMSC. Call session::respond (now or
  // later, on the session's thread) with the verdict.
  virtual void on_inbound(std::uint32_t session, inbound_token token, const pdu& p) = 0;
  // The session ended (ec says why); every outstanding request has been
  // reported before this call.
  virtual void on_closed(std::uint32_t session, std::error_code ec) = 0;
  // Room appeared in the window (after responses, after binding).
  virtual void on_ready(std::uint32_t /*session*/) {}
};

struct session_counters {
  std::uint64_t requests_sent = 0;
  std::uint64_t responses = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t late_responses = 0;
  std::uint64_t stray_responses = 0;  // matching no request, not even a timed-out one
  std::uint64_t in_doubt = 0;
  std::uint64_t not_sent = 0;
  std::uint64_t inbound = 0;
  std::uint64_t enquire_links_sent = 0;
  std::uint64_t enquire_links_answered = 0;
  std::uint64_t generic_nacks_sent = 0;
  std::uint64_t generic_nacks_received = 0;
  std::uint64_t decode_errors = 0;
};

class session {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  enum class state : std::uint8_t {
    closed,     // no connection (or it ended)
    binding,    // bind sent
    bound,
    draining,   // unbind requested: waiting for outstanding responses
    unbinding,  // unbind sent
  };

  session(session_options options, session_handler& handler);

  const session_options& options() const noexcept { return options_; }
  state current_state() const noexcept { return state_; }
  bool is_bound() const noexcept { return state_ == state::bound; }
  bool closed() const noexcept { return state_ == state::closed; }
  std::error_code close_reason() const noexcept { return close_reason_; }
  // Requests of the engine that fit in the window now (0 unless bound).
  std::size_t room() const noexcept;
  std::size_t outstanding() const noexcept { return user_outstanding_; }
  const session_counters& counters() const noexcept { return counters_; }

  // ---- Driver side --------------------------------------------------

  // A new connection is up: queues the bind.
  void on_connected(time_point now);
  // Where the driver reads into: at least `min` writable octets.
  std::span<std::uint8_t> read_space(std::size_t min = 4096);
  // `n` octets were read into read_space(): processes every complete PDU.
  void on_read(std::size_t n, time_point now);
  // Timeouts and keep-alive; call at least every tick_interval().
  void on_tick(time_point now);
  std::chrono::milliseconds tick_interval() const noexcept;
  // Swaps the pending output into `buf` (which must be empty). False when
  // there is nothing to write.
  bool take_output(std::vector<std::uint8_t>& buf);
  // `n` octets of what take_output handed over reached the socket.
  void on_written(std::size_t n) noexcept { written_ += n; }
  // The connection ended (read/write error, EOF, or the driver closed it
  // because closed() became true). Reports every outstanding request and
  // calls on_closed. `why` is used unless the session already knows.
  void on_disconnected(std::error_code why);

  // ---- Engine side --------------------------------------------------

  // Sends a request (submit_sm, data_sm, submit_multi, query_sm, cancel_sm,
  // replace_sm). The PDU's views need only live during the call. Its
  // sequence number is assigned here. The outcome arrives in on_response
  // with `tag`. Fails (nothing sent) with not_bound, window_full, or a
  // codec error naming a field the SMSC would reject.
  [[nodiscard]] std::error_code submit(pdu_body body, std::uint64_t tag, time_point now,
                                       std::chrono::milliseconds timeout = {});
  // Answers an inbound request with `status` (and a message_id for the
  // resp, usually empty).
  [[nodiscard]] std::error_code respond(const inbound_token& t, command_status status,
                                        std::string_view message_id = {});
  // Graceful end: no new requests; when outstanding ones are answered or
  // `deadline` passes, unbind; closed() turns true when the unbind_resp
  // comes or unbind_timeout passes. A session that is not bound closes at once.
  void unbind(time_point now, time_point deadline);

 private:
  enum class internal : std::uint8_t { none, bind, enquire_link, unbind };
  struct request {
    std::uint64_t tag = 0;
    std::uint64_t end_offset = 0;  // output stream offset just past this PDU
    command_id id = command_id::submit_sm;
    internal kind = internal::none;
  };

  std::uint32_t next_sequence() noexcept;
  bool send_pdu(const pdu& p);  // encodes into out_; false on an encode error
  std::error_code encode_error_;
  void send_request(pdu_body body, internal kind, time_point deadline, std::uint64_t tag);
  void send_unbind(time_point now);
  void handle(const pdu& p, time_point now);
  void handle_response(const pdu& p, time_point now);
  void handle_decode_error(const decode_result& r);
  void close(std::error_code why);
  void report_ready();

  session_options options_;
  session_handler& handler_;
  state state_ = state::closed;
  std::error_code close_reason_;
  std::uint64_t connection_ = 0;

  window<request> window_;
  std::size_t user_outstanding_ = 0;
  std::uint32_t sequence_ = 0;
  bool probe_outstanding_ = false;
  time_point last_rx_{};
  time_point drain_deadline_{};

  std::vector<std::uint8_t> in_;
  std::size_t in_begin_ = 0, in_end_ = 0;
  std::vector<std::uint8_t> out_;
  std::uint64_t produced_ = 0;  // octets ever appended to out_ on this connection
  std::uint64_t written_ = 0;   // octets the driver wrote on this connection

  session_counters counters_;
};

}  // namespace smpp

template <>
struct std::is_error_code_enum<smpp::session_errc> : std::true_type {};
