// Tests of smpp/session.hpp, the sans-I/O ESME session, as scripts: expect
// this write, feed this read, advance the clock, check the handler's
// events. No sockets; time is whatever the test says.
#include "smpp/session.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "smpp/codec.hpp"

namespace {

using namespace std::chrono_literals;
using smpp::command_id;
using smpp::command_status;
using smpp::session_errc;

struct event {
  std::string kind;  // bound, bind_failed, response, inbound, closed, ready
  std::uint64_t tag = 0;
  std::error_code ec;
  command_status status = command_status::ESME_ROK;
  std::string message_id;
  bool late = false;
  smpp::inbound_token token;
};

class recorder : public smpp::session_handler {
 public:
  std::vector<event> events;
  std::vector<event> of(std::string_view kind) const {
    std::vector<event> out;
    for (auto& e : events)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
  void on_bound(std::uint32_t, std::string_view id) override {
    add("bound").message_id = std::string(id);
  }
  void on_bind_failed(std::uint32_t, std::error_code ec, command_status st) override {
    auto& e = add("bind_failed");
    e.ec = ec;
    e.status = st;
  }
  void on_response(std::uint32_t, std::uint64_t tag, const smpp::response& r) override {
    auto& e = add("response");
    e.tag = tag;
    e.ec = r.ec;
    e.status = r.status;
    e.message_id = std::string(r.message_id);
    e.late = r.late;
  }
  void on_inbound(std::uint32_t, smpp::inbound_token t, const smpp::pdu&) override {
    add("inbound").token = t;
  }
  void on_closed(std::uint32_t, std::error_code ec) override { add("closed").ec = ec; }
  void on_ready(std::uint32_t) override { add("ready"); }

 private:
  event& add(std::string_view kind) {
    events.emplace_back();
    events.back().kind = kind;
    return events.back();
  }
};

smpp::session_options default_options() {
  smpp::session_options o;
  o.system_id = "acme";
  o.password = "s3cret";
  o.system_type = "bulk";
  o.addr_ton = 1;
  o.addr_npi = 1;
  o.address_range = "370";
  o.window = 4;
  o.response_timeout = 1000ms;
  o.bind_timeout = 2000ms;
  o.enquire_link_interval = 30s;
  o.unbind_timeout = 500ms;
  return o;
}

smpp::submit_sm text_submit(std::string_view to) {
  smpp::submit_sm s;
  s.source_addr = "ACME";
  s.destination_addr = to;
  s.registered_delivery = 1;
  s.short_message = "hello";
  return s;
}

class session_script : public ::testing::Test {
 protected:
  smpp::session::time_point now{std::chrono::hours(1)};
  recorder handler;
  smpp::session_options options = default_options();
  std::unique_ptr<smpp::session> s;

  void make() { s = std::make_unique<smpp::session>(options, handler); }

  // Everything the session wants to write, decoded; the bytes count as written.
  std::vector<smpp::pdu> written() {
    std::vector<std::uint8_t> buf;
    std::vector<smpp::pdu> out;
    if (!s->take_output(buf)) return out;
    s->on_written(buf.size());
    wire_.push_back(std::move(buf));  // decoded views point into it
    std::span<const std::uint8_t> rest = wire_.back();
    while (!rest.empty()) {
      auto f = smpp::next_frame(rest);
      EXPECT_EQ(f.status, smpp::frame::state::complete);
      if (f.status != smpp::frame::state::complete) break;
      smpp::pdu p;
      EXPECT_TRUE(smpp::decode(rest.first(f.length), p));
      out.push_back(p);
      rest = rest.subspan(f.length);
    }
    return out;
  }

  std::vector<std::uint8_t> bytes_of(const smpp::pdu& p) {
    std::vector<std::uint8_t> b(smpp::encoded_size(p));
    EXPECT_TRUE(smpp::encode(p, b));
    return b;
  }

  void feed_bytes(std::span<const std::uint8_t> b) {
    auto space = s->read_space(b.size());
    std::memcpy(space.data(), b.data(), b.size());
    s->on_read(b.size(), now);
  }
  void feed(const smpp::pdu& p) { feed_bytes(bytes_of(p)); }

  void tick(std::chrono::milliseconds d) {
    now += d;
    s->on_tick(now);
  }

  // Connects and completes a bind; returns with the output drained.
  void bind() {
    if (!s) make();
    s->on_connected(now);
    auto out = written();
    ASSERT_EQ(out.size(), 1u);
    smpp::bind_transceiver_resp r;
    r.system_id = "SMSC";
    smpp::pdu resp{0, out[0].sequence_number, r};
    if (options.type == smpp::bind_type::transmitter) resp.body = smpp::bind_transmitter_resp{};
    if (options.type == smpp::bind_type::receiver) resp.body = smpp::bind_receiver_resp{};
    feed(resp);
    ASSERT_TRUE(s->is_bound());
    handler.events.clear();
  }

  std::uint32_t submit(std::uint64_t tag) {
    EXPECT_FALSE(s->submit(text_submit("37060000001"), tag, now));
    return last_sequence();
  }
  std::uint32_t last_sequence() {
    auto out = written();
    EXPECT_FALSE(out.empty());
    return out.empty() ? 0 : out.back().sequence_number;
  }

  smpp::pdu submit_resp(std::uint32_t seq, std::string_view id,
                        command_status st = command_status::ESME_ROK) {
    smpp::submit_sm_resp r;
    r.message_id = id;
    return smpp::pdu{static_cast<std::uint32_t>(st), seq, r};
  }

 private:
  std::vector<std::vector<std::uint8_t>> wire_;
};

TEST_F(session_script, binds_as_transceiver_with_the_configured_credentials) {
  make();
  s->on_connected(now);
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  auto* b = out[0].get<smpp::bind_transceiver>();
  ASSERT_TRUE(b);
  EXPECT_EQ(out[0].sequence_number, 1u);
  EXPECT_EQ(b->system_id, "acme");
  EXPECT_EQ(b->password, "s3cret");
  EXPECT_EQ(b->system_type, "bulk");
  EXPECT_EQ(b->interface_version, 0x34);
  EXPECT_EQ(b->addr_ton, 1);
  EXPECT_EQ(b->addr_npi, 1);
  EXPECT_EQ(b->address_range, "370");
  EXPECT_EQ(s->room(), 0u);
  smpp::bind_transceiver_resp r;
  r.system_id = "SMSC01";
  feed(smpp::pdu{0, 1, r});
  EXPECT_TRUE(s->is_bound());
  ASSERT_EQ(handler.of("bound").size(), 1u);
  EXPECT_EQ(handler.of("bound")[0].message_id, "SMSC01");
  EXPECT_EQ(s->room(), 4u);
}

TEST_F(session_script, binds_as_transmitter_or_receiver_when_configured) {
  options.type = smpp::bind_type::transmitter;
  make();
  s->on_connected(now);
  EXPECT_TRUE(written()[0].get<smpp::bind_transmitter>());
  options.type = smpp::bind_type::receiver;
  make();
  s->on_connected(now);
  EXPECT_TRUE(written()[0].get<smpp::bind_receiver>());
}

TEST_F(session_script, a_receiver_cannot_submit) {
  options.type = smpp::bind_type::receiver;
  bind();
  EXPECT_EQ(s->submit(text_submit("1"), 1, now), session_errc::not_bound);
  EXPECT_EQ(s->room(), 0u);
}

TEST_F(session_script, reports_a_refused_bind_with_its_status_and_closes) {
  make();
  s->on_connected(now);
  auto out = written();
  feed(smpp::pdu{static_cast<std::uint32_t>(command_status::ESME_RINVPASWD), out[0].sequence_number,
                 smpp::bind_transceiver_resp{}});
  ASSERT_EQ(handler.of("bind_failed").size(), 1u);
  EXPECT_EQ(handler.of("bind_failed")[0].status, command_status::ESME_RINVPASWD);
  EXPECT_TRUE(s->closed());
  EXPECT_EQ(s->close_reason(), session_errc::bind_refused);
}

TEST_F(session_script, gives_up_on_a_bind_without_answer) {
  make();
  s->on_connected(now);
  written();
  tick(1900ms);
  EXPECT_FALSE(s->closed());
  tick(200ms);
  ASSERT_EQ(handler.of("bind_failed").size(), 1u);
  EXPECT_EQ(handler.of("bind_failed")[0].ec, session_errc::bind_timeout);
  EXPECT_TRUE(s->closed());
}

TEST_F(session_script, refuses_requests_before_the_bind_completes) {
  make();
  EXPECT_EQ(s->submit(text_submit("1"), 1, now), session_errc::not_bound);
  s->on_connected(now);
  EXPECT_EQ(s->submit(text_submit("1"), 1, now), session_errc::not_bound);
}

TEST_F(session_script, fills_the_window_and_no_further) {
  bind();
  for (std::uint64_t tag = 1; tag <= 4; ++tag) EXPECT_FALSE(s->submit(text_submit("1"), tag, now));
  EXPECT_EQ(s->room(), 0u);
  EXPECT_EQ(s->submit(text_submit("1"), 5, now), session_errc::window_full);
  auto out = written();
  ASSERT_EQ(out.size(), 4u);  // all four in one write
  feed(submit_resp(out[2].sequence_number, "id3"));
  EXPECT_EQ(s->room(), 1u);
  EXPECT_EQ(handler.of("ready").size(), 1u);
  EXPECT_FALSE(s->submit(text_submit("1"), 5, now));
}

TEST_F(session_script, matches_responses_by_sequence_number_in_any_order) {
  bind();
  std::uint32_t a = submit(100), b = submit(200), c = submit(300);
  feed(submit_resp(c, "C"));
  feed(submit_resp(a, "A"));
  feed(submit_resp(b, "B", command_status::ESME_RINVDSTADR));
  auto r = handler.of("response");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].tag, 300u);
  EXPECT_EQ(r[0].message_id, "C");
  EXPECT_EQ(r[1].tag, 100u);
  EXPECT_EQ(r[1].message_id, "A");
  EXPECT_EQ(r[2].tag, 200u);
  EXPECT_EQ(r[2].status, command_status::ESME_RINVDSTADR);
  EXPECT_EQ(s->outstanding(), 0u);
}

TEST_F(session_script, many_pdus_in_one_read_are_all_handled) {
  options.window = 100;
  bind();
  for (std::uint64_t tag = 0; tag < 100; ++tag) ASSERT_FALSE(s->submit(text_submit("1"), tag, now));
  auto out = written();
  ASSERT_EQ(out.size(), 100u);
  std::vector<std::uint8_t> batch;
  for (auto& p : out) {
    auto b = bytes_of(submit_resp(p.sequence_number, "x"));
    batch.insert(batch.end(), b.begin(), b.end());
  }
  // Delivered in two reads cut inside a PDU.
  const std::size_t cut = batch.size() / 2 + 3;
  feed_bytes(std::span(batch).first(cut));
  feed_bytes(std::span(batch).subspan(cut));
  EXPECT_EQ(handler.of("response").size(), 100u);
  EXPECT_EQ(s->outstanding(), 0u);
}

TEST_F(session_script, times_out_a_request_and_attributes_its_late_response_to_it_alone) {
  bind();
  std::uint32_t first = submit(1);
  tick(600ms);
  std::uint32_t second = submit(2);
  tick(500ms);  // first is past its 1 s, second is not
  auto r = handler.of("response");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].tag, 1u);
  EXPECT_EQ(r[0].ec, session_errc::response_timeout);
  EXPECT_EQ(s->outstanding(), 1u);
  feed(submit_resp(first, "LATE"));
  feed(submit_resp(second, "ON-TIME"));
  r = handler.of("response");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].tag, 1u);
  EXPECT_TRUE(r[1].late);
  EXPECT_EQ(r[1].message_id, "LATE");
  EXPECT_EQ(r[2].tag, 2u);
  EXPECT_FALSE(r[2].late);
  EXPECT_EQ(s->counters().late_responses, 1u);
  feed(submit_resp(first, "AGAIN"));  // a duplicate of the late one: stray
  EXPECT_EQ(handler.of("response").size(), 3u);
  EXPECT_EQ(s->counters().stray_responses, 1u);
}

TEST_F(session_script, honours_a_per_request_timeout) {
  bind();
  ASSERT_FALSE(s->submit(text_submit("1"), 9, now, 100ms));
  tick(150ms);
  ASSERT_EQ(handler.of("response").size(), 1u);
  EXPECT_EQ(handler.of("response")[0].ec, session_errc::response_timeout);
}

TEST_F(session_script, sequence_numbers_wrap_from_0x7fffffff_to_1) {
  options.first_sequence = 0x7FFFFFFE;
  make();
  s->on_connected(now);
  auto out = written();
  EXPECT_EQ(out[0].sequence_number, 0x7FFFFFFEu);
  feed(smpp::pdu{0, out[0].sequence_number, smpp::bind_transceiver_resp{}});
  EXPECT_EQ(submit(1), 0x7FFFFFFFu);
  EXPECT_EQ(submit(2), 1u);
  EXPECT_EQ(submit(3), 2u);
}

TEST_F(session_script, probes_an_idle_link_and_declares_it_dead_without_answer) {
  options.enquire_link_interval = 5s;
  bind();
  tick(4s);
  EXPECT_TRUE(written().empty());
  tick(1s);
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].id(), command_id::enquire_link);
  feed(smpp::pdu{0, out[0].sequence_number, smpp::enquire_link_resp{}});
  EXPECT_TRUE(s->is_bound());
  // Traffic from the SMSC counts as life: no probe 5 s after it.
  tick(4s);
  feed(smpp::pdu{0, 77, smpp::enquire_link{}});
  written();
  tick(4s);
  EXPECT_TRUE(written().empty());
  tick(1s);
  out = written();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].id(), command_id::enquire_link);
  tick(1100ms);  // no enquire_link_resp within response_timeout
  EXPECT_TRUE(s->closed());
  EXPECT_EQ(s->close_reason(), session_errc::link_dead);
}

TEST_F(session_script, answers_the_smscs_enquire_link) {
  bind();
  feed(smpp::pdu{0, 4242, smpp::enquire_link{}});
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id(), command_id::enquire_link_resp);
  EXPECT_EQ(out[0].sequence_number, 4242u);
}

TEST_F(session_script, answers_the_smscs_unbind_and_reports_the_window_in_doubt) {
  bind();
  submit(1);
  feed(smpp::pdu{0, 9, smpp::unbind{}});
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id(), command_id::unbind_resp);
  EXPECT_EQ(out[0].sequence_number, 9u);
  EXPECT_TRUE(s->closed());
  s->on_disconnected({});
  auto r = handler.of("response");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].ec, session_errc::connection_lost);
  ASSERT_EQ(handler.of("closed").size(), 1u);
  EXPECT_EQ(handler.of("closed")[0].ec, session_errc::peer_unbound);
}

TEST_F(session_script, answers_a_deliver_sm_only_when_the_engine_says_so) {
  bind();
  smpp::deliver_sm d;
  d.source_addr = "37060000001";
  d.short_message = "yes";
  feed(smpp::pdu{0, 555, d});
  ASSERT_EQ(handler.of("inbound").size(), 1u);
  EXPECT_TRUE(written().empty());  // nothing acknowledged yet
  auto token = handler.of("inbound")[0].token;
  EXPECT_EQ(token.sequence_number, 555u);
  ASSERT_FALSE(s->respond(token, command_status::ESME_ROK));
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id(), command_id::deliver_sm_resp);
  EXPECT_EQ(out[0].sequence_number, 555u);
  EXPECT_EQ(out[0].command_status, 0u);
}

TEST_F(session_script, answers_a_data_sm_with_the_engines_status) {
  bind();
  smpp::data_sm d;
  d.source_addr = "37060000001";
  feed(smpp::pdu{0, 556, d});
  auto token = handler.of("inbound").at(0).token;
  ASSERT_FALSE(s->respond(token, command_status::ESME_RX_T_APPN));
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id(), command_id::data_sm_resp);
  EXPECT_EQ(out[0].command_status, static_cast<std::uint32_t>(command_status::ESME_RX_T_APPN));
}

TEST_F(session_script, a_token_of_an_earlier_connection_is_refused) {
  bind();
  smpp::deliver_sm d;
  feed(smpp::pdu{0, 5, d});
  auto token = handler.of("inbound").at(0).token;
  s->on_disconnected(session_errc::peer_closed);
  bind();
  EXPECT_EQ(s->respond(token, command_status::ESME_ROK), session_errc::stale_token);
  EXPECT_TRUE(written().empty());
}

TEST_F(session_script, refuses_a_deliver_sm_on_a_transmitter_bind) {
  options.type = smpp::bind_type::transmitter;
  bind();
  feed(smpp::pdu{0, 8, smpp::deliver_sm{}});
  EXPECT_TRUE(handler.of("inbound").empty());
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id(), command_id::deliver_sm_resp);
  EXPECT_EQ(out[0].command_status, static_cast<std::uint32_t>(command_status::ESME_RINVBNDSTS));
}

TEST_F(session_script, answers_an_unknown_command_with_generic_nack) {
  bind();
  // A header naming command_id 0x00000099, sequence 0x31.
  const std::uint8_t raw[] = {0, 0, 0, 16, 0, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0x31};
  feed_bytes(raw);
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id(), command_id::generic_nack);
  EXPECT_EQ(out[0].sequence_number, 0x31u);
  EXPECT_EQ(out[0].command_status, static_cast<std::uint32_t>(command_status::ESME_RINVCMDID));
  EXPECT_TRUE(s->is_bound());
}

TEST_F(session_script, nacks_a_malformed_deliver_sm_with_its_own_resp) {
  bind();
  // deliver_sm whose body ends inside service_type (no NUL).
  const std::uint8_t raw[] = {0, 0, 0, 18, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0x44, 'a', 'b'};
  feed_bytes(raw);
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id(), command_id::deliver_sm_resp);
  EXPECT_EQ(out[0].sequence_number, 0x44u);
  EXPECT_NE(out[0].command_status, 0u);
  EXPECT_TRUE(handler.of("inbound").empty());
  EXPECT_TRUE(s->is_bound());
}

TEST_F(session_script, a_generic_nack_answers_the_request_it_names) {
  bind();
  std::uint32_t seq = submit(5);
  feed(smpp::pdu{static_cast<std::uint32_t>(command_status::ESME_RINVCMDLEN), seq, smpp::generic_nack{}});
  auto r = handler.of("response");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].tag, 5u);
  EXPECT_EQ(r[0].status, command_status::ESME_RINVCMDLEN);
}

TEST_F(session_script, an_impossible_length_closes_the_session) {
  bind();
  const std::uint8_t raw[] = {0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1};
  feed_bytes(raw);
  EXPECT_TRUE(s->closed());
  EXPECT_EQ(s->close_reason(), session_errc::framing_lost);
}

TEST_F(session_script, tells_written_requests_in_doubt_from_unsent_ones) {
  bind();
  for (std::uint64_t tag = 1; tag <= 3; ++tag) ASSERT_FALSE(s->submit(text_submit("1"), tag, now));
  std::vector<std::uint8_t> buf;
  ASSERT_TRUE(s->take_output(buf));
  const std::size_t one = buf.size() / 3;  // three PDUs of equal size
  s->on_written(2 * one + 5);              // the third only partly written
  s->on_disconnected(std::make_error_code(std::errc::connection_reset));
  auto r = handler.of("response");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].ec, session_errc::connection_lost);
  EXPECT_EQ(r[1].ec, session_errc::connection_lost);
  EXPECT_EQ(r[2].ec, session_errc::not_sent);
  EXPECT_EQ(handler.of("closed").at(0).ec, std::errc::connection_reset);
  EXPECT_EQ(s->outstanding(), 0u);
}

TEST_F(session_script, unbinds_gracefully_after_the_window_drains) {
  bind();
  std::uint32_t a = submit(1), b = submit(2);
  s->unbind(now, now + 5s);
  EXPECT_EQ(s->submit(text_submit("1"), 3, now), session_errc::not_bound);
  EXPECT_TRUE(written().empty());  // still waiting for two responses
  feed(submit_resp(a, "A"));
  EXPECT_TRUE(written().empty());
  feed(submit_resp(b, "B"));
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].id(), command_id::unbind);
  feed(smpp::pdu{0, out[0].sequence_number, smpp::unbind_resp{}});
  EXPECT_TRUE(s->closed());
  EXPECT_EQ(s->close_reason(), session_errc::unbound);
  EXPECT_EQ(handler.of("response").size(), 2u);
}

TEST_F(session_script, unbinds_at_the_drain_deadline_with_a_full_window) {
  bind();
  for (std::uint64_t tag = 1; tag <= 4; ++tag) submit(tag);
  s->unbind(now, now + 300ms);
  tick(200ms);
  EXPECT_TRUE(written().empty());
  tick(200ms);
  auto out = written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id(), command_id::unbind);
  feed(smpp::pdu{0, out[0].sequence_number, smpp::unbind_resp{}});
  EXPECT_TRUE(s->closed());
  s->on_disconnected({});
  auto r = handler.of("response");
  ASSERT_EQ(r.size(), 4u);
  for (auto& e : r) EXPECT_EQ(e.ec, session_errc::connection_lost);
}

TEST_F(session_script, reports_every_request_once_whichever_step_the_connection_dies_at) {
  // The script: bind, submit three, answer them one by one, unbind.
  // Replayed with the connection lost after each step in turn.
  for (int fail_at = 0; fail_at <= 6; ++fail_at) {
    SCOPED_TRACE(fail_at);
    handler.events.clear();
    make();
    int step = 0;
    auto dies = [&] {
      if (step++ != fail_at) return false;
      s->on_disconnected(std::make_error_code(std::errc::broken_pipe));
      return true;
    };
    std::vector<std::uint32_t> seqs;
    bool dead = false;
    s->on_connected(now);
    auto out = written();
    dead = dies();
    if (!dead) {
      feed(smpp::pdu{0, out[0].sequence_number, smpp::bind_transceiver_resp{}});
      for (std::uint64_t tag = 1; tag <= 3; ++tag) seqs.push_back(submit(tag));
      dead = dies();
    }
    for (std::size_t i = 0; i < 3 && !dead; ++i) {
      feed(submit_resp(seqs[i], "id"));
      dead = dies();
    }
    if (!dead) {
      s->unbind(now, now + 1s);
      out = written();
      dead = dies();
      if (!dead) {
        feed(smpp::pdu{0, out.at(0).sequence_number, smpp::unbind_resp{}});
        s->on_disconnected({});
      }
    }
    // Every submitted request reported exactly once; one close.
    std::map<std::uint64_t, int> seen;
    for (auto& e : handler.of("response")) ++seen[e.tag];
    for (std::uint64_t tag = 1; tag <= seqs.size(); ++tag) EXPECT_EQ(seen[tag], 1) << "tag " << tag;
    EXPECT_EQ(seen.size(), seqs.size());
    EXPECT_EQ(handler.of("closed").size(), 1u);
    EXPECT_EQ(s->outstanding(), 0u);
  }
}

}  // namespace
