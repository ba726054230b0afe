#include "smpp/detail/sim_session.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "smpp/codec.hpp"
#include "smpp/detail/sim_buffers.hpp"

namespace smpp::detail {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using enum command_status;

// Stop reading while this much output waits for a client that does not
// read its responses; resume below the low mark.
constexpr std::size_t output_high_water = 8u << 20;
constexpr std::size_t output_low_water = 1u << 20;
constexpr std::size_t read_chunk = 64u << 10;
// The delay timer drains everything due within this slack at once, so a
// steady stream of delayed items costs one wake-up per millisecond, not
// one per item.
constexpr auto timer_slack = std::chrono::milliseconds(1);
constexpr std::string_view smsc_system_id = "smsc-sim";
// How long a closing connection may take to write its last output.
constexpr auto closing_grace = std::chrono::seconds(5);

enum class bind_kind : std::uint8_t { none, transmitter, receiver, transceiver };

struct delayed_resp {
  sim_clock::time_point due;
  std::uint32_t sequence_number = 0;
  command_id resp = command_id::submit_sm_resp;
  std::uint64_t id = 0;
};

// splitmix64: tiny, fast, and good enough for choosing faults.
struct random_source {
  std::uint64_t state;
  std::uint64_t next() noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

bool rx_capable(bind_kind k) noexcept {
  return k == bind_kind::receiver || k == bind_kind::transceiver;
}

// Copies up to 20 characters of the submitted text for the receipt's
// text: field. Receipts travel as ASCII, so UCS-2 is narrowed and
// anything unprintable becomes '?'.
std::uint8_t receipt_text(std::string_view body, std::uint8_t esm_class, std::uint8_t data_coding,
                          std::array<char, 20>& out) {
  if ((esm_class & 0x40) != 0 && !body.empty()) {
    const std::size_t udhl = static_cast<std::uint8_t>(body[0]);
    body.remove_prefix(std::min(body.size(), udhl + 1));
  }
  const bool ucs2 = data_coding == 0x08;
  std::size_t n = 0;
  for (std::size_t i = 0; n < out.size() && i < body.size(); ++n) {
    unsigned c;
    if (ucs2) {
      if (i + 1 >= body.size()) break;
      c = (static_cast<unsigned>(static_cast<std::uint8_t>(body[i])) << 8) |
          static_cast<std::uint8_t>(body[i + 1]);
      i += 2;
    } else {
      c = static_cast<std::uint8_t>(body[i++]);
      if (c == 0 && data_coding == 0) c = '@';  // GSM 03.38 puts '@' at 0
    }
    out[n] = (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  return static_cast<std::uint8_t>(n);
}

std::uint8_t copy_address(std::string_view a, std::array<char, 20>& out) {
  // data_sm addresses may have 64 characters, deliver_sm's only 20.
  const std::size_t n = std::min(a.size(), out.size());
  std::memcpy(out.data(), a.data(), n);
  return static_cast<std::uint8_t>(n);
}

class sim_session : public sim_peer, public std::enable_shared_from_this<sim_session> {
 public:
  sim_session(sim_shared& shared, sim_worker& worker, const asio::any_io_executor& ex)
      : shared_(shared),
        opt_(shared.options),
        worker_(worker),
        counters_(worker.counters),
        executor_(ex),
        delay_timer_(ex),
        tick_timer_(ex) {
    const std::uint64_t serial = shared.connection_serial.fetch_add(1);
    random_.state = opt_.seed ^ (serial * 0xD1B54A32D192ED03ull);
    deliver_.body.emplace<smpp::deliver_sm>();
  }

  // sim_peer: any thread.
  void deliver(std::span<const receipt_item> receipts, std::vector<mo_part>&& mo) override {
    bool post = false;
    bool closed = false;
    {
      std::lock_guard lock(inbox_mutex_);
      if (inbox_closed_) {
        closed = true;
      } else {
        inbox_receipts_.insert(inbox_receipts_.end(), receipts.begin(), receipts.end());
        for (mo_part& m : mo) inbox_mo_.push_back(std::move(m));
        post = !inbox_posted_;
        inbox_posted_ = true;
      }
    }
    if (closed) {
      // Closed between being picked and being handed the items: system_
      // was set before this session became a receiver and never changes.
      if (!receipts.empty()) {
        bump(counters_.receipts_rerouted, receipts.size());
        shared_.registry.route(*system_, receipts);
      }
      if (!mo.empty()) bump(counters_.mo_parts_dropped, mo.size());
      return;
    }
    if (post) asio::post(executor_, [self = shared_from_this()] { self->drain_inbox(); });
  }

  // The transport is ready (TCP accepted, TLS handshake done).
  void begin() {
    bump(counters_.connections);
    now_ = sim_clock::now();
    opened_at_ = last_input_ = last_enquire_sent_ = now_;
    in_.prepare(read_chunk);
    arm_tick();
    read_more();
  }

  void on_read(const error_code& ec, std::size_t n) {
    reading_ = false;
    if (closed_) return;
    if (ec) {
      close(false);
      return;
    }
    in_.commit(n);
    now_ = last_input_ = sim_clock::now();
    process_input();
    route_outbound();
    flush();
    read_more();
  }

  void on_written(const error_code& ec) {
    writing_ = false;
    wbuf_.clear();
    if (closed_) return;
    if (ec) {
      close(false);
      return;
    }
    if (closing_ && out_.empty()) {
      close(clean_close_);
      return;
    }
    flush();
    if (paused_ && out_.size() < output_low_water) {
      paused_ = false;
      read_more();
    }
  }

  void fail_handshake() {
    bump(counters_.tls_handshake_failures);
    closed_ = true;
    close_stream();
  }

 protected:
  virtual void async_read(std::uint8_t* into, std::size_t n) = 0;        // then on_read
  virtual void async_write(const std::uint8_t* from, std::size_t n) = 0;  // then on_written
  virtual void close_stream() noexcept = 0;

 private:
  // ---- input ----------------------------------------------------------

  void read_more() {
    if (reading_ || closing_ || closed_) return;
    if (out_.size() >= output_high_water) {
      paused_ = true;
      return;
    }
    const std::size_t missing = want_ > in_.size() ? want_ - in_.size() : 0;
    in_.prepare(std::max(missing, read_chunk / 4));
    reading_ = true;
    async_read(in_.data() + in_.size(), in_.capacity() - in_.size());
  }

  void process_input() {
    std::size_t offset = 0;
    while (!closing_ && !closed_) {
      const std::span<const std::uint8_t> rest(in_.data() + offset, in_.size() - offset);
      const frame f = next_frame(rest);
      if (f.status == frame::state::need_more) {
        want_ = f.length;
        break;
      }
      if (f.status == frame::state::bad_length) {
        bump(counters_.closed_bad_framing);
        close(false);
        return;
      }
      if (opt_.drop_after != 0 && ++pdus_received_ >= opt_.drop_after) {
        // The PDU that reaches the count is read and never answered: the
        // client holds it "in doubt", which is the point of the fault.
        bump(counters_.dropped_drop_after);
        finish(false);
        break;
      }
      handle(rest.first(f.length));
      offset += f.length;
    }
    if (!closed_) in_.consume(offset);
  }

  void handle(std::span<const std::uint8_t> bytes) {
    const decode_result r = decode(bytes, pdu_);
    if (!r) {
      if (is_fatal(r)) {
        bump(counters_.closed_bad_framing);
        close(false);
        return;
      }
      refuse_malformed(r);
      return;
    }
    const std::uint32_t seq = pdu_.sequence_number;
    switch (pdu_.id()) {
      case command_id::bind_transmitter:
        on_bind(bind_kind::transmitter, *pdu_.get<smpp::bind_transmitter>(), seq);
        break;
      case command_id::bind_receiver:
        on_bind(bind_kind::receiver, *pdu_.get<smpp::bind_receiver>(), seq);
        break;
      case command_id::bind_transceiver:
        on_bind(bind_kind::transceiver, *pdu_.get<smpp::bind_transceiver>(), seq);
        break;
      case command_id::submit_sm:
        on_submit_sm(*pdu_.get<smpp::submit_sm>(), seq);
        break;
      case command_id::submit_multi:
        on_submit_multi(*pdu_.get<smpp::submit_multi>(), seq);
        break;
      case command_id::data_sm:
        on_data_sm(*pdu_.get<smpp::data_sm>(), seq);
        break;
      case command_id::enquire_link:
        bump(counters_.enquire_link_received);
        // Answered in any state: it is the client's keep-alive.
        if (opt_.answer_enquire_link) write_status_resp(command_id::enquire_link_resp, seq, ESME_ROK);
        break;
      case command_id::unbind:
        on_unbind(seq);
        break;
      case command_id::deliver_sm_resp:
      case command_id::data_sm_resp:
        on_deliver_sm_resp(seq, pdu_.command_status);
        break;
      case command_id::enquire_link_resp:
        bump(counters_.enquire_link_resp_received);
        break;
      case command_id::generic_nack:
        bump(counters_.generic_nacks_received);
        break;
      case command_id::query_sm:
        write_status_resp(command_id::query_sm_resp, seq, may_submit() ? ESME_RQUERYFAIL : ESME_RINVBNDSTS);
        break;
      case command_id::cancel_sm:
        write_status_resp(command_id::cancel_sm_resp, seq, may_submit() ? ESME_RCANCELFAIL : ESME_RINVBNDSTS);
        break;
      case command_id::replace_sm:
        write_status_resp(command_id::replace_sm_resp, seq, may_submit() ? ESME_RREPLACEFAIL : ESME_RINVBNDSTS);
        break;
      case command_id::deliver_sm:
        // An SMSC never receives deliver_sm.
        write_status_resp(command_id::deliver_sm_resp, seq, ESME_RINVCMDID);
        break;
      case command_id::outbind:
      case command_id::alert_notification:
        write_status_resp(command_id::generic_nack, seq, ESME_RINVCMDID);
        break;
      default:
        break;  // other responses: nothing to do
    }
  }

  // A PDU whose body did not decode (or whose command_id is unknown): its
  // own resp, or generic_nack, with the status the codec chose.
  void refuse_malformed(const decode_result& r) {
    const auto id = static_cast<command_id>(r.header.command_id);
    if (id == command_id::submit_sm) bump(counters_.submit_sm);
    if (id == command_id::submit_multi) bump(counters_.submit_multi);
    if (id == command_id::data_sm) bump(counters_.data_sm);
    if (id == command_id::bind_transmitter || id == command_id::bind_receiver ||
        id == command_id::bind_transceiver)
      counters_.binds_refused.add(static_cast<std::uint32_t>(r.status));
    write_status_resp(nack_command_for(r), r.header.sequence_number, r.status);
  }

  // ---- binds ------------------------------------------------------------

  void on_bind(bind_kind kind, const bind_body& b, std::uint32_t seq) {
    const auto resp = static_cast<command_id>(static_cast<std::uint32_t>(pdu_.id()) | 0x80000000u);
    if (kind_ != bind_kind::none) {
      counters_.binds_refused.add(static_cast<std::uint32_t>(ESME_RALYBND));
      write_status_resp(resp, seq, ESME_RALYBND);
      return;
    }
    command_status refused = ESME_ROK;
    if (opt_.system_id && b.system_id != *opt_.system_id)
      refused = ESME_RINVSYSID;
    else if (opt_.password && b.password != *opt_.password)
      refused = ESME_RINVPASWD;
    sim_registry::bind_result r;
    if (refused == ESME_ROK) {
      std::weak_ptr<sim_peer> receiver;
      if (rx_capable(kind)) receiver = weak_from_this();
      r = shared_.registry.bind(b.system_id, receiver, now_);
      refused = r.status;
    }
    if (refused != ESME_ROK) {
      // Real SMSCs hang up on a refused bind.
      counters_.binds_refused.add(static_cast<std::uint32_t>(refused));
      write_status_resp(resp, seq, refused);
      finish(false);
      return;
    }
    kind_ = kind;
    system_ = std::move(r.system);
    bump(kind == bind_kind::transmitter ? counters_.binds_transmitter
         : kind == bind_kind::receiver  ? counters_.binds_receiver
                                        : counters_.binds_transceiver);
    smpp::pdu p{0, seq, smpp::bind_transceiver_resp{}};
    bind_resp_body body;
    body.system_id = smsc_system_id;
    if (b.interface_version >= 0x34) body.tlvs.sc_interface_version = 0x34;
    switch (kind) {
      case bind_kind::transmitter:
        p.body.emplace<smpp::bind_transmitter_resp>(smpp::bind_transmitter_resp{body});
        break;
      case bind_kind::receiver:
        p.body.emplace<smpp::bind_receiver_resp>(smpp::bind_receiver_resp{body});
        break;
      default:
        p.body.emplace<smpp::bind_transceiver_resp>(smpp::bind_transceiver_resp{body});
        break;
    }
    write(p);
    for (receipt_item& h : r.held) {
      h.due = now_;
      write_receipt(h);
    }
    arm_tick();
  }

  void on_unbind(std::uint32_t seq) {
    if (kind_ == bind_kind::none) {
      write_status_resp(command_id::unbind_resp, seq, ESME_RINVBNDSTS);
      return;
    }
    bump(counters_.unbinds);
    // Answer what is still delayed first: the client asked to leave, it
    // should not lose the verdicts on its submits.
    while (!resps_.empty()) {
      write_resp(resps_.front());
      resps_.pop_front();
    }
    write_status_resp(command_id::unbind_resp, seq, ESME_ROK);
    finish(true);
  }

  void on_deliver_sm_resp(std::uint32_t seq, std::uint32_t status) {
    auto it = mo_sequences_.find(seq);
    const bool mo = it != mo_sequences_.end();
    if (mo) {
      bump(status == 0 ? counters_.mo_parts_acked : counters_.mo_parts_nacked);
      // ESME_RX_T_APPN: the ESME could not take it now; a real SMSC retries.
      if (status == static_cast<std::uint32_t>(command_status::ESME_RX_T_APPN) && opt_.mo_redeliver) {
        std::vector<mo_part> again{std::move(it->second)};
        shared_.mo_unacked(std::move(again));
      }
      mo_sequences_.erase(it);
    } else {
      receipt_sequences_.erase(seq);
      bump(status == 0 ? counters_.receipts_acked : counters_.receipts_nacked);
    }
  }

  // ---- submits ----------------------------------------------------------

  bool may_submit() const noexcept {
    return kind_ == bind_kind::transmitter || kind_ == bind_kind::transceiver;
  }

  command_status admit_submit() noexcept {
    if (!may_submit()) return ESME_RINVBNDSTS;
    if (opt_.tps_cap != 0 && !system_->admit(opt_.tps_cap, now_)) return ESME_RTHROTTLED;
    if (!opt_.rejects.empty()) {
      const double u = random_.uniform();
      double sum = 0;
      for (const sim_reject& r : opt_.rejects) {
        sum += r.fraction;
        if (u < sum) return r.status;
      }
    }
    return ESME_ROK;
  }

  struct submit_view {
    std::string_view source_addr;
    std::uint8_t source_addr_ton = 0, source_addr_npi = 0;
    std::uint8_t registered_delivery = 0;
    std::uint8_t esm_class = 0;
    std::uint8_t data_coding = 0;
    std::string_view text;  // short_message, or message_payload when that is empty
  };

  void on_submit_sm(const smpp::submit_sm& s, std::uint32_t seq) {
    bump(counters_.submit_sm);
    const submit_view v{s.source_addr,        s.source_addr_ton,
                        s.source_addr_npi,    s.registered_delivery,
                        s.esm_class,          s.data_coding,
                        s.short_message.empty() && s.tlvs.message_payload ? *s.tlvs.message_payload
                                                                          : s.short_message};
    accept(command_id::submit_sm_resp, seq, v, [&](auto&& each) {
      each(s.destination_addr, s.dest_addr_ton, s.dest_addr_npi);
    });
  }

  void on_submit_multi(const smpp::submit_multi& s, std::uint32_t seq) {
    bump(counters_.submit_multi);
    bump(counters_.submit_multi_destinations, s.dest_addresses.size());
    const submit_view v{s.source_addr,        s.source_addr_ton,
                        s.source_addr_npi,    s.registered_delivery,
                        s.esm_class,          s.data_coding,
                        s.short_message.empty() && s.tlvs.message_payload ? *s.tlvs.message_payload
                                                                          : s.short_message};
    // One id for the whole submit, no unsuccess_smes; each SME address
    // gets its own receipt naming that id. Distribution lists are counted
    // but, having no address, get no receipt.
    accept(command_id::submit_multi_resp, seq, v, [&](auto&& each) {
      s.dest_addresses.for_each([&](const dest_address& d) {
        if (d.dest_flag == 1)
          each(d.address, d.dest_addr_ton, d.dest_addr_npi);
        else
          count_destination(d.address);
      });
    });
  }

  void on_data_sm(const smpp::data_sm& s, std::uint32_t seq) {
    bump(counters_.data_sm);
    const submit_view v{s.source_addr,     s.source_addr_ton,       s.source_addr_npi,
                        s.registered_delivery, s.esm_class,         s.data_coding,
                        s.tlvs.message_payload.value_or(std::string_view{})};
    accept(command_id::data_sm_resp, seq, v, [&](auto&& each) {
      each(s.destination_addr, s.dest_addr_ton, s.dest_addr_npi);
    });
  }

  // Answers one submit and makes its receipts. `destinations(each)` calls
  // each(address, ton, npi) per SME destination.
  template <class Destinations>
  void accept(command_id resp, std::uint32_t seq, const submit_view& s,
              Destinations&& destinations) {
    if (const auto* arrivals = shared_.arrivals.get())
      destinations([&](std::string_view address, std::uint8_t, std::uint8_t) {
        if (arrivals->wanted(address)) arrivals->note(address);
      });
    const command_status status = admit_submit();
    if (status != ESME_ROK) {
      write_status_resp(resp, seq, status);
      return;
    }
    const delayed_resp answer{now_ + opt_.resp_delay, seq, resp, next_message_id()};
    const std::uint8_t wanted = s.registered_delivery & 0x03;
    const bool before = wanted != 0 && opt_.receipt_before_resp > 0 &&
                        random_.uniform() < opt_.receipt_before_resp;
    if (!before) respond(answer);
    destinations([&](std::string_view address, std::uint8_t ton, std::uint8_t npi) {
      if (opt_.count_destinations) count_destination(address);
      if (wanted == 0) return;
      const message_state state = draw_state();
      // registered_delivery 2: a receipt on failure only (5.2.17).
      if (wanted == 2 && state == message_state::delivered) return;
      receipt_item r;
      r.due = before ? now_ : answer.due + opt_.receipt_delay;
      r.submit_time = wall_seconds();
      r.id = answer.id;
      r.state = state;
      r.source_addr_ton = ton;
      r.source_addr_npi = npi;
      r.source_len = copy_address(address, r.source_addr);
      r.dest_addr_ton = s.source_addr_ton;
      r.dest_addr_npi = s.source_addr_npi;
      r.dest_len = copy_address(s.source_addr, r.destination_addr);
      r.text_len = receipt_text(s.text, s.esm_class, s.data_coding, r.text);
      send_receipt(r);
    });
    if (before) respond(answer);
  }

  void respond(const delayed_resp& answer) {
    if (opt_.resp_delay.count() == 0) {
      write_resp(answer);
      return;
    }
    resps_.push_back(answer);
    arm_delay_timer();
  }

  message_state draw_state() noexcept {
    const auto& mix = shared_.mix_cumulative;
    if (mix.empty()) return message_state::delivered;
    const auto pick = static_cast<std::uint32_t>(random_.next() % mix.back());
    const auto it = std::upper_bound(mix.begin(), mix.end(), pick);
    return opt_.receipt_mix[static_cast<std::size_t>(it - mix.begin())].state;
  }

  void send_receipt(const receipt_item& r) {
    if (!rx_capable(kind_)) {
      outbound_.push_back(r);  // routed to a receiver of the system after this read
      return;
    }
    if (r.due <= now_) {
      write_receipt(r);
      return;
    }
    receipts_.push_back(r);
    arm_delay_timer();
  }

  void route_outbound() {
    if (outbound_.empty()) return;
    shared_.registry.route(*system_, outbound_);
    outbound_.clear();
  }

  void count_destination(std::string_view address) {
    if (!opt_.count_destinations) return;
    std::lock_guard lock(worker_.destinations_mutex);
    auto it = worker_.destinations.find(address);
    if (it == worker_.destinations.end())
      worker_.destinations.emplace(std::string(address), 1);
    else
      ++it->second;
  }

  std::uint64_t next_message_id() {
    if (worker_.next_id == worker_.end_id) {
      constexpr std::uint64_t block = 1024;
      worker_.next_id = shared_.next_id_block.fetch_add(block, std::memory_order_relaxed);
      worker_.end_id = worker_.next_id + block;
    }
    return worker_.next_id++;
  }

  // ---- output -----------------------------------------------------------

  std::size_t format_id(std::uint64_t id, char* out, std::size_t size) const noexcept {
    const int base = opt_.id_format == sim_id_format::decimal ? 10 : 16;
    const auto r = std::to_chars(out, out + size, id, base);
    if (opt_.id_format == sim_id_format::hex_upper)
      for (char* p = out; p != r.ptr; ++p)
        if (*p >= 'a' && *p <= 'f') *p = static_cast<char>(*p - 'a' + 'A');
    return static_cast<std::size_t>(r.ptr - out);
  }

  void write_resp(const delayed_resp& a) {
    char id[24];
    const std::string_view message_id(id, format_id(a.id, id, sizeof id));
    smpp::pdu p{0, a.sequence_number, smpp::generic_nack{}};
    switch (a.resp) {
      case command_id::submit_multi_resp: {
        smpp::submit_multi_resp& b = p.body.emplace<smpp::submit_multi_resp>();
        b.message_id = message_id;
        break;
      }
      case command_id::data_sm_resp: {
        smpp::data_sm_resp& b = p.body.emplace<smpp::data_sm_resp>();
        b.message_id = message_id;
        break;
      }
      default: {
        smpp::submit_sm_resp& b = p.body.emplace<smpp::submit_sm_resp>();
        b.message_id = message_id;
        break;
      }
    }
    counters_.submit_resps.add(0);
    write(p);
  }

  // A response with an empty body (header only where 3.3 allows it).
  void write_status_resp(command_id resp, std::uint32_t seq, command_status status) {
    smpp::pdu p{static_cast<std::uint32_t>(status), seq, smpp::generic_nack{}};
    switch (resp) {
      case command_id::bind_receiver_resp: p.body.emplace<smpp::bind_receiver_resp>(); break;
      case command_id::bind_transmitter_resp: p.body.emplace<smpp::bind_transmitter_resp>(); break;
      case command_id::bind_transceiver_resp: p.body.emplace<smpp::bind_transceiver_resp>(); break;
      case command_id::submit_sm_resp: p.body.emplace<smpp::submit_sm_resp>(); break;
      case command_id::submit_multi_resp: p.body.emplace<smpp::submit_multi_resp>(); break;
      case command_id::data_sm_resp: p.body.emplace<smpp::data_sm_resp>(); break;
      case command_id::deliver_sm_resp: p.body.emplace<smpp::deliver_sm_resp>(); break;
      case command_id::query_sm_resp: p.body.emplace<smpp::query_sm_resp>(); break;
      case command_id::cancel_sm_resp: p.body.emplace<smpp::cancel_sm_resp>(); break;
      case command_id::replace_sm_resp: p.body.emplace<smpp::replace_sm_resp>(); break;
      case command_id::unbind_resp: p.body.emplace<smpp::unbind_resp>(); break;
      case command_id::enquire_link_resp: p.body.emplace<smpp::enquire_link_resp>(); break;
      default: break;  // generic_nack
    }
    if (resp == command_id::submit_sm_resp || resp == command_id::submit_multi_resp ||
        resp == command_id::data_sm_resp)
      counters_.submit_resps.add(static_cast<std::uint32_t>(status));
    if (resp == command_id::generic_nack) bump(counters_.generic_nacks_sent);
    write(p);
  }

  // "YYMMDDhhmm" of Unix time `t` (UTC). Receipts of one minute share it.
  std::string_view receipt_date(std::int64_t t) {
    const std::int64_t minute = t / 60;
    if (minute != date_minute_) {
      const std::time_t tt = static_cast<std::time_t>(minute * 60);
      std::tm tm{};
      gmtime_r(&tt, &tm);
      const int fields[5] = {tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min};
      for (int i = 0; i < 5; ++i) {
        date_text_[2 * i] = static_cast<char>('0' + fields[i] / 10);
        date_text_[2 * i + 1] = static_cast<char>('0' + fields[i] % 10);
      }
      date_minute_ = minute;
    }
    return {date_text_, 10};
  }

  std::int64_t wall_seconds() const noexcept {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void write_receipt(const receipt_item& r) {
    char id[24];
    const std::string_view message_id(id, format_id(r.id, id, sizeof id));
    const std::string_view stat = receipt_stat_word(r.state);
    // Appendix B's example format, as most SMSCs send it.
    char text[200];
    char* p = text;
    auto put = [&p](std::string_view s) {
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    };
    put("id:");
    put(message_id);
    put(r.state == message_state::delivered ? " sub:001 dlvrd:001 submit date:"
                                            : " sub:001 dlvrd:000 submit date:");
    put(receipt_date(r.submit_time));
    put(" done date:");
    put(receipt_date(wall_seconds()));
    put(" stat:");
    put(stat);
    put(" err:000 text:");
    put({r.text.data(), r.text_len});

    smpp::deliver_sm& d = *deliver_.get<smpp::deliver_sm>();
    d.source_addr_ton = r.source_addr_ton;
    d.source_addr_npi = r.source_addr_npi;
    d.source_addr = {r.source_addr.data(), r.source_len};
    d.dest_addr_ton = r.dest_addr_ton;
    d.dest_addr_npi = r.dest_addr_npi;
    d.destination_addr = {r.destination_addr.data(), r.dest_len};
    d.esm_class = 0x04;  // SMSC delivery receipt
    d.data_coding = 0;
    d.short_message = {text, static_cast<std::size_t>(p - text)};
    d.tlvs.receipted_message_id = message_id;
    d.tlvs.message_state = static_cast<std::uint8_t>(r.state);
    deliver_.sequence_number = next_sequence();
    if (write(deliver_)) {
      bump(counters_.receipts_sent);
      receipt_sequences_.emplace(deliver_.sequence_number, r);
    }
  }

  void write_data_sm_mo(const mo_part& m) {
    smpp::pdu p{0, next_sequence(), smpp::data_sm{}};
    smpp::data_sm& d = *p.get<smpp::data_sm>();
    d.source_addr_ton = m.source_addr_ton;
    d.source_addr_npi = m.source_addr_npi;
    d.source_addr = m.source_addr;
    d.destination_addr = m.destination_addr;
    d.esm_class = m.esm_class;
    d.data_coding = m.data_coding;
    d.tlvs.message_payload = std::string_view(reinterpret_cast<const char*>(m.short_message.data()),
                                              m.short_message.size());
    if (m.sar_total) {
      d.tlvs.sar_msg_ref_num = m.sar_reference;
      d.tlvs.sar_total_segments = m.sar_total;
      d.tlvs.sar_segment_seqnum = m.sar_seqnum;
    }
    if (!write(p)) return;
    mo_sequences_.emplace(p.sequence_number, opt_.mo_redeliver ? m : mo_part{});
    bump(counters_.mo_parts_sent);
  }

  void write_mo(const mo_part& m) {
    if (m.data_sm) return write_data_sm_mo(m);
    smpp::deliver_sm& d = *deliver_.get<smpp::deliver_sm>();
    d.source_addr_ton = m.source_addr_ton;
    d.source_addr_npi = m.source_addr_npi;
    d.source_addr = m.source_addr;
    d.dest_addr_ton = 0;
    d.dest_addr_npi = 0;
    d.destination_addr = m.destination_addr;
    d.esm_class = m.esm_class;
    d.data_coding = m.data_coding;
    d.short_message = {reinterpret_cast<const char*>(m.short_message.data()),
                       m.short_message.size()};
    d.tlvs.receipted_message_id.reset();
    d.tlvs.message_state.reset();
    if (m.sar_total) {
      d.tlvs.sar_msg_ref_num = m.sar_reference;
      d.tlvs.sar_total_segments = m.sar_total;
      d.tlvs.sar_segment_seqnum = m.sar_seqnum;
    }
    deliver_.sequence_number = next_sequence();
    const bool written = write(deliver_);
    d.tlvs.sar_msg_ref_num.reset();
    d.tlvs.sar_total_segments.reset();
    d.tlvs.sar_segment_seqnum.reset();
    if (!written) return;
    // The part is kept only when it may have to be sent again.
    mo_sequences_.emplace(deliver_.sequence_number, opt_.mo_redeliver ? m : mo_part{});
    bump(counters_.mo_parts_sent);
  }

  std::uint32_t next_sequence() noexcept {
    sequence_ = sequence_ >= 0x7FFFFFFFu ? 1 : sequence_ + 1;
    return sequence_;
  }

  // Encodes `p` at the end of the output buffer. Every PDU the simulator
  // builds fits in 1 KiB; the exact size is asked for only if not.
  bool write(const smpp::pdu& p) {
    std::size_t room = 1024;
    std::uint8_t* at = out_.prepare(room);
    encode_result r = encode(p, {at, room});
    if (r.ec == make_error_code(codec_errc::buffer_too_small)) {
      room = encoded_size(p);
      at = out_.prepare(room);
      r = encode(p, {at, room});
    }
    if (!r) {
      bump(counters_.encode_failures);
      return false;
    }
    out_.commit(r.size);
    return true;
  }

  void flush() {
    if (writing_ || closed_ || out_.empty()) return;
    std::swap(out_, wbuf_);
    writing_ = true;
    async_write(wbuf_.data(), wbuf_.size());
  }

  // ---- timers -----------------------------------------------------------

  void arm_delay_timer() {
    if (closing_ || closed_) return;
    auto next = sim_clock::time_point::max();
    if (!resps_.empty()) next = resps_.front().due;
    if (!receipts_.empty()) next = std::min(next, receipts_.front().due);
    if (next == sim_clock::time_point::max()) return;
    if (delay_armed_ && delay_due_ <= next) return;
    delay_armed_ = true;
    delay_due_ = next;
    delay_timer_.expires_at(next);
    delay_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->on_delay_timer();
    });
  }

  void on_delay_timer() {
    delay_armed_ = false;
    if (closing_ || closed_) return;
    now_ = sim_clock::now();
    const auto horizon = now_ + timer_slack;
    // Responses first: a receipt never overtakes the resp naming its id
    // unless --receipt-before-resp asked for it.
    while (!resps_.empty() && resps_.front().due <= horizon) {
      write_resp(resps_.front());
      resps_.pop_front();
    }
    while (!receipts_.empty() && receipts_.front().due <= horizon) {
      write_receipt(receipts_.front());
      receipts_.pop_front();
    }
    flush();
    arm_delay_timer();
  }

  void arm_tick() {
    if (closing_ || closed_) return;
    auto next = sim_clock::time_point::max();
    if (opt_.drop_every.count() > 0) next = opened_at_ + opt_.drop_every;
    if (opt_.enquire_link_interval.count() > 0 && kind_ != bind_kind::none)
      next = std::min(next, std::max(last_input_, last_enquire_sent_) + opt_.enquire_link_interval);
    if (next == sim_clock::time_point::max()) return;
    tick_timer_.expires_at(next);
    tick_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->on_tick();
    });
  }

  void on_tick() {
    if (closing_ || closed_) return;
    now_ = sim_clock::now();
    if (opt_.drop_every.count() > 0 && now_ >= opened_at_ + opt_.drop_every) {
      bump(counters_.dropped_drop_every);
      close(false);
      return;
    }
    if (opt_.enquire_link_interval.count() > 0 && kind_ != bind_kind::none &&
        now_ >= std::max(last_input_, last_enquire_sent_) + opt_.enquire_link_interval) {
      write(smpp::pdu{0, next_sequence(), smpp::enquire_link{}});
      bump(counters_.enquire_link_sent);
      last_enquire_sent_ = now_;
      flush();
    }
    arm_tick();
  }

  // ---- inbox ------------------------------------------------------------

  void drain_inbox() {
    {
      std::lock_guard lock(inbox_mutex_);
      inbox_posted_ = false;
      if (closing_ || closed_) return;  // close() collects what is there
      std::swap(inbox_receipts_, taken_receipts_);
      std::swap(inbox_mo_, taken_mo_);
    }
    now_ = sim_clock::now();
    for (const receipt_item& r : taken_receipts_) send_receipt(r);
    for (const mo_part& m : taken_mo_) write_mo(m);
    taken_receipts_.clear();
    taken_mo_.clear();
    flush();
  }

  // ---- closing ----------------------------------------------------------

  // No more input; close once the output is written. `clean`: after an
  // unbind (the bind stops counting at once).
  void finish(bool clean) {
    if (closing_ || closed_) return;
    closing_ = true;
    clean_close_ = clean;
    delay_timer_.cancel();
    if (!writing_ && out_.empty()) {
      close(clean);
      return;
    }
    // A client that stops reading would keep a closing connection forever.
    tick_timer_.expires_after(closing_grace);
    tick_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->close(self->clean_close_);
    });
  }

  void close(bool clean) {
    if (closed_) return;
    closed_ = true;
    closing_ = true;
    delay_timer_.cancel();
    tick_timer_.cancel();
    close_stream();
    // Leave the registry before closing the inbox: from then on no route
    // picks this session, and a deliver() that picked it earlier either
    // lands in the inbox (collected below) or finds it closed and routes
    // again, never back here.
    if (kind_ != bind_kind::none) shared_.registry.unbind(*system_, this, clean, sim_clock::now());
    std::vector<receipt_item> left;
    std::size_t mo_left = 0;
    {
      std::lock_guard lock(inbox_mutex_);
      inbox_closed_ = true;
      left.swap(inbox_receipts_);
      mo_left = inbox_mo_.size();
      left_mo_.swap(inbox_mo_);
      inbox_mo_.clear();
    }
    if (opt_.mo_redeliver) {
      // Written but not acknowledged, or never written: sent again later.
      std::vector<mo_part> again;
      for (auto& [seq, part] : mo_sequences_) again.push_back(std::move(part));
      mo_sequences_.clear();
      {
        std::lock_guard lock(inbox_mutex_);
        for (auto& part : left_mo_) again.push_back(std::move(part));
        left_mo_.clear();
      }
      shared_.mo_unacked(std::move(again));
    } else if (mo_left) {
      bump(counters_.mo_parts_dropped, mo_left);
    }
    if (kind_ == bind_kind::none) return;
    // Receipts that were waiting here go to another receiver of the
    // system, or wait for one, as a real SMSC keeps them.
    while (!receipts_.empty()) {
      left.push_back(receipts_.front());
      receipts_.pop_front();
    }
    // Written but never acknowledged (the ESME may not have them): sent
    // again, as an SMSC does with a deliver_sm it has no resp for.
    for (auto& [seq, r] : receipt_sequences_) left.push_back(r);
    receipt_sequences_.clear();
    left.insert(left.end(), outbound_.begin(), outbound_.end());
    outbound_.clear();
    if (!left.empty()) {
      bump(counters_.receipts_rerouted, left.size());
      shared_.registry.route(*system_, left);
    }
  }

  sim_shared& shared_;
  const smsc_sim_options& opt_;
  sim_worker& worker_;
  sim_counters& counters_;
  asio::any_io_executor executor_;
  asio::steady_timer delay_timer_;
  asio::steady_timer tick_timer_;

  byte_buffer in_;
  byte_buffer out_;   // filling
  byte_buffer wbuf_;  // being written
  std::size_t want_ = header_size;
  smpp::pdu pdu_;      // the PDU being handled; views into in_
  smpp::pdu deliver_;  // reused for every deliver_sm sent

  bind_kind kind_ = bind_kind::none;
  std::shared_ptr<sim_system> system_;  // set at bind, never changed after
  bool reading_ = false;
  bool writing_ = false;
  bool paused_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool clean_close_ = false;
  bool delay_armed_ = false;
  std::uint64_t pdus_received_ = 0;
  std::uint32_t sequence_ = 0;
  random_source random_{};

  sim_clock::time_point now_;  // of the batch being handled
  sim_clock::time_point opened_at_, last_input_, last_enquire_sent_, delay_due_;
  std::int64_t date_minute_ = -1;
  char date_text_[10] = {};

  ring<delayed_resp> resps_;
  ring<receipt_item> receipts_;
  std::vector<receipt_item> outbound_;  // for other connections, routed per read
  // MO parts awaiting deliver_sm_resp (the part itself with mo_redeliver).
  std::unordered_map<std::uint32_t, mo_part> mo_sequences_;
  std::unordered_map<std::uint32_t, receipt_item> receipt_sequences_;  // written, awaiting deliver_sm_resp

  std::mutex inbox_mutex_;  // guards the four inbox_ members
  std::vector<receipt_item> inbox_receipts_;
  std::vector<mo_part> inbox_mo_;
  std::vector<mo_part> left_mo_;  // in the inbox when the connection closed
  bool inbox_posted_ = false;
  bool inbox_closed_ = false;
  std::vector<receipt_item> taken_receipts_;
  std::vector<mo_part> taken_mo_;
};

template <class Stream>
class stream_session final : public sim_session {
 public:
  template <class... Args>
  stream_session(sim_shared& shared, sim_worker& worker, const asio::any_io_executor& ex,
                 Args&&... args)
      : sim_session(shared, worker, ex), stream_(std::forward<Args>(args)...) {}

  Stream& stream() noexcept { return stream_; }

 private:
  void async_read(std::uint8_t* into, std::size_t n) override {
    stream_.async_read_some(asio::buffer(into, n),
                            [self = shared_from_this()](const error_code& ec, std::size_t got) {
                              self->on_read(ec, got);
                            });
  }
  void async_write(const std::uint8_t* from, std::size_t n) override {
    asio::async_write(stream_, asio::buffer(from, n),
                      [self = shared_from_this()](const error_code& ec, std::size_t) {
                        self->on_written(ec);
                      });
  }
  void close_stream() noexcept override {
    error_code ignored;
    auto& socket = stream_.lowest_layer();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  Stream stream_;
};

}  // namespace

void start_sim_session(sim_shared& shared, sim_worker& worker, tcp::socket socket,
                       asio::ssl::context* tls) {
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const asio::any_io_executor ex = socket.get_executor();
  if (!tls) {
    auto s = std::make_shared<stream_session<tcp::socket>>(shared, worker, ex, std::move(socket));
    asio::post(ex, [s] { s->begin(); });
    return;
  }
  using tls_stream = asio::ssl::stream<tcp::socket>;
  auto s = std::make_shared<stream_session<tls_stream>>(shared, worker, ex, std::move(socket), *tls);
  asio::post(ex, [s] {
    s->stream().async_handshake(asio::ssl::stream_base::server, [s](const error_code& ec) {
      if (ec)
        s->fail_handshake();
      else
        s->begin();
    });
  });
}

}  // namespace smpp::detail
