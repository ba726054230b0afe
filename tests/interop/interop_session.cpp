// The session layer's interop check against an SMSC we did not write
// (node_smpp_server.js, built on node-smpp), also usable against smsc-sim:
//
//   interop_session --host H --port P [--system-id ID] [--password PW]
//                   [--messages N] [--binds B] [--mode transceiver|pairs]
//                   [--window W] [--idle-ms MS] [--timeout-s S] [--no-text-check]
//
// Binds a bind_pool (B transceivers, or B transmitter + receiver pairs),
// optionally stays idle for --idle-ms so that enquire_link runs both ways
// of the probe, then submits N messages with registered_delivery=1: one
// UCS-2 text, one GSM-7 text of two parts (8-bit reference UDH), the rest
// single GSM-7 texts using the extension table. It answers every
// deliver_sm, waits for every submit_sm_resp and every receipt, then
// unbinds every bind and checks that each closed on its unbind_resp.
//
// Each receipt is read with smpp::parse_receipt; it must be an SMSC
// delivery receipt (esm_class 0x04), DELIVERED, its receipted_message_id
// equal to the id in its text, and that id must be the message_id of
// exactly one submit_sm_resp. Unless --no-text-check, its text: field must
// hold the first 20 characters of what that part carried, as the SMSC
// decoded it (printable ASCII kept, anything else '?'): so the peer read
// our GSM-7 and UCS-2 as we meant them.
//
// Exits 0 when all checks pass, 1 with a line per failure otherwise, 2 on
// a usage error. Bounded by --timeout-s (default 30).
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smpp/bind_pool.hpp"
#include "smpp/receipt.hpp"
#include "smpp/text.hpp"

namespace {

using namespace std::chrono_literals;

struct settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string system_id = "interop";
  std::string password = "secret";
  std::size_t messages = 12;
  std::size_t binds = 1;
  smpp::pool_mode mode = smpp::pool_mode::transceiver;
  std::size_t window = 8;
  std::chrono::milliseconds idle{0};
  std::chrono::seconds timeout{30};
  bool text_check = true;
};

// One PDU to send: the submit_sm of one part of one message.
struct part {
  std::size_t message = 0;
  std::vector<std::uint8_t> short_message;  // UDH + text
  std::uint8_t data_coding = 0;
  bool udh = false;
  std::string excerpt;  // what the receipt's text: should say
  std::string message_id;  // from the resp
  bool resp = false;
  bool receipt = false;
};

// The receipt excerpt of a text: its first 20 characters, printable ASCII
// as it is and anything else as '?'.
std::string excerpt_of(std::u32string_view text) {
  std::string out;
  for (char32_t c : text.substr(0, 20)) out += c >= 0x20 && c <= 0x7E ? static_cast<char>(c) : '?';
  return out;
}

std::string text_of(std::size_t i) {
  if (i == 0) return "Ваш код: 5930. Не сообщайте его никому.";
  if (i == 1) {
    // Two parts: 153 + the rest, the second starting in the middle of a word.
    std::string t = "Dear customer, your parcel 8842-17 is on its way. ";
    while (t.size() < 200) t += "Track it at example.com/t/8842 or reply STOP to opt out. ";
    return t;
  }
  return "Interop " + std::to_string(i) + ": code " + std::to_string(100000 + i * 7919 % 900000) +
         " {ok} [x] ~^| €5 @home £1";
}

class check : public smpp::session_handler {
 public:
  check(boost::asio::io_context& io, const settings& s, smpp::pool_options o)
      : io_(io), s_(s), pool_(io, std::move(o), *this), guard_(io), hard_stop_(io), idle_(io) {}

  int run() {
    if (!build_parts()) return 1;
    pool_.start();
    guard_.expires_after(s_.timeout);
    guard_.async_wait([this](auto ec) {
      if (ec) return;
      fail("timed out after " + std::to_string(s_.timeout.count()) + " s: " + progress());
      finish();
    });
    io_.run();
    return report();
  }

  void on_bound(std::uint32_t, std::string_view smsc) override {
    smsc_system_id_ = smsc;
    if (++bound_ < pool_.size() || started_) return;
    started_ = true;
    if (s_.idle.count() == 0) return start_sending();
    idle_.expires_after(s_.idle);
    idle_.async_wait([this](auto ec) {
      if (!ec && !stopping_) start_sending();
    });
  }
  void on_bind_failed(std::uint32_t bind, std::error_code ec, smpp::command_status st) override {
    fail("bind " + std::to_string(bind) + " failed: " + ec.message() + ", status 0x" + hex(st));
    finish();
  }
  void on_response(std::uint32_t, std::uint64_t tag, const smpp::response& r) override {
    part& p = parts_[tag];
    if (stopping_) return;  // the outcome of a failed run is already reported
    if (r.ec || r.status != smpp::command_status::ESME_ROK) {
      fail("submit_sm of message " + std::to_string(p.message) + ": " +
           (r.ec ? r.ec.message() : "status 0x" + hex(r.status)));
      return finish();
    }
    if (p.resp) fail("two responses for part " + std::to_string(tag));
    p.resp = true;
    p.message_id = r.message_id;
    if (p.message_id.empty()) fail("empty message_id for part " + std::to_string(tag));
    if (!by_id_.emplace(p.message_id, tag).second)
      fail("message_id " + p.message_id + " given twice");
    ++resps_;
    match_pending();
    done_yet();
  }
  void on_inbound(std::uint32_t bind, smpp::inbound_token t, const smpp::pdu& p) override {
    if (auto ec = pool_.respond(t, smpp::command_status::ESME_ROK))
      fail("cannot answer deliver_sm: " + ec.message());
    const auto* d = p.get<smpp::deliver_sm>();
    if (!d) return fail("bind " + std::to_string(bind) + " got a data_sm, expected receipts only");
    if (s_.mode == smpp::pool_mode::tx_rx_pairs && bind < s_.binds)
      fail("a receipt came on transmitter " + std::to_string(bind));
    smpp::delivery_receipt r;
    if (auto ec = smpp::parse_receipt(*d, r)) {
      return fail("deliver_sm is not a receipt (" + ec.message() + "): " +
                  std::string(d->short_message));
    }
    std::string where = "receipt " + std::string(r.message_id);
    if (r.kind != smpp::receipt_kind::smsc_delivery_receipt)
      fail(where + ": esm_class 0x" + hex(d->esm_class) + ", expected 0x04");
    if (!r.id_from_tlv) fail(where + ": no receipted_message_id TLV");
    if (r.state != smpp::message_state::delivered) fail(where + ": message_state not DELIVERED");
    if (!r.bad_field.empty()) fail(where + ": field \"" + std::string(r.bad_field) + "\" did not parse");
    smpp::delivery_receipt from_text;
    if (smpp::parse_receipt_text(d->short_message, from_text))
      fail(where + ": text form without an id: " + std::string(d->short_message));
    else if (from_text.message_id != r.message_id)
      fail(where + ": text says id " + std::string(from_text.message_id));
    if (from_text.stat != "DELIVRD") fail(where + ": stat \"" + std::string(from_text.stat) + "\"");
    if (!from_text.submit_date || !from_text.done_date) fail(where + ": dates missing");
    pending_.push_back({std::string(r.message_id), std::string(from_text.text)});
    ++receipts_;
    match_pending();
    done_yet();
  }
  void on_closed(std::uint32_t bind, std::error_code ec) override {
    if (!stopping_) {
      fail("bind " + std::to_string(bind) + " closed before the end: " + ec.message());
      return finish();
    }
    if (ec != smpp::session_errc::unbound)
      fail("bind " + std::to_string(bind) + " did not end with an unbind_resp: " + ec.message());
    ++closed_;
  }
  void on_ready(std::uint32_t) override {
    if (sending_ && !stopping_) pump();
  }

 private:
  struct receipt_seen {
    std::string id;
    std::string text;
  };

  static std::string hex(auto v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%x", static_cast<unsigned>(v));
    return buf;
  }

  void fail(std::string what) {
    std::printf("FAIL %s\n", what.c_str());
    ++failures_;
  }

  bool build_parts() {
    for (std::size_t m = 0; m < s_.messages; ++m) {
      const std::string text = text_of(m);
      smpp::encoded_text enc;
      if (auto ec = smpp::encode_text(text, {}, enc)) {
        fail("cannot encode message " + std::to_string(m) + ": " + ec.message());
        return false;
      }
      std::u32string chars;
      std::size_t bad = 0;
      if (auto ec = smpp::utf8_decode(text, chars, bad)) return false;
      std::size_t offset = 0;  // characters carried by earlier parts
      for (const auto& ep : enc.parts) {
        part p;
        p.message = m;
        auto sm = enc.short_message(ep);
        p.short_message.assign(sm.begin(), sm.end());
        p.data_coding = enc.data_coding;
        p.udh = ep.udh_size > 0;
        p.excerpt = excerpt_of(std::u32string_view(chars).substr(offset, ep.characters));
        offset += ep.characters;
        parts_.push_back(std::move(p));
      }
      ucs2_ += enc.data_coding == 0x08;
      multipart_ += enc.parts.size() > 1;
    }
    return true;
  }

  void start_sending() {
    sending_ = true;
    pump();
  }

  void pump() {
    while (next_message_ < s_.messages && !stopping_) {
      std::vector<smpp::pdu_body> bodies;
      std::vector<std::uint64_t> tags;
      char to[32];
      std::snprintf(to, sizeof to, "4670%07zu", next_message_ % 10000000);
      for (std::size_t i = next_part_; i < parts_.size() && parts_[i].message == next_message_; ++i) {
        const part& p = parts_[i];
        smpp::submit_sm s;
        s.source_addr_ton = 5;
        s.source_addr = "Interop";
        s.dest_addr_ton = 1;
        s.dest_addr_npi = 1;
        s.destination_addr = to;
        s.esm_class = p.udh ? 0x40 : 0x00;
        s.registered_delivery = 1;
        s.data_coding = p.data_coding;
        s.short_message = std::string_view(reinterpret_cast<const char*>(p.short_message.data()),
                                           p.short_message.size());
        bodies.push_back(s);  // the views point into parts_, which outlives the call
        tags.push_back(i);
      }
      if (auto ec = pool_.submit(bodies, tags)) {
        if (ec == smpp::session_errc::window_full) return;  // on_ready comes back
        fail("submit of message " + std::to_string(next_message_) + ": " + ec.message());
        return finish();
      }
      next_part_ += bodies.size();
      ++next_message_;
    }
  }

  // Receipts may overtake their resp (tx/rx pairs: two connections), so
  // they wait here until the resp with their id came.
  void match_pending() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      auto found = by_id_.find(it->id);
      if (found == by_id_.end()) {
        ++it;
        continue;
      }
      part& p = parts_[found->second];
      if (p.receipt) fail("two receipts for message_id " + it->id);
      p.receipt = true;
      ++matched_;
      if (s_.text_check && it->text != p.excerpt) {
        fail("receipt " + it->id + " (message " + std::to_string(p.message) + "): text \"" +
             it->text + "\", expected \"" + p.excerpt + "\"");
      }
      it = pending_.erase(it);
    }
  }

  void done_yet() {
    if (resps_ == parts_.size() && matched_ == parts_.size()) finish();
  }

  std::string progress() const {
    return std::to_string(resps_) + "/" + std::to_string(parts_.size()) + " resps, " +
           std::to_string(matched_) + "/" + std::to_string(parts_.size()) + " receipts matched, " +
           std::to_string(bound_) + "/" + std::to_string(pool_.size()) + " binds up";
  }

  void finish() {
    if (stopping_) return;
    stopping_ = true;
    idle_.cancel();
    pool_.stop(3s, [this] {
      guard_.cancel();
      hard_stop_.cancel();
      io_.stop();
    });
    // Should the unbinds hang, the check still ends.
    hard_stop_.expires_after(8s);
    hard_stop_.async_wait([this](auto ec) {
      if (ec) return;
      fail("the binds did not stop within 8 s");
      io_.stop();
    });
  }

  int report() {
    if (!pending_.empty()) {
      for (const auto& r : pending_) fail("receipt for unknown message_id " + r.id);
    }
    if (closed_ != pool_.size() && failures_ == 0)
      fail(std::to_string(pool_.size() - closed_) + " bind(s) never closed");
    std::uint64_t probes = 0;
    for (std::size_t i = 0; i < pool_.size(); ++i) {
      const auto& c = pool_.bind(i).counters();
      const std::string where = "bind " + std::to_string(i);
      if (c.timeouts) fail(where + ": " + std::to_string(c.timeouts) + " response timeouts");
      if (c.stray_responses) fail(where + ": " + std::to_string(c.stray_responses) + " stray responses");
      if (c.decode_errors) fail(where + ": " + std::to_string(c.decode_errors) + " PDUs did not decode");
      if (c.generic_nacks_received || c.generic_nacks_sent) fail(where + ": generic_nack exchanged");
      if (pool_.bind(i).stats().binds != 1)
        fail(where + ": bound " + std::to_string(pool_.bind(i).stats().binds) + " times, expected once");
      probes += c.enquire_links_sent;
    }
    if (s_.idle.count() > 0 && probes == 0) fail("no enquire_link sent while idle");
    std::printf("interop_session: %zu messages (%zu parts; %zu UCS-2, %zu multipart) over %zu %s "
                "bind(s) to \"%s\": %zu resps, %zu receipts matched, %llu enquire_link(s); %d failure(s)\n",
                s_.messages, parts_.size(), ucs2_, multipart_, s_.binds,
                s_.mode == smpp::pool_mode::transceiver ? "transceiver" : "tx/rx pair",
                smsc_system_id_.c_str(), resps_, matched_, static_cast<unsigned long long>(probes),
                failures_);
    return failures_ == 0 ? 0 : 1;
  }

  boost::asio::io_context& io_;
  const settings& s_;
  smpp::bind_pool pool_;
  boost::asio::steady_timer guard_, hard_stop_, idle_;
  std::vector<part> parts_;
  std::map<std::string, std::size_t> by_id_;  // message_id -> index in parts_
  std::vector<receipt_seen> pending_;
  std::size_t next_message_ = 0, next_part_ = 0;
  std::size_t bound_ = 0, closed_ = 0, resps_ = 0, receipts_ = 0, matched_ = 0;
  std::size_t ucs2_ = 0, multipart_ = 0;
  std::string smsc_system_id_;
  bool started_ = false, sending_ = false, stopping_ = false;
  int failures_ = 0;
};

[[noreturn]] void usage() {
  std::fputs(
      "usage: interop_session --host H --port P [--system-id ID] [--password PW] [--messages N]\n"
      "                       [--binds B] [--mode transceiver|pairs] [--window W] [--idle-ms MS]\n"
      "                       [--timeout-s S] [--no-text-check]\n",
      stderr);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--no-text-check") {
      s.text_check = false;
      continue;
    }
    if (i + 1 >= argc) usage();
    const std::string v = argv[++i];
    try {
      if (a == "--host") s.host = v;
      else if (a == "--port") s.port = static_cast<std::uint16_t>(std::stoul(v));
      else if (a == "--system-id") s.system_id = v;
      else if (a == "--password") s.password = v;
      else if (a == "--messages") s.messages = std::stoul(v);
      else if (a == "--binds") s.binds = std::stoul(v);
      else if (a == "--window") s.window = std::stoul(v);
      else if (a == "--idle-ms") s.idle = std::chrono::milliseconds(std::stoul(v));
      else if (a == "--timeout-s") s.timeout = std::chrono::seconds(std::stoul(v));
      else if (a == "--mode" && (v == "transceiver" || v == "pairs"))
        s.mode = v == "pairs" ? smpp::pool_mode::tx_rx_pairs : smpp::pool_mode::transceiver;
      else usage();
    } catch (const std::exception&) {
      usage();
    }
  }
  if (s.port == 0 || s.messages < 2 || s.binds == 0 || s.window < 2) usage();

  smpp::pool_options o;
  o.binds = s.binds;
  o.mode = s.mode;
  o.client.host = s.host;
  o.client.port = s.port;
  o.client.session.system_id = s.system_id;
  o.client.session.password = s.password;
  o.client.session.window = s.window;
  o.client.session.response_timeout = 5s;
  o.client.session.bind_timeout = 5s;
  if (s.idle.count() > 0) o.client.session.enquire_link_interval = std::max(s.idle / 4, 50ms);
  o.client.reconnect.initial = 200ms;
  o.client.reconnect.max = 1s;

  boost::asio::io_context io;
  check c(io, s, std::move(o));
  return c.run();
}
