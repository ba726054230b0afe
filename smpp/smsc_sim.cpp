#include "smpp/smsc_sim.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "smpp/detail/sim_session.hpp"
#include "smpp/detail/sim_shared.hpp"

namespace smpp {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using detail::bump;
using detail::sim_clock;

std::string_view receipt_stat_word(message_state s) noexcept {
  switch (s) {
    case message_state::delivered: return "DELIVRD";
    case message_state::expired: return "EXPIRED";
    case message_state::deleted: return "DELETED";
    case message_state::undeliverable: return "UNDELIV";
    case message_state::accepted: return "ACCEPTD";
    case message_state::unknown: return "UNKNOWN";
    case message_state::rejected: return "REJECTD";
    default: return {};
  }
}

namespace {

// Address TON/NPI as a handset's or a short code's would be: digits are an
// international number (1/1), anything else alphanumeric (5/0).
std::pair<std::uint8_t, std::uint8_t> ton_npi_of(std::string_view address) {
  const bool digits = !address.empty() && std::all_of(address.begin(), address.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  return digits ? std::pair<std::uint8_t, std::uint8_t>{1, 1}
                : std::pair<std::uint8_t, std::uint8_t>{5, 0};
}

void append_json_string(std::string_view s, std::string& json) {
  json += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      json += '\\';
      json += ch;
    } else if (c < 0x20 || c >= 0x7F) {
      // Addresses are bytes of any value: escaping every non-ASCII octet
      // keeps the output valid JSON whatever a client sent.
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      json += esc;
    } else {
      json += ch;
    }
  }
  json += '"';
}

}  // namespace

namespace detail {

// Sends the MO script or generated MOs to receivers, from the control
// thread: a timer paces them at mo_rate (or batches of 256 when unpaced);
// each MO goes whole (all its parts) to one receiver, round robin.
class sim_mo_source {
 public:
  sim_mo_source(const smsc_sim_options& o, detail::sim_shared& shared, detail::sim_counters& counters,
            asio::io_context& ioc)
      : opt_(o), shared_(shared), counters_(counters), timer_(ioc) {}

  void start() {
    if (has_work()) schedule(std::chrono::milliseconds(0));
    if (!opt_.mo_inject_dir.empty() || opt_.mo_redeliver) poll();
  }

 private:
  bool has_work() const {
    if (opt_.mo_script) return script_next_ < opt_.mo_script->size();
    return opt_.mo_rate > 0 && (opt_.mo_count == 0 || generated_ < opt_.mo_count);
  }

  void schedule(std::chrono::milliseconds after) {
    timer_.expires_after(after);
    timer_.async_wait([this](const error_code& ec) {
      if (!ec) tick();
    });
  }

  void tick() {
    if (!has_work()) return;
    const auto now = sim_clock::now();
    if (!shared_.registry.any_receiver()) {
      paced_ = false;  // the rate counts from the first receiver on
      schedule(std::chrono::milliseconds(10));
      return;
    }
    if (!paced_) {
      paced_ = true;
      pace_start_ = now;
      pace_sent_ = 0;
    }
    std::uint64_t budget = 256;
    if (opt_.mo_rate > 0) {
      const double elapsed = std::chrono::duration<double>(now - pace_start_).count();
      const auto due = static_cast<std::uint64_t>(elapsed * opt_.mo_rate) + 1;
      budget = due > pace_sent_ ? std::min<std::uint64_t>(due - pace_sent_, 1000) : 0;
    }
    for (std::uint64_t i = 0; i < budget && has_work(); ++i) {
      auto peer = shared_.registry.any_receiver();
      if (!peer) break;
      send_one(*peer);
      ++pace_sent_;
    }
    if (!has_work()) return;
    if (opt_.mo_rate <= 0) {
      schedule(std::chrono::milliseconds(0));
      return;
    }
    const auto period = std::chrono::duration<double>(1.0 / opt_.mo_rate);
    const auto wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(period),
                                 std::chrono::milliseconds(1), std::chrono::milliseconds(50));
    schedule(wait);
  }

  void send_one(detail::sim_peer& peer) {
    sim_mo mo;
    if (opt_.mo_script) {
      mo = (*opt_.mo_script)[script_next_++];
    } else {
      ++generated_;
      mo.from = opt_.mo_from;
      mo.to = opt_.mo_to;
      mo.text = opt_.mo_text;
      const std::string n = std::to_string(generated_);
      for (std::size_t at = mo.text.find("{n}"); at != std::string::npos;
           at = mo.text.find("{n}", at + n.size()))
        mo.text.replace(at, 3, n);
    }
    encode_options eo;
    eo.force = opt_.mo_encoding;
    eo.reference = ++reference_;
    if (encode_text(mo.text, eo, encoded_)) {
      bump(counters_.mo_parts_dropped);  // scripts are checked on loading; this is a generated text
      return;
    }
    const auto [ton, npi] = ton_npi_of(mo.from);
    std::vector<detail::mo_part> parts;
    parts.reserve(encoded_.parts.size());
    for (const encoded_part& p : encoded_.parts) parts.push_back(mo_part_of(p, mo.from, mo.to, ton, npi));
    bump(counters_.mo_sent);
    peer.deliver({}, std::move(parts));
  }

  // Every 50 ms: parts to deliver again, then files dropped into the
  // inject directory (in name order), while a receiver is bound.
  void poll() {
    if (auto peer = shared_.registry.any_receiver()) {
      if (auto again = shared_.take_mo_unacked(); !again.empty()) {
        bump(counters_.mo_parts_redelivered, again.size());
        peer->deliver({}, std::move(again));
      }
      if (!opt_.mo_inject_dir.empty()) inject(*peer);
    }
    poll_timer_.expires_after(std::chrono::milliseconds(50));
    poll_timer_.async_wait([this](const error_code& ec) {
      if (!ec) poll();
    });
  }

  void inject(detail::sim_peer& peer) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(opt_.mo_inject_dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".mo") files.push_back(it->path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string error;
      auto parts = read_injected(f, error);
      if (!error.empty()) {
        std::fprintf(stderr, "smsc-sim: %s: %s; renamed to .bad\n", f.c_str(), error.c_str());
        fs::rename(f, fs::path(f).replace_extension(".bad"), ec);
        continue;
      }
      fs::remove(f, ec);
      bump(counters_.mo_injected);
      bump(counters_.mo_sent);
      peer.deliver({}, std::move(parts));
    }
  }

  // One MO file: "key: value" lines (from, to, text required; encoding
  // gsm7|ucs2|latin1, split udh8|udh16|sar, pdu deliver_sm|data_sm, order
  // in|reverse, omit N, repeat N, ton N (the source's type of number, 0-6;
  // default 1 for digits, 5 otherwise) optional), turned into its PDUs'
  // parts.
  std::vector<detail::mo_part> read_injected(const std::filesystem::path& file, std::string& error) {
    std::ifstream in(file);
    std::map<std::string, std::string> kv;
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') continue;
      const auto colon = line.find(':');
      if (colon == std::string::npos) {
        error = "expected \"key: value\", got \"" + line.substr(0, 40) + "\"";
        return {};
      }
      std::string value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      kv[line.substr(0, colon)] = value;
    }
    for (const char* required : {"from", "to", "text"})
      if (!kv.contains(required)) {
        error = std::string("no \"") + required + ":\" line";
        return {};
      }
    encode_options eo;
    eo.reference = ++reference_;
    const std::string enc = kv["encoding"], split = kv["split"], pdu = kv["pdu"], order = kv["order"];
    if (enc == "gsm7") eo.force = text_encoding::gsm7;
    else if (enc == "ucs2") eo.force = text_encoding::ucs2;
    else if (enc == "latin1") eo.force = text_encoding::latin1;
    else if (!enc.empty()) return error = "encoding: expected gsm7, ucs2 or latin1", std::vector<detail::mo_part>{};
    if (split == "udh16") eo.long_messages = long_message_method::udh16;
    else if (split == "sar") eo.long_messages = long_message_method::sar;
    else if (!split.empty() && split != "udh8") return error = "split: expected udh8, udh16 or sar", std::vector<detail::mo_part>{};
    if (!pdu.empty() && pdu != "deliver_sm" && pdu != "data_sm")
      return error = "pdu: expected deliver_sm or data_sm", std::vector<detail::mo_part>{};
    if (!order.empty() && order != "in" && order != "reverse")
      return error = "order: expected in or reverse", std::vector<detail::mo_part>{};
    const int omit = kv.contains("omit") ? std::atoi(kv["omit"].c_str()) : 0;
    const int repeat = kv.contains("repeat") ? std::clamp(std::atoi(kv["repeat"].c_str()), 1, 10) : 1;
    if (const auto ec = encode_text(kv["text"], eo, encoded_)) return error = "text: " + ec.message(), std::vector<detail::mo_part>{};
    const std::string& from = kv["from"];
    auto [ton, npi] = ton_npi_of(from);
    if (kv.contains("ton")) {
      const std::string& t = kv["ton"];
      if (t.size() != 1 || t[0] < '0' || t[0] > '6') return error = "ton: expected 0-6", std::vector<detail::mo_part>{};
      ton = static_cast<std::uint8_t>(t[0] - '0');
    }
    std::vector<detail::mo_part> parts;
    for (const encoded_part& p : encoded_.parts) {
      if (p.sar_seqnum == omit) continue;
      detail::mo_part m = mo_part_of(p, from, kv["to"], ton, npi);
      m.data_sm = pdu == "data_sm";
      if (encoded_.method == long_message_method::sar && encoded_.parts.size() > 1) {
        m.sar_reference = encoded_.reference;
        m.sar_total = static_cast<std::uint8_t>(encoded_.parts.size());
        m.sar_seqnum = p.sar_seqnum;
      }
      parts.push_back(std::move(m));
    }
    if (order == "reverse") std::reverse(parts.begin(), parts.end());
    std::vector<detail::mo_part> out;
    for (int i = 0; i < repeat; ++i) out.insert(out.end(), parts.begin(), parts.end());
    return out;
  }

  // One part of encoded_ as the deliver_sm (or data_sm) that carries it.
  detail::mo_part mo_part_of(const encoded_part& p, const std::string& from, const std::string& to,
                             std::uint8_t ton, std::uint8_t npi) const {
    detail::mo_part m;
    m.source_addr = from;
    m.destination_addr = to;
    m.source_addr_ton = ton;
    m.source_addr_npi = npi;
    m.esm_class = p.udh_size ? 0x40 : 0x00;
    m.data_coding = encoded_.data_coding;
    const auto bytes = encoded_.short_message(p);
    m.short_message.assign(bytes.begin(), bytes.end());
    return m;
  }

  const smsc_sim_options& opt_;
  detail::sim_shared& shared_;
  detail::sim_counters& counters_;
  asio::steady_timer timer_;
  asio::steady_timer poll_timer_{timer_.get_executor()};
  std::size_t script_next_ = 0;
  std::uint64_t generated_ = 0;
  std::uint16_t reference_ = 0;
  bool paced_ = false;
  sim_clock::time_point pace_start_;
  std::uint64_t pace_sent_ = 0;
  encoded_text encoded_;
};

}  // namespace detail

// Members are destroyed in reverse order: the workers (their io_contexts
// and with them every connection) go before the shared registry and the
// counters the connections point to.
struct smsc_sim::impl {
  explicit impl(smsc_sim_options o) : options(std::move(o)), control_counters(options.rejects) {
    shared = std::make_unique<detail::sim_shared>(options, control_counters);
    const unsigned n = std::max(1u, options.threads);
    for (unsigned i = 0; i < n; ++i)
      workers.push_back(std::make_unique<detail::sim_worker>(options.rejects));
    accept_retry.emplace(workers[0]->ioc);
    mo.emplace(options, *shared, control_counters, workers[0]->ioc);
  }

  void accept() {
    detail::sim_worker& w = *workers[next_worker++ % workers.size()];
    acceptor->async_accept(w.ioc, [this, &w](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || shared->stopping) return;
      if (ec) {
        // Out of descriptors, most likely: try again shortly rather than spin.
        accept_retry->expires_after(std::chrono::milliseconds(50));
        accept_retry->async_wait([this](const error_code& e) {
          if (!e) accept();
        });
        return;
      }
      detail::start_sim_session(*shared, w, std::move(socket), tls ? &*tls : nullptr);
      accept();
    });
  }

  smsc_sim_options options;
  detail::sim_counters control_counters;  // registry and MO source
  std::unique_ptr<detail::sim_shared> shared;
  std::optional<asio::ssl::context> tls;
  std::vector<std::unique_ptr<detail::sim_worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_retry;
  std::optional<detail::sim_mo_source> mo;
  std::size_t next_worker = 0;
  tcp::endpoint local;
};

smsc_sim::smsc_sim(smsc_sim_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

smsc_sim::~smsc_sim() {
  stop();
  // Close the listener and drop every connection while the registry is
  // still there.
  impl_->acceptor.reset();
  impl_->accept_retry.reset();
  impl_->mo.reset();
  impl_->workers.clear();
}

std::error_code smsc_sim::start(std::string& what) {
  impl& m = *impl_;
  const smsc_sim_options& o = m.options;
  if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    m.tls.emplace(asio::ssl::context::tls_server);
    m.tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3);
    error_code ec;
    m.tls->use_certificate_chain_file(o.tls_cert_file, ec);
    if (ec) {
      what = "cannot load --tls-cert " + o.tls_cert_file + ": " + ec.message();
      return ec;
    }
    m.tls->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      what = "cannot load --tls-key " + o.tls_key_file + ": " + ec.message();
      return ec;
    }
  }
  if (!o.arrivals_file.empty()) {
    std::error_code ec;
    m.shared->arrivals = detail::sim_arrivals::open(o.arrivals_file, o.arrivals_prefix, ec);
    if (!m.shared->arrivals) {
      what = "cannot open --arrivals-file " + o.arrivals_file + ": " + ec.message();
      return ec;
    }
  }
  error_code ec;
  const auto address = asio::ip::make_address(o.listen_host, ec);
  if (ec) {
    what = "cannot listen on " + o.listen_host + ": not an IP address";
    return ec;
  }
  const tcp::endpoint ep(address, o.listen_port);
  const std::string shown = (address.is_v6() ? "[" + o.listen_host + "]" : o.listen_host) + ":" +
                            std::to_string(o.listen_port);
  m.acceptor.emplace(m.workers[0]->ioc);
  if (m.acceptor->open(ep.protocol(), ec) ||
      m.acceptor->set_option(asio::socket_base::reuse_address(true), ec) ||
      m.acceptor->bind(ep, ec) || m.acceptor->listen(asio::socket_base::max_listen_connections, ec)) {
    what = "cannot listen on " + shown + ": " + ec.message();
    m.acceptor.reset();
    return ec;
  }
  m.local = m.acceptor->local_endpoint(ec);
  m.accept();
  m.mo->start();
  return {};
}

std::string smsc_sim::listening_address() const {
  const auto a = impl_->local.address();
  const std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return host + ":" + std::to_string(impl_->local.port());
}

std::uint16_t smsc_sim::port() const { return impl_->local.port(); }

asio::io_context& smsc_sim::control_context() { return impl_->workers[0]->ioc; }

void smsc_sim::run() {
  impl& m = *impl_;
  using guard = asio::executor_work_guard<asio::io_context::executor_type>;
  std::vector<guard> guards;
  for (auto& w : m.workers) guards.emplace_back(w->ioc.get_executor());
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < m.workers.size(); ++i)
    threads.emplace_back([&w = *m.workers[i]] { w.ioc.run(); });
  m.workers[0]->ioc.run();
  for (auto& t : threads) t.join();
}

void smsc_sim::stop() {
  if (impl_->shared->stopping.exchange(true)) return;
  for (auto& w : impl_->workers) w->ioc.stop();
}

std::string smsc_sim::counts_json() const {
  const impl& m = *impl_;
  std::vector<const detail::sim_counters*> all{&m.control_counters};
  for (const auto& w : m.workers) all.push_back(&w->counters);
  std::string json = "{";
  bool comma = false;
  auto field = [&](std::string_view key, std::uint64_t value) {
    if (comma) json += ',';
    comma = true;
    json += '"';
    json += key;
    json += "\":";
    json += std::to_string(value);
  };
#define SMPP_SIM_COUNTER_JSON(name)                                                  \
  {                                                                                  \
    std::uint64_t sum = 0;                                                           \
    for (const auto* c : all) sum += c->name.load(std::memory_order_relaxed);        \
    field(#name, sum);                                                               \
  }
  SMPP_SIM_COUNTERS(SMPP_SIM_COUNTER_JSON)
#undef SMPP_SIM_COUNTER_JSON
  field("receipts_held", m.shared->registry.held_receipts());

  std::vector<const detail::status_counts*> resps, refused;
  for (const auto* c : all) {
    resps.push_back(&c->submit_resps);
    refused.push_back(&c->binds_refused);
  }
  json += ",\"submit_resps\":{";
  detail::status_counts::to_json(resps, json);
  json += "},\"binds_refused\":{";
  detail::status_counts::to_json(refused, json);
  json += '}';

  if (m.options.count_destinations) {
    std::map<std::string, std::uint64_t, std::less<>> merged;
    for (const auto& w : m.workers) {
      std::lock_guard lock(w->destinations_mutex);
      for (const auto& [address, n] : w->destinations) merged[address] += n;
    }
    json += ",\"destinations\":{";
    bool first = true;
    for (const auto& [address, n] : merged) {
      if (!first) json += ',';
      first = false;
      append_json_string(address, json);
      json += ':';
      json += std::to_string(n);
    }
    json += '}';
  }
  json += "}\n";
  return json;
}

}  // namespace smpp
