// smsc-sim end to end: the real process on 127.0.0.1, a blocking test ESME
// built on the codec, the counts file it writes. Each test starts its own
// simulator and stops it by PID; every wait is bounded.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "smpp/reassembly.hpp"
#include "smpp/receipt.hpp"
#include "tests/sim/sim_harness.hpp"

namespace {

using namespace smppd::test;
using smpp::command_id;
using smpp::command_status;
using enum smpp::command_status;

constexpr std::uint32_t raw(command_status s) { return static_cast<std::uint32_t>(s); }

// A bare header, for PDUs the codec would refuse to build.
std::vector<std::uint8_t> header_bytes(std::uint32_t length, std::uint32_t id,
                                       std::uint32_t status, std::uint32_t sequence) {
  std::vector<std::uint8_t> b;
  for (std::uint32_t v : {length, id, status, sequence})
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
  return b;
}

std::string message_id_of(const received& r) {
  if (auto* s = r.pdu.get<smpp::submit_sm_resp>()) return std::string(s->message_id);
  if (auto* m = r.pdu.get<smpp::submit_multi_resp>()) return std::string(m->message_id);
  if (auto* d = r.pdu.get<smpp::data_sm_resp>()) return std::string(d->message_id);
  return {};
}

// Sends `n` submits at once, then reads their `n` resps; returns the
// resps in order of arrival.
std::vector<received> submit_many(test_esme& esme, int n, std::uint8_t registered_delivery = 0) {
  for (int i = 0; i < n; ++i) esme.submit("4917000" + std::to_string(i), "text", registered_delivery);
  std::vector<received> resps;
  while (static_cast<int>(resps.size()) < n) {
    auto r = esme.next();
    if (!r) break;
    if (r->id() == command_id::deliver_sm) {
      esme.ack(*r);
      continue;
    }
    resps.push_back(std::move(*r));
  }
  EXPECT_EQ(static_cast<int>(resps.size()), n);
  return resps;
}

struct run_result {
  int exit_code = -1;
  std::string out;
};

run_result run(const std::string& args) {
  run_result r;
  FILE* p = popen((smsc_sim_binary + " " + args + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// ---- binds ----------------------------------------------------------------

TEST(smsc_sim, accepts_each_bind_type) {
  running_sim sim({});
  test_esme tx(sim.port()), rx(sim.port()), trx(sim.port());
  EXPECT_EQ(tx.bind(command_id::bind_transmitter), ESME_ROK);
  EXPECT_EQ(rx.bind(command_id::bind_receiver), ESME_ROK);
  EXPECT_EQ(trx.bind(command_id::bind_transceiver), ESME_ROK);
  EXPECT_EQ(trx.bind(command_id::bind_transceiver), ESME_RALYBND);  // already bound
  const std::string counts = sim.stop();
  EXPECT_EQ(json_number(counts, "connections"), 3);
  EXPECT_EQ(json_number(counts, "binds_transmitter"), 1);
  EXPECT_EQ(json_number(counts, "binds_receiver"), 1);
  EXPECT_EQ(json_number(counts, "binds_transceiver"), 1);
}

TEST(smsc_sim, refuses_wrong_credentials_and_hangs_up) {
  running_sim sim({"--system-id", "acme", "--password", "secret"});
  test_esme wrong_password(sim.port());
  EXPECT_EQ(wrong_password.bind(command_id::bind_transceiver, "acme", "nope"), ESME_RINVPASWD);
  EXPECT_TRUE(wrong_password.wait_closed());
  test_esme wrong_id(sim.port());
  EXPECT_EQ(wrong_id.bind(command_id::bind_transmitter, "other", "secret"), ESME_RINVSYSID);
  EXPECT_TRUE(wrong_id.wait_closed());
  test_esme right(sim.port());
  EXPECT_EQ(right.bind(command_id::bind_transmitter, "acme", "secret"), ESME_ROK);
  const std::string refused = json_object(sim.stop(), "binds_refused");
  EXPECT_EQ(json_number(refused, "ESME_RINVPASWD"), 1) << refused;
  EXPECT_EQ(json_number(refused, "ESME_RINVSYSID"), 1) << refused;
}

TEST(smsc_sim, refuses_a_bind_beyond_max_binds_until_one_unbinds) {
  running_sim sim({"--max-binds", "1"});
  test_esme first(sim.port());
  ASSERT_EQ(first.bind(command_id::bind_transceiver), ESME_ROK);
  test_esme second(sim.port());
  EXPECT_EQ(second.bind(command_id::bind_transceiver), ESME_RALYBND);
  EXPECT_TRUE(second.wait_closed());
  first.send(smpp::pdu{0, first.next_sequence(), smpp::unbind{}});
  const auto resp = first.next();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->id(), command_id::unbind_resp);
  EXPECT_TRUE(first.wait_closed());
  test_esme third(sim.port());
  EXPECT_EQ(third.bind(command_id::bind_transceiver), ESME_ROK);
  const std::string counts = sim.stop();
  EXPECT_EQ(json_number(counts, "unbinds"), 1);
  EXPECT_EQ(json_number(json_object(counts, "binds_refused"), "ESME_RALYBND"), 1);
}

TEST(smsc_sim, an_unclean_close_keeps_counting_for_stale_bind_seconds) {
  running_sim sim({"--max-binds", "1", "--stale-bind-seconds", "0.3"});
  {
    test_esme gone(sim.port());
    ASSERT_EQ(gone.bind(command_id::bind_transceiver), ESME_ROK);
  }  // closed without unbind
  test_esme at_once(sim.port());
  EXPECT_EQ(at_once.bind(command_id::bind_transceiver), ESME_RALYBND);
  // Once the hold has passed, a bind gets through (bounded retries).
  bool bound = false;
  for (int attempt = 0; attempt < 50 && !bound; ++attempt) {
    std::this_thread::sleep_for(100ms);
    test_esme again(sim.port());
    bound = again.bind(command_id::bind_transceiver) == ESME_ROK;
  }
  EXPECT_TRUE(bound);
}

TEST(smsc_sim, requests_before_a_bind_or_submits_on_a_receiver_get_invbndsts) {
  running_sim sim({});
  test_esme unbound(sim.port());
  unbound.submit("491700", "hi");
  auto r = unbound.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id(), command_id::submit_sm_resp);
  EXPECT_EQ(r->status(), raw(ESME_RINVBNDSTS));
  test_esme receiver(sim.port());
  ASSERT_EQ(receiver.bind(command_id::bind_receiver), ESME_ROK);
  receiver.submit("491700", "hi");
  r = receiver.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status(), raw(ESME_RINVBNDSTS));
}

// ---- submits and ids ------------------------------------------------------

void expect_unique_ids(const std::vector<std::string>& args, std::string_view alphabet) {
  running_sim sim(args);
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  const auto resps = submit_many(esme, 300);
  std::set<std::string> ids;
  std::set<std::uint32_t> sequences;
  for (const auto& r : resps) {
    EXPECT_EQ(r.id(), command_id::submit_sm_resp);
    EXPECT_EQ(r.status(), 0u);
    const std::string id = message_id_of(r);
    EXPECT_FALSE(id.empty());
    EXPECT_EQ(id.find_first_not_of(alphabet), std::string::npos) << id;
    ids.insert(id);
    sequences.insert(r.sequence());
  }
  EXPECT_EQ(ids.size(), 300u);
  EXPECT_EQ(sequences.size(), 300u);
  EXPECT_EQ(json_number(sim.stop(), "submit_sm"), 300);
}

TEST(smsc_sim, answers_submits_with_unique_decimal_ids) {
  expect_unique_ids({}, "0123456789");
}

TEST(smsc_sim, answers_submits_with_unique_hex_ids) {
  expect_unique_ids({"--id-format", "hex"}, "0123456789abcdef");
  expect_unique_ids({"--id-format", "HEX"}, "0123456789ABCDEF");
}

TEST(smsc_sim, answers_submit_multi_with_one_id_and_a_receipt_per_destination) {
  running_sim sim({"--count-destinations"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  const smpp::dest_address dests[] = {{1, 1, 1, "4917001"}, {1, 1, 1, "4917002"}, {2, 0, 0, "friends"}};
  smpp::submit_multi m;
  m.source_addr = "12345";
  m.dest_addresses = std::span<const smpp::dest_address>(dests);
  m.short_message = "to all";
  m.registered_delivery = 1;
  esme.send(smpp::pdu{0, esme.next_sequence(), m});
  const auto got = esme.drain_until_enquire_link_resp();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].id(), command_id::submit_multi_resp);
  const std::string id = message_id_of(got[0]);
  std::set<std::string> sources;
  for (std::size_t i = 1; i < got.size(); ++i) {
    const auto* d = got[i].pdu.get<smpp::deliver_sm>();
    ASSERT_TRUE(d);
    smpp::delivery_receipt receipt;
    ASSERT_FALSE(smpp::parse_receipt(*d, receipt));
    EXPECT_EQ(receipt.message_id, id);
    sources.insert(std::string(d->source_addr));
  }
  EXPECT_EQ(sources, (std::set<std::string>{"4917001", "4917002"}));
  const std::string destinations = json_object(sim.stop(), "destinations");
  EXPECT_EQ(json_number(destinations, "4917001"), 1) << destinations;
  EXPECT_EQ(json_number(destinations, "friends"), 1) << destinations;
}

TEST(smsc_sim, answers_data_sm_and_sends_its_receipt) {
  running_sim sim({});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  smpp::data_sm d;
  d.source_addr = "12345";
  d.destination_addr = "4917009";
  d.registered_delivery = 1;
  d.tlvs.message_payload = "payload text";
  esme.send(smpp::pdu{0, esme.next_sequence(), d});
  const auto got = esme.drain_until_enquire_link_resp();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id(), command_id::data_sm_resp);
  const auto* receipt_pdu = got[1].pdu.get<smpp::deliver_sm>();
  ASSERT_TRUE(receipt_pdu);
  smpp::delivery_receipt receipt;
  ASSERT_FALSE(smpp::parse_receipt(*receipt_pdu, receipt));
  EXPECT_EQ(receipt.message_id, message_id_of(got[0]));
  EXPECT_EQ(receipt.text, "payload text");
}

// ---- receipts -------------------------------------------------------------

TEST(smsc_sim, sends_a_receipt_naming_the_resp_id_after_the_resp) {
  running_sim sim({});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  esme.submit("491701234567", "Hello receipt world, this is longer", 1, "ACME");
  const auto resp = esme.next();
  ASSERT_TRUE(resp);
  ASSERT_EQ(resp->id(), command_id::submit_sm_resp);
  const std::string id = message_id_of(*resp);
  const auto dr = esme.next();
  ASSERT_TRUE(dr);
  const auto* d = dr->pdu.get<smpp::deliver_sm>();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->esm_class, 0x04);
  EXPECT_EQ(d->source_addr, "491701234567");  // swapped, as SMSCs do
  EXPECT_EQ(d->destination_addr, "ACME");
  smpp::delivery_receipt receipt;
  ASSERT_FALSE(smpp::parse_receipt(*d, receipt));
  EXPECT_EQ(receipt.kind, smpp::receipt_kind::smsc_delivery_receipt);
  EXPECT_EQ(receipt.message_id, id);
  EXPECT_TRUE(receipt.id_from_tlv);
  EXPECT_EQ(receipt.state, smpp::message_state::delivered);
  EXPECT_EQ(receipt.stat, "DELIVRD");
  EXPECT_EQ(receipt.submitted, 1u);
  EXPECT_EQ(receipt.delivered, 1u);
  EXPECT_EQ(receipt.err, "000");
  EXPECT_EQ(receipt.text, "Hello receipt world,");
  EXPECT_TRUE(receipt.submit_date && receipt.done_date);
  EXPECT_EQ(receipt.bad_field, "");
  // The text alone carries the same id.
  smpp::delivery_receipt text_only;
  ASSERT_FALSE(smpp::parse_receipt_text(d->short_message, text_only));
  EXPECT_EQ(text_only.message_id, id);
  EXPECT_TRUE(d->short_message.starts_with("id:" + id + " sub:001 dlvrd:001 submit date:"))
      << d->short_message;
  esme.ack(*dr);
  esme.drain_until_enquire_link_resp();
  const std::string counts = sim.stop();
  EXPECT_EQ(json_number(counts, "receipts_sent"), 1);
  EXPECT_EQ(json_number(counts, "receipts_acked"), 1);
}

TEST(smsc_sim, receipts_follow_the_mix_and_registered_delivery_2_gets_failures_only) {
  running_sim sim({"--receipt-mix", "DELIVRD=1,UNDELIV=1", "--seed", "7"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  for (int i = 0; i < 100; ++i) esme.submit("4917", "x", 1);
  std::map<std::string, int> stats;
  for (const auto& r : esme.drain_until_enquire_link_resp()) {
    const auto* d = r.pdu.get<smpp::deliver_sm>();
    if (!d) continue;
    smpp::delivery_receipt receipt;
    ASSERT_FALSE(smpp::parse_receipt(*d, receipt));
    ++stats[std::string(receipt.stat)];
    if (receipt.stat == "UNDELIV") {
      EXPECT_EQ(receipt.state, smpp::message_state::undeliverable);
      EXPECT_EQ(receipt.delivered, 0u);
    }
  }
  EXPECT_GT(stats["DELIVRD"], 0);
  EXPECT_GT(stats["UNDELIV"], 0);
  EXPECT_EQ(stats["DELIVRD"] + stats["UNDELIV"], 100);

  for (int i = 0; i < 100; ++i) esme.submit("4917", "x", 2);
  int receipts = 0;
  for (const auto& r : esme.drain_until_enquire_link_resp()) {
    const auto* d = r.pdu.get<smpp::deliver_sm>();
    if (!d) continue;
    smpp::delivery_receipt receipt;
    ASSERT_FALSE(smpp::parse_receipt(*d, receipt));
    EXPECT_EQ(receipt.stat, "UNDELIV");
    ++receipts;
  }
  EXPECT_GT(receipts, 0);
  EXPECT_LT(receipts, 100);
}

TEST(smsc_sim, receipt_before_resp_sends_the_receipt_first) {
  running_sim sim({"--receipt-before-resp", "1"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  for (int i = 0; i < 20; ++i) esme.submit("4917", "early", 1);
  std::set<std::string> receipt_ids;
  int resps = 0;
  for (const auto& r : esme.drain_until_enquire_link_resp()) {
    if (const auto* d = r.pdu.get<smpp::deliver_sm>()) {
      smpp::delivery_receipt receipt;
      ASSERT_FALSE(smpp::parse_receipt(*d, receipt));
      receipt_ids.insert(std::string(receipt.message_id));
    } else {
      ++resps;
      EXPECT_TRUE(receipt_ids.count(message_id_of(r))) << "resp before its receipt";
    }
  }
  EXPECT_EQ(resps, 20);
  EXPECT_EQ(receipt_ids.size(), 20u);
}

TEST(smsc_sim, delays_responses_and_receipts_keeping_their_order) {
  running_sim sim({"--resp-delay", "50", "--receipt-delay", "50"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  for (int i = 0; i < 10; ++i) esme.submit("4917", "later", 1);
  std::set<std::string> resp_ids;
  int receipts = 0;
  while (receipts < 10) {
    auto r = esme.next();
    ASSERT_TRUE(r);
    if (const auto* d = r->pdu.get<smpp::deliver_sm>()) {
      smpp::delivery_receipt receipt;
      ASSERT_FALSE(smpp::parse_receipt(*d, receipt));
      EXPECT_TRUE(resp_ids.count(std::string(receipt.message_id))) << "receipt before its resp";
      esme.ack(*r);
      ++receipts;
    } else {
      EXPECT_EQ(r->id(), command_id::submit_sm_resp);
      resp_ids.insert(message_id_of(*r));
    }
  }
  EXPECT_EQ(resp_ids.size(), 10u);
}

TEST(smsc_sim, routes_receipts_to_a_receiver_of_the_same_system_id_or_holds_them) {
  // Two threads: the transmitter and the receiver live on different ones.
  running_sim sim({"--threads", "2"});
  test_esme tx(sim.port());
  ASSERT_EQ(tx.bind(command_id::bind_transmitter, "acme"), ESME_ROK);
  // No receiver yet: the receipts wait.
  for (int i = 0; i < 3; ++i) tx.submit("4917", "held", 1);
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = tx.next();
    ASSERT_TRUE(r);
    ids.insert(message_id_of(*r));
  }
  test_esme rx(sim.port());
  ASSERT_EQ(rx.bind(command_id::bind_receiver, "acme"), ESME_ROK);
  tx.submit("4917", "routed", 1);
  auto r = tx.next();
  ASSERT_TRUE(r);
  ids.insert(message_id_of(*r));
  std::set<std::string> receipted;
  while (receipted.size() < 4) {
    auto d = rx.next();
    ASSERT_TRUE(d) << "got " << receipted.size() << " receipts";
    smpp::delivery_receipt receipt;
    ASSERT_FALSE(smpp::parse_receipt(*d->pdu.get<smpp::deliver_sm>(), receipt));
    receipted.insert(std::string(receipt.message_id));
    rx.ack(*d);
  }
  EXPECT_EQ(receipted, ids);
}

// A receipt written to a connection that closes before its deliver_sm_resp
// came (the ESME may never have read it) goes to the next receiver of the
// system, as an SMSC sends again a deliver_sm it has no resp for; one that
// was acknowledged does not.
TEST(smsc_sim, sends_a_receipt_again_when_its_connection_closed_before_the_ack) {
  running_sim sim({});
  std::string kept, lost;
  {
    test_esme esme(sim.port());
    ASSERT_EQ(esme.bind(command_id::bind_transceiver, "acme"), ESME_ROK);
    esme.submit("4917", "kept", 1);
    esme.submit("4918", "lost", 1);
    for (int i = 0; i < 4; ++i) {
      auto r = esme.next();
      ASSERT_TRUE(r);
      if (r->id() == command_id::submit_sm_resp) continue;
      smpp::delivery_receipt receipt;
      ASSERT_FALSE(smpp::parse_receipt(*r->pdu.get<smpp::deliver_sm>(), receipt));
      if (kept.empty()) {
        kept = receipt.message_id;
        esme.ack(*r);
      } else {
        lost = receipt.message_id;  // read, never acknowledged
      }
    }
    ASSERT_FALSE(lost.empty());
    esme.drain_until_enquire_link_resp();
  }
  test_esme again(sim.port());
  ASSERT_EQ(again.bind(command_id::bind_transceiver, "acme"), ESME_ROK);
  const auto d = again.next();
  ASSERT_TRUE(d);
  smpp::delivery_receipt receipt;
  ASSERT_FALSE(smpp::parse_receipt(*d->pdu.get<smpp::deliver_sm>(), receipt));
  EXPECT_EQ(receipt.message_id, lost);
  again.ack(*d);
  for (const auto& more : again.drain_until_enquire_link_resp())
    EXPECT_NE(more.id(), command_id::deliver_sm) << "the acknowledged receipt came again";
  const std::string counts = sim.stop();
  EXPECT_EQ(json_number(counts, "receipts_sent"), 3);
  EXPECT_EQ(json_number(counts, "receipts_acked"), 2);
  EXPECT_EQ(json_number(counts, "receipts_rerouted"), 1);
}

// ---- faults ---------------------------------------------------------------

TEST(smsc_sim, throttles_submits_above_the_tps_cap) {
  running_sim sim({"--tps-cap", "10"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  int ok = 0, throttled = 0;
  for (const auto& r : submit_many(esme, 100)) {
    if (r.status() == 0) ++ok;
    if (r.status() == raw(ESME_RTHROTTLED)) ++throttled;
  }
  EXPECT_EQ(ok + throttled, 100);
  EXPECT_GE(ok, 10);
  EXPECT_LE(ok, 30);  // at most three one-second windows for a burst of 100
  EXPECT_EQ(json_number(json_object(sim.stop(), "submit_resps"), "ESME_RTHROTTLED"), throttled);
}

TEST(smsc_sim, rejects_the_given_fraction_with_the_given_status) {
  running_sim sim({"--reject", "0.5:0x0B", "--reject", "0.2:ESME_RSUBMITFAIL", "--seed", "3"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  std::map<std::uint32_t, int> by_status;
  for (const auto& r : submit_many(esme, 400)) ++by_status[r.status()];
  EXPECT_GT(by_status[0], 40);
  EXPECT_GT(by_status[raw(ESME_RINVDSTADR)], 120);
  EXPECT_GT(by_status[raw(ESME_RSUBMITFAIL)], 30);
  EXPECT_EQ(by_status[0] + by_status[raw(ESME_RINVDSTADR)] + by_status[raw(ESME_RSUBMITFAIL)], 400);
}

TEST(smsc_sim, drop_after_closes_on_the_nth_pdu_without_answering_it) {
  running_sim sim({"--drop-after", "3"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);  // PDU 1
  esme.submit("4917", "two");                                    // PDU 2
  auto r = esme.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id(), command_id::submit_sm_resp);
  esme.submit("4917", "three");  // PDU 3: never answered
  EXPECT_FALSE(esme.next());
  EXPECT_TRUE(esme.closed());
  EXPECT_EQ(json_number(sim.stop(), "dropped_drop_after"), 1);
}

TEST(smsc_sim, drop_every_closes_connections_after_the_period) {
  running_sim sim({"--drop-every", "0.2"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  EXPECT_TRUE(esme.wait_closed());
  EXPECT_EQ(json_number(sim.stop(), "dropped_drop_every"), 1);
}

TEST(smsc_sim, no_enquire_link_resp_stops_only_those_answers) {
  running_sim sim({"--no-enquire-link-resp"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  esme.send(smpp::pdu{0, esme.next_sequence(), smpp::enquire_link{}});
  esme.submit("4917", "still answered");
  auto r = esme.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id(), command_id::submit_sm_resp);  // the enquire_link_resp would have come first
  EXPECT_EQ(json_number(sim.stop(), "enquire_link_received"), 1);
}

TEST(smsc_sim, sends_enquire_link_after_the_idle_time) {
  running_sim sim({"--enquire-link-seconds", "0.1"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  auto r = esme.next();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->id(), command_id::enquire_link);
  esme.send(smpp::pdu{0, r->sequence(), smpp::enquire_link_resp{}});
  esme.drain_until_enquire_link_resp();  // the resp has been read by then
  const std::string counts = sim.stop();
  EXPECT_GE(json_number(counts, "enquire_link_sent"), 1);
  EXPECT_GE(json_number(counts, "enquire_link_resp_received"), 1);
}

TEST(smsc_sim, nacks_unknown_commands_and_malformed_pdus_and_closes_on_lost_framing) {
  running_sim sim({});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  // An unknown command_id: generic_nack with ESME_RINVCMDID and its sequence.
  esme.send_bytes(header_bytes(16, 0x00000099, 0, 77));
  auto r = esme.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id(), command_id::generic_nack);
  EXPECT_EQ(r->status(), raw(ESME_RINVCMDID));
  EXPECT_EQ(r->sequence(), 77u);
  // A submit_sm whose sm_length runs past the body: its own resp, nacked.
  smpp::submit_sm s;
  s.source_addr = "1";
  s.destination_addr = "2";
  s.short_message = "abc";
  auto bytes = test_esme::encoded(smpp::pdu{0, 78, s});
  bytes[bytes.size() - 4] = 200;  // sm_length
  esme.send_bytes(bytes);
  r = esme.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id(), command_id::submit_sm_resp);
  EXPECT_EQ(r->status(), raw(ESME_RINVMSGLEN));
  EXPECT_EQ(r->sequence(), 78u);
  // Still bound and answering.
  esme.submit("4917", "fine");
  r = esme.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status(), 0u);
  // A command_length below 16 loses the framing: the connection is closed.
  esme.send_bytes(header_bytes(8, 0x00000004, 0, 79));
  EXPECT_TRUE(esme.wait_closed());
  const std::string counts = sim.stop();
  EXPECT_EQ(json_number(counts, "generic_nacks_sent"), 1);
  EXPECT_EQ(json_number(counts, "closed_bad_framing"), 1);
}

// ---- MO -------------------------------------------------------------------

TEST(smsc_sim, sends_the_mo_script_with_long_texts_concatenated) {
  temp_dir dir;
  // 100 Cyrillic letters: UCS-2, two parts of at most 67 units.
  std::string cyrillic;
  for (int i = 0; i < 100; ++i) cyrillic += "Ж";
  const std::string script = dir.file("mo.txt");
  write_file(script, "# replies\n\n447700900111 12345 Hello there\n447700900222 12345 " +
                         cyrillic + "\n");
  running_sim sim({"--mo-script", script});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_receiver), ESME_ROK);
  smpp::reassembler reassembler;
  std::map<std::string, std::string> texts;  // by source
  int parts = 0;
  while (texts.size() < 2) {
    auto r = esme.next();
    ASSERT_TRUE(r) << "got " << texts.size() << " MOs";
    const auto* d = r->pdu.get<smpp::deliver_sm>();
    ASSERT_TRUE(d);
    ++parts;
    if (d->source_addr == "447700900222") {
      EXPECT_EQ(d->esm_class, 0x40);
      EXPECT_EQ(d->data_coding, 0x08);
    }
    std::error_code ec;
    const auto sm = std::span(reinterpret_cast<const std::uint8_t*>(d->short_message.data()),
                              d->short_message.size());
    auto done = reassembler.add(std::string(d->source_addr) + ">" + std::string(d->destination_addr),
                                sm, (d->esm_class & 0x40) != 0, d->data_coding, {}, std::nullopt,
                                smpp::reassembler::clock::now(), ec);
    ASSERT_FALSE(ec) << ec.message();
    if (done) texts[std::string(d->source_addr)] = done->utf8;
    esme.ack(*r);
  }
  EXPECT_EQ(texts["447700900111"], "Hello there");
  EXPECT_EQ(texts["447700900222"], cyrillic);
  EXPECT_EQ(parts, 3);
  esme.drain_until_enquire_link_resp();
  const std::string counts = sim.stop();
  EXPECT_EQ(json_number(counts, "mo_sent"), 2);
  EXPECT_EQ(json_number(counts, "mo_parts_sent"), 3);
  EXPECT_EQ(json_number(counts, "mo_parts_acked"), 3);
}

TEST(smsc_sim, generates_mo_at_a_rate_up_to_the_count) {
  running_sim sim({"--mo-rate", "500", "--mo-count", "5", "--mo-text", "Reply {n}", "--mo-from",
                   "447700900333"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  std::vector<std::string> texts;
  while (texts.size() < 5) {
    auto r = esme.next();
    ASSERT_TRUE(r);
    const auto* d = r->pdu.get<smpp::deliver_sm>();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->source_addr, "447700900333");
    texts.emplace_back(d->short_message);
    esme.ack(*r);
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"Reply 1", "Reply 2", "Reply 3", "Reply 4", "Reply 5"}));
  EXPECT_EQ(json_number(sim.stop(), "mo_sent"), 5);
}

// ---- counts, lifetime, errors ---------------------------------------------

TEST(smsc_sim, writes_counts_on_sigusr1_and_on_exit) {
  running_sim sim({"--count-destinations"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transmitter), ESME_ROK);
  for (const char* to : {"111", "111", "111", "222", "222"}) esme.submit(to, "count me");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(esme.next());
  sim.process().signal(SIGUSR1);
  std::string counts;
  for (int i = 0; i < 500 && json_number(counts, "submit_sm") != 5; ++i) {
    std::this_thread::sleep_for(10ms);
    counts = read_file(sim.counts_file());
  }
  EXPECT_EQ(json_number(counts, "submit_sm"), 5) << counts;
  const std::string destinations = json_object(counts, "destinations");
  EXPECT_EQ(json_number(destinations, "111"), 3) << destinations;
  EXPECT_EQ(json_number(destinations, "222"), 2) << destinations;
  EXPECT_EQ(json_number(json_object(counts, "submit_resps"), "ESME_ROK"), 5);
  std::filesystem::remove(sim.counts_file());
  esme.submit("333", "one more");
  ASSERT_TRUE(esme.next());
  const std::string final_counts = sim.stop();
  EXPECT_EQ(json_number(final_counts, "submit_sm"), 6) << final_counts;
  EXPECT_EQ(json_number(final_counts, "connections"), 1);
}

TEST(smsc_sim, writes_the_arrival_time_of_submits_to_the_prefix) {
  temp_dir dir;
  const std::string file = dir.file("arrivals.txt");
  running_sim sim({"--arrivals-file", file, "--arrivals-prefix", "3707", "--tps-cap", "3"});
  test_esme esme(sim.port());
  ASSERT_EQ(esme.bind(command_id::bind_transmitter), ESME_ROK);
  const auto us = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t before = us();
  // The fourth is throttled: it arrived all the same.
  for (const char* to : {"37070000001", "37060000001", "37070000002", "37070000003"}) esme.submit(to, "otp");
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(esme.next());
  const std::int64_t after = us();
  sim.stop();
  std::istringstream lines(read_file(file));
  std::vector<std::string> seen;
  std::string to;
  std::int64_t at = 0;
  while (lines >> to >> at) {
    seen.push_back(to);
    EXPECT_GE(at, before) << to;
    EXPECT_LE(at, after) << to;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"37070000001", "37070000002", "37070000003"}));
}

TEST(smsc_sim, leaves_by_itself_after_duration) {
  temp_dir dir;
  std::optional<child_process> sim;
  ASSERT_NE(start_smsc_sim(sim, smsc_sim_binary,
                           {"--duration", "0.2", "--counts-file", dir.file("c.json")}),
            0);
  // stdout reaches EOF when the process exits.
  EXPECT_FALSE(sim->read_line(10s));
  const int status = sim->stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(json_number(read_file(dir.file("c.json")), "connections"), 0);
}

TEST(smsc_sim, reports_bad_usage_with_exit_2_and_runtime_failures_with_exit_1) {
  auto r = run("--reject 2:0x0B");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--reject: '2' is not a fraction"), std::string::npos) << r.out;
  r = run("--mo-script /nonexistent/mo.txt --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("/nonexistent/mo.txt"), std::string::npos) << r.out;
  running_sim busy({});
  r = run("--listen 127.0.0.1:" + std::to_string(busy.port()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("cannot listen on 127.0.0.1:" + std::to_string(busy.port())),
            std::string::npos)
      << r.out;
  r = run("--tls-cert /nonexistent/cert.pem --tls-key /nonexistent/key.pem --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("--tls-cert /nonexistent/cert.pem"), std::string::npos) << r.out;
  r = run("--arrivals-file /nonexistent/arrivals.txt --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("cannot open --arrivals-file /nonexistent/arrivals.txt"), std::string::npos) << r.out;
}

TEST(smsc_sim, listens_on_ipv6) {
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor probe(ioc);
    boost::system::error_code ec;
    probe.open(boost::asio::ip::tcp::v6(), ec);
    if (!ec) probe.bind({boost::asio::ip::make_address("::1"), 0}, ec);
    if (ec) GTEST_SKIP() << "no IPv6 loopback here";
  }
  running_sim sim({"--listen", "[::1]:0"});  // the later --listen wins
  test_esme esme(sim.port(), false, "::1");
  ASSERT_TRUE(esme.connected());
  EXPECT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
}

TEST(smsc_sim, writes_the_port_file) {
  temp_dir dir;
  running_sim sim({"--port-file", dir.file("port")});
  EXPECT_EQ(read_file(dir.file("port")), std::to_string(sim.port()) + "\n");
}

TEST(smsc_sim, serves_smpp_over_tls) {
  temp_dir dir;
  const std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  const std::string make_cert =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=localhost -keyout " + key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(make_cert.c_str()), 0);
  running_sim sim({"--tls-cert", cert, "--tls-key", key});
  test_esme esme(sim.port(), /*tls=*/true);
  ASSERT_TRUE(esme.connected());
  ASSERT_EQ(esme.bind(command_id::bind_transceiver), ESME_ROK);
  esme.submit("4917", "secret", 1);
  const auto got = esme.drain_until_enquire_link_resp();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id(), command_id::submit_sm_resp);
  EXPECT_EQ(got[1].id(), command_id::deliver_sm);
  const std::string counts = sim.stop();
  EXPECT_EQ(json_number(counts, "receipts_acked"), 1);
  EXPECT_EQ(json_number(counts, "tls_handshake_failures"), 0);
}

}  // namespace
