#include "smpp/session.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace smpp {

namespace {

class session_category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "smpp.session"; }
  std::string message(int ev) const override {
    switch (static_cast<session_errc>(ev)) {
      case session_errc::response_timeout: return "no response within the timeout";
      case session_errc::connection_lost: return "connection lost after the request was written (in doubt)";
      case session_errc::not_sent: return "connection lost before the request was written";
      case session_errc::not_bound: return "session not bound for sending";
      case session_errc::window_full: return "window full";
      case session_errc::bind_refused: return "bind refused by the SMSC";
      case session_errc::bind_timeout: return "no bind response in time";
      case session_errc::link_dead: return "no enquire_link_resp in time: link dead";
      case session_errc::peer_unbound: return "the SMSC unbound";
      case session_errc::framing_lost: return "impossible command_length from the SMSC";
      case session_errc::peer_closed: return "the SMSC closed the connection";
      case session_errc::unbound: return "unbound";
      case session_errc::stale_token: return "the PDU came on an earlier connection";
      case session_errc::unexpected_pdu: return "not a request an ESME sends";
    }
    return "unknown session error";
  }
};

// The empty body of the PDU type with this command_id (for nacks and
// header-only resps); generic_nack for an id no PDU has.
template <std::size_t I = 0>
pdu_body empty_body_for(command_id id) {
  if constexpr (I == std::variant_size_v<pdu_body>) {
    return generic_nack{};
  } else {
    using alt = std::variant_alternative_t<I, pdu_body>;
    if (alt::id == id) return pdu_body{std::in_place_index<I>};
    return empty_body_for<I + 1>(id);
  }
}

bool engine_may_send(command_id id) noexcept {
  switch (id) {
    case command_id::submit_sm:
    case command_id::submit_multi:
    case command_id::data_sm:
    case command_id::query_sm:
    case command_id::cancel_sm:
    case command_id::replace_sm:
      return true;
    default:
      return false;
  }
}

std::string_view message_id_of(const pdu& p) noexcept {
  if (auto* r = p.get<submit_sm_resp>()) return r->message_id;
  if (auto* r = p.get<data_sm_resp>()) return r->message_id;
  if (auto* r = p.get<submit_multi_resp>()) return r->message_id;
  if (auto* r = p.get<query_sm_resp>()) return r->message_id;
  return {};
}

constexpr std::size_t initial_read_buffer = 64 * 1024;
constexpr std::size_t internal_slots = 4;  // bind / enquire_link / unbind beyond the engine's window

}  // namespace

const std::error_category& session_category() noexcept {
  static const session_category_impl c;
  return c;
}

std::string_view name(bind_type t) noexcept {
  switch (t) {
    case bind_type::transmitter: return "transmitter";
    case bind_type::receiver: return "receiver";
    case bind_type::transceiver: return "transceiver";
  }
  return "";
}

session::session(session_options options, session_handler& handler)
    : options_(std::move(options)),
      handler_(handler),
      window_(options_.window + internal_slots),
      in_(initial_read_buffer) {}

std::size_t session::room() const noexcept {
  if (state_ != state::bound || !can_send(options_.type)) return 0;
  return options_.window > user_outstanding_ ? options_.window - user_outstanding_ : 0;
}

std::chrono::milliseconds session::tick_interval() const noexcept {
  auto shortest = std::min({options_.response_timeout, options_.bind_timeout,
                            options_.enquire_link_interval, options_.unbind_timeout});
  return std::clamp(shortest / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
}

std::uint32_t session::next_sequence() noexcept {
  do {
    sequence_ = sequence_ >= 0x7FFFFFFFu ? 1 : sequence_ + 1;
  } while (window_.contains(sequence_));
  return sequence_;
}

bool session::send_pdu(const pdu& p) {
  const std::size_t size = encoded_size(p);
  const std::size_t at = out_.size();
  out_.resize(at + std::max<std::size_t>(size, header_size));
  auto r = encode(p, std::span(out_.data() + at, out_.size() - at));
  if (!r) {
    out_.resize(at);
    encode_error_ = r.ec;
    return false;
  }
  out_.resize(at + r.size);
  produced_ += r.size;
  return true;
}

void session::send_request(pdu_body body, internal kind, time_point deadline, std::uint64_t tag) {
  pdu p{0, next_sequence(), std::move(body)};
  if (!send_pdu(p)) return;  // our own fixed PDUs always encode
  window_.insert(p.sequence_number, deadline, request{tag, produced_, p.id(), kind});
}

void session::on_connected(time_point now) {
  ++connection_;
  state_ = state::binding;
  close_reason_.clear();
  in_begin_ = in_end_ = 0;
  out_.clear();
  produced_ = written_ = 0;
  sequence_ = options_.first_sequence - 1;  // next_sequence() turns 0 into 1
  probe_outstanding_ = false;
  last_rx_ = now;
  bind_body b;
  b.system_id = options_.system_id;
  b.password = options_.password;
  b.system_type = options_.system_type;
  b.interface_version = options_.interface_version;
  b.addr_ton = options_.addr_ton;
  b.addr_npi = options_.addr_npi;
  b.address_range = options_.address_range;
  pdu_body body;
  switch (options_.type) {
    case bind_type::transmitter: body = bind_transmitter{b}; break;
    case bind_type::receiver: body = bind_receiver{b}; break;
    case bind_type::transceiver: body = bind_transceiver{b}; break;
  }
  pdu p{0, next_sequence(), std::move(body)};
  if (!send_pdu(p)) {
    // A system_id or password longer than SMPP allows: the SMSC could only
    // refuse it, so it is refused here without a round trip.
    handler_.on_bind_failed(options_.id, encode_error_, command_status::ESME_RBINDFAIL);
    close(encode_error_);
    return;
  }
  window_.insert(p.sequence_number, now + options_.bind_timeout,
                 request{0, produced_, p.id(), internal::bind});
}

std::span<std::uint8_t> session::read_space(std::size_t min) {
  if (in_.size() - in_end_ < min) {
    if (in_begin_ > 0) {
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    }
    if (in_.size() - in_end_ < min) in_.resize(in_end_ + min);
  }
  return std::span(in_.data() + in_end_, in_.size() - in_end_);
}

void session::on_read(std::size_t n, time_point now) {
  in_end_ += n;
  const std::size_t room_before = room();
  while (state_ != state::closed) {
    auto avail = std::span<const std::uint8_t>(in_.data() + in_begin_, in_end_ - in_begin_);
    frame f = next_frame(avail, options_.max_command_length);
    if (f.status == frame::state::bad_length) {
      ++counters_.decode_errors;
      close(session_errc::framing_lost);
      break;
    }
    if (f.status == frame::state::need_more) {
      // Make sure a large PDU fits (within max_command_length).
      if (f.length > in_.size() - in_begin_) read_space(f.length - (in_end_ - in_begin_));
      break;
    }
    last_rx_ = now;
    pdu p;
    auto r = decode(avail.first(f.length), p);
    if (r)
      handle(p, now);
    else
      handle_decode_error(r);
    in_begin_ += f.length;
  }
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  if (room() > room_before) report_ready();
}

void session::report_ready() { handler_.on_ready(options_.id); }

void session::handle(const pdu& p, time_point now) {
  const command_id id = p.id();
  if (is_response(id)) {
    handle_response(p, now);
    return;
  }
  switch (id) {
    case command_id::enquire_link:
      ++counters_.enquire_links_answered;
      send_pdu(pdu{0, p.sequence_number, enquire_link_resp{}});
      return;
    case command_id::unbind:
      send_pdu(pdu{0, p.sequence_number, unbind_resp{}});
      close(session_errc::peer_unbound);
      return;
    case command_id::deliver_sm:
    case command_id::data_sm:
      if (state_ == state::binding || !can_receive(options_.type)) {
        // An SMSC that delivers before the bind completed, or to a
        // transmitter: refuse, it keeps the message and tries again.
        const command_id resp = static_cast<command_id>(static_cast<std::uint32_t>(id) | 0x80000000u);
        send_pdu(pdu{static_cast<std::uint32_t>(command_status::ESME_RINVBNDSTS), p.sequence_number,
                     empty_body_for(resp)});
        return;
      }
      ++counters_.inbound;
      handler_.on_inbound(options_.id, inbound_token{options_.id, connection_, p.sequence_number, id}, p);
      return;
    case command_id::alert_notification:
      return;  // no response exists; nothing in it concerns a sender
    default:
      // outbind, binds, submits, ...: not what an SMSC sends to an ESME.
      ++counters_.generic_nacks_sent;
      send_pdu(pdu{static_cast<std::uint32_t>(command_status::ESME_RINVCMDID), p.sequence_number,
                   generic_nack{}});
      return;
  }
}

void session::handle_response(const pdu& p, time_point now) {
  const bool nack = p.id() == command_id::generic_nack;
  if (nack) ++counters_.generic_nacks_received;
  auto e = window_.take(p.sequence_number);
  bool late = false;
  if (!e) {
    e = window_.take_timed_out(p.sequence_number);
    if (!e || e->value.kind != internal::none) {
      ++counters_.stray_responses;
      return;
    }
    late = true;
    ++counters_.late_responses;
  }
  request& rq = e->value;
  const auto status = static_cast<command_status>(p.command_status);
  switch (rq.kind) {
    case internal::bind:
      if (status == command_status::ESME_ROK && !nack) {
        state_ = state::bound;
        std::string_view smsc_id;
        if (auto* b = std::get_if<bind_transmitter_resp>(&p.body)) smsc_id = b->system_id;
        if (auto* b = std::get_if<bind_receiver_resp>(&p.body)) smsc_id = b->system_id;
        if (auto* b = std::get_if<bind_transceiver_resp>(&p.body)) smsc_id = b->system_id;
        handler_.on_bound(options_.id, smsc_id);
        report_ready();
      } else {
        handler_.on_bind_failed(options_.id, session_errc::bind_refused,
                                nack && status == command_status::ESME_ROK ? command_status::ESME_RBINDFAIL
                                                                           : status);
        close(session_errc::bind_refused);
      }
      return;
    case internal::enquire_link:
      probe_outstanding_ = false;
      return;
    case internal::unbind:
      close(session_errc::unbound);
      return;
    case internal::none:
      break;
  }
  ++counters_.responses;
  if (!late) --user_outstanding_;
  response r;
  r.request = rq.id;
  r.status = nack && status == command_status::ESME_ROK ? command_status::ESME_RSYSERR : status;
  r.message_id = message_id_of(p);
  r.resp = &p;
  r.late = late;
  handler_.on_response(options_.id, rq.tag, r);
  if (state_ == state::draining && user_outstanding_ == 0) send_unbind(now);
}

void session::handle_decode_error(const decode_result& r) {
  ++counters_.decode_errors;
  if (r.header.command_id & 0x80000000u) {
    // A response we cannot read: its request gets the failure, with the
    // status the SMSC gave if any. (An SMSC that accepted a submit but
    // wrote a broken message_id leaves the part in doubt.)
    auto e = window_.take(r.header.sequence_number);
    if (!e || e->value.kind != internal::none) {
      if (e && e->value.kind == internal::bind) {
        handler_.on_bind_failed(options_.id, r.ec, static_cast<command_status>(r.header.command_status));
        close(session_errc::bind_refused);
      }
      return;
    }
    --user_outstanding_;
    response resp;
    resp.ec = r.ec;
    resp.request = e->value.id;
    resp.status = static_cast<command_status>(r.header.command_status);
    handler_.on_response(options_.id, e->value.tag, resp);
    return;
  }
  const command_id nack_id = nack_command_for(r);
  if (nack_id == command_id::generic_nack) ++counters_.generic_nacks_sent;
  send_pdu(pdu{static_cast<std::uint32_t>(r.status), r.header.sequence_number, empty_body_for(nack_id)});
}

void session::on_tick(time_point now) {
  if (state_ == state::closed) return;
  window_.expire(now, [&](window<request>::entry&& e) {
    switch (e.value.kind) {
      case internal::bind:
        handler_.on_bind_failed(options_.id, session_errc::bind_timeout, command_status::ESME_ROK);
        close(session_errc::bind_timeout);
        return;
      case internal::enquire_link:
        probe_outstanding_ = false;
        close(session_errc::link_dead);
        return;
      case internal::unbind:
        close(session_errc::unbound);
        return;
      case internal::none:
        break;
    }
    --user_outstanding_;
    ++counters_.timeouts;
    response r;
    r.ec = session_errc::response_timeout;
    r.request = e.value.id;
    handler_.on_response(options_.id, e.value.tag, r);
  });
  if (state_ == state::closed) return;
  if ((state_ == state::bound || state_ == state::draining) && !probe_outstanding_ &&
      now - last_rx_ >= options_.enquire_link_interval) {
    probe_outstanding_ = true;
    ++counters_.enquire_links_sent;
    send_request(enquire_link{}, internal::enquire_link, now + options_.response_timeout, 0);
  }
  if (state_ == state::draining && (user_outstanding_ == 0 || now >= drain_deadline_)) send_unbind(now);
}

bool session::take_output(std::vector<std::uint8_t>& buf) {
  if (out_.empty()) return false;
  std::swap(out_, buf);
  return true;
}

std::error_code session::submit(pdu_body body, std::uint64_t tag, time_point now,
                                std::chrono::milliseconds timeout) {
  pdu p{0, 0, std::move(body)};
  const command_id id = p.id();
  if (!engine_may_send(id)) return session_errc::unexpected_pdu;
  if (state_ != state::bound || !can_send(options_.type)) return session_errc::not_bound;
  if (user_outstanding_ >= options_.window) return session_errc::window_full;
  p.sequence_number = next_sequence();
  if (!send_pdu(p)) return encode_error_;
  window_.insert(p.sequence_number, now + (timeout.count() > 0 ? timeout : options_.response_timeout),
                 request{tag, produced_, id, internal::none});
  ++user_outstanding_;
  ++counters_.requests_sent;
  return {};
}

std::error_code session::respond(const inbound_token& t, command_status status,
                                 std::string_view message_id) {
  if (t.connection != connection_ || state_ == state::closed) return session_errc::stale_token;
  pdu p{static_cast<std::uint32_t>(status), t.sequence_number, deliver_sm_resp{}};
  if (t.request == command_id::data_sm) {
    data_sm_resp r;
    r.message_id = message_id;
    p.body = r;
  } else {
    deliver_sm_resp r;
    r.message_id = message_id;
    p.body = r;
  }
  if (!send_pdu(p)) return encode_error_;
  return {};
}

void session::unbind(time_point now, time_point deadline) {
  switch (state_) {
    case state::closed:
    case state::unbinding:
      return;
    case state::binding:
      close(session_errc::unbound);
      return;
    case state::bound:
      state_ = state::draining;
      drain_deadline_ = deadline;
      if (user_outstanding_ == 0) send_unbind(now);
      return;
    case state::draining:
      drain_deadline_ = std::min(drain_deadline_, deadline);
      return;
  }
}

void session::send_unbind(time_point now) {
  state_ = state::unbinding;
  send_request(smpp::unbind{}, internal::unbind, now + options_.unbind_timeout, 0);
}

void session::close(std::error_code why) {
  if (state_ == state::closed) return;
  state_ = state::closed;
  close_reason_ = why;
}

void session::on_disconnected(std::error_code why) {
  if (state_ != state::closed || !close_reason_) close_reason_ = why;
  const bool was_binding = state_ == state::binding;
  state_ = state::closed;
  const std::uint64_t written = written_;
  window_.drain([&](window<request>::entry&& e) {
    if (e.value.kind == internal::bind && was_binding) {
      handler_.on_bind_failed(options_.id, close_reason_, command_status::ESME_ROK);
      return;
    }
    if (e.value.kind != internal::none) return;
    response r;
    r.request = e.value.id;
    if (e.value.end_offset <= written) {
      r.ec = session_errc::connection_lost;
      ++counters_.in_doubt;
    } else {
      r.ec = session_errc::not_sent;
      ++counters_.not_sent;
    }
    handler_.on_response(options_.id, e.value.tag, r);
  });
  user_outstanding_ = 0;
  probe_outstanding_ = false;
  out_.clear();
  in_begin_ = in_end_ = 0;
  ++connection_;  // tokens of the old connection are stale from now on
  handler_.on_closed(options_.id, close_reason_);
}

}  // namespace smpp
