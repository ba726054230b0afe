#include "engine/sim_options.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include <boost/asio/ip/address.hpp>

#include "smpp/text.hpp"

namespace smppd {
namespace {

constexpr std::string_view usage =
    R"(usage: smsc-sim [OPTION]...

smsc-sim is an SMSC simulator (an SMPP 3.4 server) for smppd's demos, tests
and benchmarks. It accepts binds, answers submit_sm, submit_multi and data_sm
with unique message ids, sends delivery receipts and customers' replies (MO),
and injects faults on demand. Once listening it prints one line to stdout:
"smsc-sim listening on HOST:PORT". Durations in seconds may have decimals.

Listening:
  --listen HOST:PORT          IP address and port; [::1]:PORT for IPv6; port 0
                              picks a free one                 [127.0.0.1:2775]
  --port-file FILE            also write the port number to FILE        [none]
  --tls-cert FILE             serve SMPP over TLS with this PEM certificate
                              chain (needs --tls-key)                   [none]
  --tls-key FILE              the certificate's PEM private key          [none]
  --threads N                 I/O threads; a connection stays on one       [1]

Binds (bind_transmitter, bind_receiver, bind_transceiver):
  --system-id ID              accept only this system_id, else ESME_RINVSYSID
                              and the connection is closed               [any]
  --password PW               accept only this password, else ESME_RINVPASWD
                              and the connection is closed               [any]
  --max-binds N               binds per system_id; one more gets
                              ESME_RALYBND and is closed (0 = no limit)    [0]
  --stale-bind-seconds S      a connection closed without unbind counts
                              against --max-binds for S more seconds       [0]
  --enquire-link-seconds S    send enquire_link to a bound connection after
                              S seconds without input (0 = never)          [0]

Submits (submit_sm, submit_multi, data_sm):
  --id-format FORMAT          message ids: decimal, hex (lowercase) or HEX
                                                                     [decimal]
  --resp-delay MS             delay every submit response by MS ms         [0]
  --tps-cap N                 submits per second per system_id; more get
                              ESME_RTHROTTLED (0 = no cap)                 [0]
  --reject FRACTION:STATUS    answer that fraction of submits with STATUS
                              (0x0B, 11 or ESME_RINVDSTADR); repeatable [none]
  --count-destinations        count accepted submits per destination_addr
                                                                         [off]
  --arrivals-file FILE        append "DESTINATION UNIX_MICROSECONDS" to FILE
                              for each submit as it arrives, answered or not
                              (latency up to the wire)                  [none]
  --arrivals-prefix DIGITS    only submits whose destination_addr starts
                              with DIGITS (needs --arrivals-file)        [all]

Delivery receipts (registered_delivery 1, or 2 for failures only):
  --receipt-delay MS          send receipts MS ms after the response
                              (0 = right after it)                         [0]
  --receipt-mix MIX           final states by weight, e.g.
                              DELIVRD=90,UNDELIV=5,EXPIRED=3,REJECTD=2 (also
                              DELETED, UNKNOWN, ACCEPTD)         [DELIVRD=100]
  --receipt-before-resp F     send this fraction (0..1) of receipts before the
                              response naming their id, at once            [0]
  --receipt-queue N           receipts kept per system_id while it has no
                              receiver bind; more are dropped and counted
                                                                      [100000]
  --seed N                    seed of the random choices                   [1]

Faults:
  --drop-after N              close a connection when its Nth PDU arrives; that
                              PDU is not answered (0 = never)              [0]
  --drop-every S              close every connection S seconds after it
                              opened (0 = never)                           [0]
  --no-enquire-link-resp      stop answering enquire_link                [off]

Replies (MO) to receiver and transceiver binds:
  --mo-script FILE            send each line "FROM TO TEXT..." once, from the
                              first such bind on; '#' starts a comment  [none]
  --mo-rate N                 MOs per second: paces the script; without one,
                              generates MOs (0 = script at full speed)     [0]
  --mo-text TEXT              text of generated MOs; {n} is replaced by the
                              MO's number                          [Reply {n}]
  --mo-from ADDR              source_addr of generated MOs      [447700900001]
  --mo-to ADDR                destination_addr of generated MOs        [12345]
  --mo-count N                stop after N generated MOs (0 = no limit)    [0]
  --mo-encoding ENC           gsm7, ucs2 or auto; long texts are sent in parts
                              with an 8-bit concatenation UDH           [auto]
  --mo-inject-dir DIR         send each file DIR/*.mo written there (then
                              removed), in name order: "key: value" lines
                              from, to, text; optional encoding (gsm7, ucs2,
                              latin1), split (udh8, udh16, sar), pdu
                              (deliver_sm, data_sm), order (in, reverse),
                              omit N (leave part N out), repeat N   [none]
  --mo-redeliver              send MO parts again that were not acknowledged
                              (connection closed first, or ESME_RX_T_APPN)
                                                                       [off]

Counts and lifetime:
  --counts-file FILE          write the counts as JSON to FILE on SIGUSR1 and
                              on exit                                   [none]
  --duration S                exit after S seconds (0 = run until SIGTERM or
                              SIGINT)                                      [0]
  -h, --help                  show this text
  --version                   show the version

Exit status: 0 after SIGTERM, SIGINT or --duration; 2 for a bad option or
value; 1 when a file cannot be read or the address cannot be listened on.
)";

class parser {
 public:
  explicit parser(std::span<const std::string_view> args) : args_(args) {}

  sim_options_result run() {
    sim_options_result r;
    sim_options& o = r.options;
    smpp::smsc_sim_options& s = o.server;
    while (error_.empty() && i_ < args_.size()) {
      std::string_view a = args_[i_++];
      inline_value_.reset();
      if (const auto eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
        inline_value_ = a.substr(eq + 1);
        a = a.substr(0, eq);
      }
      flag_ = a;
      if (a == "--listen") listen(s);
      else if (a == "--port-file") o.port_file = text(false);
      else if (a == "--tls-cert") s.tls_cert_file = text(false);
      else if (a == "--tls-key") s.tls_key_file = text(false);
      else if (a == "--threads") s.threads = static_cast<unsigned>(whole(1, 64));
      else if (a == "--system-id") s.system_id = bounded_text(15);
      else if (a == "--password") s.password = bounded_text(8);
      else if (a == "--max-binds") s.max_binds = static_cast<unsigned>(whole(0, 1000000));
      else if (a == "--stale-bind-seconds") s.stale_bind_hold = seconds();
      else if (a == "--enquire-link-seconds") s.enquire_link_interval = seconds();
      else if (a == "--id-format") id_format(s);
      else if (a == "--resp-delay") s.resp_delay = std::chrono::milliseconds(whole(0, 3600000));
      else if (a == "--tps-cap") s.tps_cap = static_cast<std::uint32_t>(whole(0, 1000000000));
      else if (a == "--reject") reject(s);
      else if (a == "--count-destinations") s.count_destinations = flag();
      else if (a == "--arrivals-file") s.arrivals_file = text(false);
      else if (a == "--arrivals-prefix") s.arrivals_prefix = bounded_text(20);
      else if (a == "--receipt-delay") s.receipt_delay = std::chrono::milliseconds(whole(0, 86400000));
      else if (a == "--receipt-mix") receipt_mix(s);
      else if (a == "--receipt-before-resp") s.receipt_before_resp = fraction();
      else if (a == "--receipt-queue") s.receipt_queue_limit = whole(0, 100000000);
      else if (a == "--seed") s.seed = whole(0, UINT64_MAX);
      else if (a == "--drop-after") s.drop_after = whole(0, UINT64_MAX);
      else if (a == "--drop-every") s.drop_every = seconds();
      else if (a == "--no-enquire-link-resp") s.answer_enquire_link = !flag();
      else if (a == "--mo-script") o.mo_script_file = text(false);
      else if (a == "--mo-inject-dir") s.mo_inject_dir = text(false);
      else if (a == "--mo-redeliver") s.mo_redeliver = flag();
      else if (a == "--mo-rate") s.mo_rate = rate();
      else if (a == "--mo-text") s.mo_text = text(false);
      else if (a == "--mo-from") s.mo_from = bounded_text(20);
      else if (a == "--mo-to") s.mo_to = bounded_text(20);
      else if (a == "--mo-count") s.mo_count = whole(0, UINT64_MAX);
      else if (a == "--mo-encoding") mo_encoding(s);
      else if (a == "--counts-file") o.counts_file = text(false);
      else if (a == "--duration") o.duration = seconds();
      else if (a.starts_with("-")) error_ = "unknown option " + std::string(a);
      else error_ = "unexpected argument '" + std::string(a) + "'";
    }
    if (error_.empty()) check(o);
    r.error = std::move(error_);
    return r;
  }

 private:
  void fail(std::string_view why) {
    if (!error_.empty()) return;
    error_.append(flag_).append(": ").append(why);
  }
  void fail_value(std::string_view value, std::string_view why) {
    if (!error_.empty()) return;
    error_.append(flag_).append(": '").append(value).append("' ").append(why);
  }

  std::string_view value() {
    if (inline_value_) return *inline_value_;
    if (i_ >= args_.size()) {
      fail("needs a value");
      return {};
    }
    return args_[i_++];
  }

  bool flag() {
    if (inline_value_) fail("takes no value");
    return true;
  }

  std::string text(bool allow_empty) {
    const std::string_view v = value();
    if (!error_.empty()) return {};
    if (v.empty() && !allow_empty) fail("needs a non-empty value");
    return std::string(v);
  }

  std::string bounded_text(std::size_t max) {
    std::string v = text(false);
    if (v.size() > max)
      fail_value(v, "is longer than " + std::to_string(max) + " characters");
    return v;
  }

  std::uint64_t whole(std::uint64_t lo, std::uint64_t hi) {
    const std::string_view v = value();
    if (!error_.empty()) return 0;
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
      fail_value(v, "is not a whole number");
      return 0;
    }
    if (n < lo || n > hi) {
      fail_value(v, "is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
      return 0;
    }
    return n;
  }

  double decimal(std::string_view v) {
    double d = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d) ||
        d < 0) {
      fail_value(v, "is not a non-negative number");
      return 0;
    }
    return d;
  }

  std::chrono::milliseconds seconds() {
    const std::string_view v = value();
    if (!error_.empty()) return {};
    const double d = decimal(v);
    if (d > 86400.0 * 365) fail_value(v, "is more than a year");
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(d * 1000)));
  }

  double fraction(std::string_view v) {
    const double d = decimal(v);
    if (error_.empty() && d > 1) fail_value(v, "is not a fraction between 0 and 1");
    return d;
  }
  double fraction() {
    const std::string_view v = value();
    return error_.empty() ? fraction(v) : 0;
  }

  double rate() {
    const std::string_view v = value();
    if (!error_.empty()) return 0;
    const double d = decimal(v);
    if (error_.empty() && d > 10000000) fail_value(v, "is more than 10000000");
    return d;
  }

  void listen(smpp::smsc_sim_options& s) {
    const std::string_view v = value();
    if (!error_.empty()) return;
    std::string_view host, port;
    if (v.starts_with('[')) {
      const auto close = v.find("]:");
      if (close == std::string_view::npos) return fail_value(v, "is not [IPv6]:PORT");
      host = v.substr(1, close - 1);
      port = v.substr(close + 2);
    } else {
      const auto colon = v.rfind(':');
      if (colon == std::string_view::npos) return fail_value(v, "is not HOST:PORT");
      host = v.substr(0, colon);
      port = v.substr(colon + 1);
    }
    std::string h(host);
    if (h == "localhost") h = "127.0.0.1";
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(h, ec);
    if (ec || (address.is_v6() && !v.starts_with('[')))
      return fail_value(v, "does not start with an IP address (IPv6 in brackets)");
    unsigned n = 0;
    const auto [end, pec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (port.empty() || pec != std::errc() || end != port.data() + port.size() || n > 65535)
      return fail_value(v, "does not end with a port 0..65535");
    s.listen_host = h;
    s.listen_port = static_cast<std::uint16_t>(n);
  }

  void id_format(smpp::smsc_sim_options& s) {
    const std::string_view v = value();
    if (v == "decimal") s.id_format = smpp::sim_id_format::decimal;
    else if (v == "hex") s.id_format = smpp::sim_id_format::hex_lower;
    else if (v == "HEX") s.id_format = smpp::sim_id_format::hex_upper;
    else if (error_.empty()) fail_value(v, "is not decimal, hex or HEX");
  }

  void mo_encoding(smpp::smsc_sim_options& s) {
    const std::string_view v = value();
    if (v == "auto") s.mo_encoding.reset();
    else if (v == "gsm7") s.mo_encoding = smpp::text_encoding::gsm7;
    else if (v == "ucs2") s.mo_encoding = smpp::text_encoding::ucs2;
    else if (error_.empty()) fail_value(v, "is not gsm7, ucs2 or auto");
  }

  // 0x0B, 11 or ESME_RINVDSTADR.
  bool status(std::string_view v, smpp::command_status& out) {
    if (v.starts_with("ESME_")) {
      for (std::uint32_t s = 0; s < 0x500; ++s)
        if (smpp::name(static_cast<smpp::command_status>(s)) == v) {
          out = static_cast<smpp::command_status>(s);
          return true;
        }
      return false;
    }
    int base = 10;
    if (v.starts_with("0x") || v.starts_with("0X")) {
      v.remove_prefix(2);
      base = 16;
    }
    std::uint32_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n, base);
    if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n == 0) return false;
    out = static_cast<smpp::command_status>(n);
    return true;
  }

  void reject(smpp::smsc_sim_options& s) {
    const std::string_view v = value();
    if (!error_.empty()) return;
    const auto colon = v.find(':');
    if (colon == std::string_view::npos) return fail_value(v, "is not FRACTION:STATUS");
    smpp::sim_reject r;
    r.fraction = fraction(v.substr(0, colon));
    if (!error_.empty()) return;
    if (!status(v.substr(colon + 1), r.status))
      return fail_value(v, "does not end with a nonzero command_status (0x0B, 11, ESME_RINVDSTADR)");
    double sum = r.fraction;
    for (const auto& other : s.rejects) sum += other.fraction;
    if (sum > 1 + 1e-9) return fail_value(v, "makes the fractions add up to more than 1");
    s.rejects.push_back(r);
  }

  void receipt_mix(smpp::smsc_sim_options& s) {
    const std::string_view v = value();
    if (!error_.empty()) return;
    s.receipt_mix.clear();
    std::uint64_t total = 0;
    std::size_t at = 0;
    while (at <= v.size()) {
      const auto comma = std::min(v.find(',', at), v.size());
      const std::string_view item = v.substr(at, comma - at);
      at = comma + 1;
      const auto eq = item.find('=');
      if (eq == std::string_view::npos)
        return fail_value(item, "is not STAT=WEIGHT");
      const std::string_view word = item.substr(0, eq), weight = item.substr(eq + 1);
      smpp::sim_receipt_weight w;
      bool known = false;
      for (auto st : {smpp::message_state::delivered, smpp::message_state::expired,
                      smpp::message_state::deleted, smpp::message_state::undeliverable,
                      smpp::message_state::accepted, smpp::message_state::unknown,
                      smpp::message_state::rejected})
        if (smpp::receipt_stat_word(st) == word) {
          w.state = st;
          known = true;
        }
      if (!known)
        return fail_value(word, "is not DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN or ACCEPTD");
      const auto [end, ec] = std::from_chars(weight.data(), weight.data() + weight.size(), w.weight);
      if (weight.empty() || ec != std::errc() || end != weight.data() + weight.size())
        return fail_value(item, "does not end with a whole-number weight");
      total += w.weight;
      s.receipt_mix.push_back(w);
    }
    if (total == 0 || total > UINT32_MAX) fail_value(v, "needs weights adding up to 1..4294967295");
  }

  void check(sim_options& o) {
    const smpp::smsc_sim_options& s = o.server;
    flag_ = "--tls-cert";
    if (s.tls_cert_file.empty() != s.tls_key_file.empty())
      return fail("--tls-cert and --tls-key go together");
    flag_ = "--arrivals-prefix";
    if (!s.arrivals_prefix.empty() && s.arrivals_file.empty()) return fail("needs --arrivals-file");
    flag_ = "--mo-text";
    smpp::encoded_text scratch;
    smpp::encode_options eo;
    eo.force = s.mo_encoding;
    // The text as the first generated MO carries it ({n} -> 1).
    std::string sample;
    for (std::size_t i = 0; i < s.mo_text.size(); ++i) {
      if (s.mo_text.compare(i, 3, "{n}") == 0) {
        sample += '1';
        i += 2;
      } else {
        sample += s.mo_text[i];
      }
    }
    if (const auto ec = smpp::encode_text(sample, eo, scratch))
      return fail_value(s.mo_text, "cannot be sent: " + ec.message());
  }

  std::span<const std::string_view> args_;
  std::size_t i_ = 0;
  std::optional<std::string_view> inline_value_;
  std::string flag_;
  std::string error_;
};

}  // namespace

sim_options_result parse_sim_options(std::span<const std::string_view> args) {
  return parser(args).run();
}

bool load_mo_script(const std::string& path, std::optional<smpp::text_encoding> encoding,
                    std::vector<smpp::sim_mo>& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read --mo-script " + path;
    return false;
  }
  out.clear();
  smpp::encoded_text scratch;
  smpp::encode_options eo;
  eo.force = encoding;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto where = [&] { return path + ":" + std::to_string(number) + ": "; };
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::istringstream fields(line);
    smpp::sim_mo mo;
    fields >> mo.from >> mo.to;
    fields >> std::ws;
    std::getline(fields, mo.text);
    if (mo.from.empty() || mo.to.empty() || mo.text.empty()) {
      error = where() + "expected FROM TO TEXT";
      return false;
    }
    if (mo.from.size() > 20 || mo.to.size() > 20) {
      error = where() + "an address is longer than 20 characters";
      return false;
    }
    if (const auto ec = smpp::encode_text(mo.text, eo, scratch)) {
      error = where() + "text cannot be sent: " + ec.message();
      return false;
    }
    out.push_back(std::move(mo));
  }
  if (in.bad()) {
    error = "cannot read --mo-script " + path;
    return false;
  }
  return true;
}

std::string_view sim_usage() noexcept { return usage; }

}  // namespace smppd
