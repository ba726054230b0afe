#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace config {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string config_error::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

const smsc_config* settings::smsc(std::string_view n) const noexcept {
  for (auto& s : smscs)
    if (s.name == n) return &s;
  return nullptr;
}

const operator_config* settings::find_operator(std::string_view n) const noexcept {
  for (auto& o : operators)
    if (o.name == n) return &o;
  return nullptr;
}

std::string_view name(bind_mode m) noexcept {
  switch (m) {
    case bind_mode::transceiver: return "transceiver";
    case bind_mode::tx_rx: return "tx_rx";
    case bind_mode::transmitter: return "transmitter";
  }
  return "";
}

std::string_view name(sync_mode m) noexcept {
  switch (m) {
    case sync_mode::always: return "always";
    case sync_mode::interval: return "interval";
    case sync_mode::never: return "never";
  }
  return "";
}

std::string_view name(in_doubt_policy p) noexcept {
  switch (p) {
    case in_doubt_policy::mark_unknown: return "mark_unknown";
    case in_doubt_policy::resend: return "resend";
  }
  return "";
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view t) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || p == t.data()) return std::nullopt;
  std::string_view unit(p, static_cast<std::size_t>(t.data() + t.size() - p));
  std::uint64_t ms_per = 0;
  if (unit == "ms") ms_per = 1;
  else if (unit == "s") ms_per = 1000;
  else if (unit == "m" || unit == "min") ms_per = 60'000;
  else if (unit == "h") ms_per = 3'600'000;
  else if (unit == "d") ms_per = 86'400'000;
  else return std::nullopt;
  if (n > (std::uint64_t{1} << 40) / ms_per) return std::nullopt;  // beyond any sane setting
  return std::chrono::milliseconds(n * ms_per);
}

namespace {

// Levenshtein distance, for "did you mean" on misspelt keys.
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string show(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 60)) out += (c == '"' ? '\'' : c);
  if (s.size() > 60) out += "...";
  return out + "\"";
}

// Reads one document, collecting every error with its place.
class reader {
 public:
  reader(std::string file, fs::path base, std::vector<config_error>& errors)
      : file_(std::move(file)), base_(std::move(base)), errors_(errors) {}

  void error(const YAML::Node& at, const std::string& key, std::string message) {
    config_error e;
    e.file = file_;
    if (at.IsDefined()) {
      auto m = at.Mark();
      if (m.line >= 0) {
        e.line = m.line + 1;
        e.column = m.column + 1;
      }
    }
    e.key = key;
    e.message = std::move(message);
    errors_.push_back(std::move(e));
  }

  // A mapping whose keys are all known; unknown keys are errors (with a
  // suggestion when one is close). False when `n` is not a mapping.
  bool map(const YAML::Node& n, const std::string& path, std::initializer_list<std::string_view> known) {
    if (!n.IsMap()) {
      error(n, path, "expected a mapping of keys to values");
      return false;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = it->first.Scalar();
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      std::string msg = "unknown key " + show(k);
      std::string_view best;
      std::size_t best_d = 3;
      for (auto cand : known)
        if (auto d = distance(k, cand); d < best_d) {
          best_d = d;
          best = cand;
        }
      if (!best.empty()) msg += " (did you mean \"" + std::string(best) + "\"?)";
      error(it->first, join(path, k), msg);
    }
    return true;
  }

  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  // A string value with ${ENV} references expanded; nullopt when absent
  // (an error too if required) or invalid.
  std::optional<std::string> string(const YAML::Node& m, const std::string& path, std::string_view key,
                                    bool required = false) {
    const YAML::Node n = m[std::string(key)];
    const std::string where = join(path, key);
    if (!n.IsDefined() || n.IsNull()) {
      if (required) error(m, where, "missing (required)");
      return std::nullopt;
    }
    if (!n.IsScalar()) {
      error(n, where, "expected a single value");
      return std::nullopt;
    }
    return expand(n, where, n.Scalar());
  }

  // A secret from `key` or from the file named by `key`_file.
  secret secret_value(const YAML::Node& m, const std::string& path, std::string_view key) {
    const std::string file_key = std::string(key) + "_file";
    const bool direct = m[std::string(key)].IsDefined();
    const bool from_file = m[file_key].IsDefined();
    if (direct && from_file) {
      error(m[file_key], join(path, file_key), "give " + std::string(key) + " or " + file_key + ", not both");
      return {};
    }
    if (from_file) {
      auto p = string(m, path, file_key);
      if (!p) return {};
      fs::path f = resolve(*p);
      std::ifstream in(f, std::ios::binary);
      if (!in) {
        error(m[file_key], join(path, file_key), "cannot read " + show(f.string()));
        return {};
      }
      std::string v((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!v.empty() && v.back() == '\n') v.pop_back();
      if (!v.empty() && v.back() == '\r') v.pop_back();
      return secret(std::move(v));
    }
    auto v = string(m, path, key);
    return v ? secret(std::move(*v)) : secret();
  }

  template <class Int>
  std::optional<Int> integer(const YAML::Node& m, const std::string& path, std::string_view key, Int lo,
                             Int hi, bool required = false) {
    auto s = string(m, path, key, required);
    if (!s) return std::nullopt;
    long long v = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || p != s->data() + s->size() || v < static_cast<long long>(lo) ||
        v > static_cast<long long>(hi)) {
      error(m[std::string(key)], join(path, key),
            "expected a whole number from " + std::to_string(lo) + " to " + std::to_string(hi) + ", got " +
                show(*s));
      return std::nullopt;
    }
    return static_cast<Int>(v);
  }

  std::optional<double> number(const YAML::Node& m, const std::string& path, std::string_view key, double lo,
                               double hi) {
    auto s = string(m, path, key);
    if (!s) return std::nullopt;
    double v = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || p != s->data() + s->size() || v < lo || v > hi) {
      std::ostringstream range;
      range << lo << " to " << hi;
      error(m[std::string(key)], join(path, key), "expected a number from " + range.str() + ", got " + show(*s));
      return std::nullopt;
    }
    return v;
  }

  std::optional<bool> boolean(const YAML::Node& m, const std::string& path, std::string_view key) {
    auto s = string(m, path, key);
    if (!s) return std::nullopt;
    std::string v = *s;
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    if (v == "true" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "no" || v == "off") return false;
    error(m[std::string(key)], join(path, key), "expected true or false, got " + show(*s));
    return std::nullopt;
  }

  std::optional<std::chrono::milliseconds> duration(const YAML::Node& m, const std::string& path,
                                                    std::string_view key) {
    auto s = string(m, path, key);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (!d) error(m[std::string(key)], join(path, key), "expected a duration such as 500ms, 30s, 5m, 24h or 7d, got " + show(*s));
    return d;
  }

  template <class Enum>
  std::optional<Enum> choice(const YAML::Node& m, const std::string& path, std::string_view key,
                             std::initializer_list<std::pair<std::string_view, Enum>> options) {
    auto s = string(m, path, key);
    if (!s) return std::nullopt;
    std::string list;
    for (auto& [n, v] : options) {
      if (*s == n) return v;
      list += (list.empty() ? "" : ", ") + std::string(n);
    }
    error(m[std::string(key)], join(path, key), "expected one of " + list + ", got " + show(*s));
    return std::nullopt;
  }

  std::optional<endpoint> listen(const YAML::Node& m, const std::string& path, std::string_view key) {
    auto s = string(m, path, key);
    if (!s) return std::nullopt;
    endpoint e;
    std::string_view v = *s;
    std::size_t colon;
    if (v.starts_with("[")) {
      auto close = v.find(']');
      if (close == std::string_view::npos || close + 1 >= v.size() || v[close + 1] != ':') colon = std::string_view::npos;
      else {
        e.host = std::string(v.substr(1, close - 1));
        colon = close + 1;
      }
    } else {
      colon = v.rfind(':');
      if (colon != std::string_view::npos) e.host = std::string(v.substr(0, colon));
    }
    unsigned port = 0;
    if (colon != std::string_view::npos) {
      auto digits = v.substr(colon + 1);
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
      if (ec != std::errc() || p != digits.data() + digits.size() || port > 65535) colon = std::string_view::npos;
    }
    if (colon == std::string_view::npos || e.host.empty()) {
      error(m[std::string(key)], join(path, key), "expected HOST:PORT such as 127.0.0.1:8080 or [::1]:8080, got " + show(v));
      return std::nullopt;
    }
    e.port = static_cast<std::uint16_t>(port);
    return e;
  }

  // An IANA time zone name as the system's tzdata knows it: a TZif file
  // under /usr/share/zoneinfo (a folder such as "Europe" is not a zone).
  std::optional<std::string> zone(const YAML::Node& m, const std::string& path, std::string_view key) {
    auto v = string(m, path, key);
    if (!v) return std::nullopt;
    if (!known_zone(*v)) {
      error(m[std::string(key)], join(path, key),
            "unknown time zone " + show(*v) + " (expected an IANA name such as Europe/Vilnius)");
      return std::nullopt;
    }
    return v;
  }

  static bool known_zone(const std::string& name) {
    if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) return false;
    std::ifstream in(fs::path("/usr/share/zoneinfo") / name, std::ios::binary);
    char magic[4] = {};
    return in.read(magic, 4) && std::string_view(magic, 4) == "TZif";
  }

  fs::path resolve(const std::string& p) const {
    fs::path f(p);
    return f.is_absolute() ? f : base_ / f;
  }

 private:
  std::optional<std::string> expand(const YAML::Node& at, const std::string& where, const std::string& raw) {
    std::string out;
    for (std::size_t i = 0; i < raw.size();) {
      if (raw.compare(i, 2, "${") != 0) {
        out += raw[i++];
        continue;
      }
      auto close = raw.find('}', i + 2);
      if (close == std::string::npos) {
        error(at, where, "unterminated ${...} reference");
        return std::nullopt;
      }
      std::string var = raw.substr(i + 2, close - i - 2);
      bool valid = !var.empty() && !std::isdigit(static_cast<unsigned char>(var[0])) &&
                   std::all_of(var.begin(), var.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
      if (!valid) {
        error(at, where, "invalid environment variable name " + show(var) + " in ${...}");
        return std::nullopt;
      }
      const char* v = std::getenv(var.c_str());
      if (!v) {
        error(at, where, "environment variable " + var + " is not set");
        return std::nullopt;
      }
      out += v;
      i = close + 1;
    }
    return out;
  }

  std::string file_;
  fs::path base_;
  std::vector<config_error>& errors_;
};

bool valid_prefix(std::string_view p) { return p.size() >= 2 && p[0] == '+' && is_digits(p.substr(1)); }

std::optional<std::chrono::minutes> clock_time(std::string_view s) {
  if (s.size() != 5 || s[2] != ':' || !is_digits(s.substr(0, 2)) || !is_digits(s.substr(3))) return std::nullopt;
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
  return std::chrono::minutes(h * 60 + m);
}

// Checks {{field}} / {{field|default}} syntax; returns an error message or "".
std::string check_template(std::string_view t) {
  for (std::size_t i = 0; (i = t.find("{{", i)) != std::string_view::npos;) {
    auto close = t.find("}}", i + 2);
    if (close == std::string_view::npos) return "unterminated {{ at character " + std::to_string(i + 1);
    auto inner = t.substr(i + 2, close - i - 2);
    auto field = inner.substr(0, inner.find('|'));
    while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
    while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
    if (field.empty() || !std::all_of(field.begin(), field.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '_' || c == '-';
        }))
      return "invalid field name in {{" + std::string(inner) + "}}";
    i = close + 2;
  }
  return "";
}

void read_node(reader& r, const YAML::Node& n, node_config& out) {
  if (!r.map(n, "node",
             {"data_dir", "sync", "in_doubt", "retention", "orphan_receipts", "log_memtables_mib", "log_cache_mib"}))
    return;
  if (auto v = r.string(n, "node", "data_dir")) out.data_dir = r.resolve(*v);
  if (auto v = r.string(n, "node", "sync")) {
    if (*v == "always") out.sync = sync_mode::always;
    else if (*v == "never") out.sync = sync_mode::never;
    else if (auto d = v->starts_with("every_") ? parse_duration(v->substr(6)) : std::nullopt; d && d->count() > 0) {
      out.sync = sync_mode::interval;
      out.sync_interval = *d;
    } else {
      r.error(n["sync"], "node.sync", "expected always, never or every_<duration> (every_10ms), got " + show(*v));
    }
  }
  if (auto v = r.choice<in_doubt_policy>(n, "node", "in_doubt",
                                         {{"mark_unknown", in_doubt_policy::mark_unknown},
                                          {"resend", in_doubt_policy::resend}}))
    out.in_doubt = *v;
  if (auto d = r.duration(n, "node", "retention")) out.retention = std::chrono::duration_cast<std::chrono::seconds>(*d);
  if (auto d = r.duration(n, "node", "orphan_receipts"))
    out.orphan_receipts = std::chrono::duration_cast<std::chrono::seconds>(*d);
  if (auto v = r.integer<std::size_t>(n, "node", "log_memtables_mib", 16, 65536)) out.log_memtables_mib = *v;
  if (auto v = r.integer<std::size_t>(n, "node", "log_cache_mib", 4, 65536)) out.log_cache_mib = *v;
}

void read_retry(reader& r, const YAML::Node& n, retry_config& out) {
  if (!r.map(n, "retry", {"attempts", "first_delay", "max_delay"})) return;
  if (auto v = r.integer<std::uint32_t>(n, "retry", "attempts", 1, 100)) out.attempts = *v;
  constexpr std::chrono::milliseconds shortest{100}, longest = std::chrono::hours(24);
  const auto bounded = [&](std::string_view key, std::chrono::milliseconds& to) {
    const auto d = r.duration(n, "retry", key);
    if (!d) return;
    const YAML::Node v = n[std::string(key)];
    if (*d < shortest || *d > longest)
      r.error(v, "retry." + std::string(key), "expected 100ms to 24h, got " + show(v.Scalar()));
    else
      to = *d;
  };
  bounded("first_delay", out.first_delay);
  bounded("max_delay", out.max_delay);
  if (out.max_delay < out.first_delay) {
    const YAML::Node f = n["first_delay"], m = n["max_delay"];
    r.error(m.IsDefined() ? m : n, "retry.max_delay",
            "expected at least first_delay (" + (f.IsDefined() ? f.Scalar() : "2s, the default") + "), got " +
                (m.IsDefined() ? show(m.Scalar()) : "5m (the default)"));
  }
}

void read_smsc(reader& r, const YAML::Node& n, const std::string& path, smsc_config& s) {
  if (!r.map(n, path,
             {"name", "host", "port", "system_id", "password", "password_file", "system_type", "addr_ton",
              "addr_npi", "address_range", "bind", "binds", "window", "tps", "enquire_link_s",
              "response_timeout", "reconnect_initial", "reconnect_max", "already_bound_wait", "long_messages",
              "gsm7_packing", "data_coding_0", "receipt_id_format", "tls"}))
    return;
  if (auto v = r.string(n, path, "name", true)) s.name = *v;
  if (auto v = r.string(n, path, "host", true)) s.host = *v;
  if (auto v = r.integer<std::uint16_t>(n, path, "port", 1, 65535)) s.port = *v;
  if (auto v = r.string(n, path, "system_id", true)) {
    s.system_id = *v;
    if (v->size() > 15) r.error(n["system_id"], path + ".system_id", "at most 15 characters (SMPP 3.4)");
  }
  s.password = r.secret_value(n, path, "password");
  if (s.password.reveal().size() > 8)
    r.error(n["password"].IsDefined() ? n["password"] : n["password_file"], path + ".password",
            "at most 8 characters (SMPP 3.4)");
  if (auto v = r.string(n, path, "system_type")) s.system_type = *v;
  if (auto v = r.integer<std::uint8_t>(n, path, "addr_ton", 0, 6)) s.addr_ton = *v;
  if (auto v = r.integer<std::uint8_t>(n, path, "addr_npi", 0, 18)) s.addr_npi = *v;
  if (auto v = r.string(n, path, "address_range")) s.address_range = *v;
  if (auto v = r.choice<bind_mode>(n, path, "bind",
                                   {{"transceiver", bind_mode::transceiver},
                                    {"tx_rx", bind_mode::tx_rx},
                                    {"transmitter", bind_mode::transmitter}}))
    s.bind = *v;
  if (auto v = r.integer<unsigned>(n, path, "binds", 1, 64)) s.binds = *v;
  if (auto v = r.integer<unsigned>(n, path, "window", 1, 10000)) s.window = *v;
  if (auto v = r.number(n, path, "tps", 0, 1e7)) s.tps = *v;
  if (auto v = r.integer<unsigned>(n, path, "enquire_link_s", 1, 3600)) s.enquire_link = std::chrono::seconds(*v);
  if (auto d = r.duration(n, path, "response_timeout")) s.response_timeout = *d;
  if (auto d = r.duration(n, path, "reconnect_initial")) s.reconnect_initial = *d;
  if (auto d = r.duration(n, path, "reconnect_max")) s.reconnect_max = *d;
  if (auto d = r.duration(n, path, "already_bound_wait"))
    s.already_bound_wait = std::chrono::duration_cast<std::chrono::seconds>(*d);
  if (auto v = r.choice<long_message_mode>(n, path, "long_messages",
                                           {{"udh", long_message_mode::udh},
                                            {"udh16", long_message_mode::udh16},
                                            {"sar", long_message_mode::sar},
                                            {"payload", long_message_mode::payload}}))
    s.long_messages = *v;
  if (auto v = r.choice<gsm7_layout>(n, path, "gsm7_packing",
                                     {{"unpacked", gsm7_layout::unpacked}, {"packed", gsm7_layout::packed}}))
    s.gsm7_packing = *v;
  if (auto v = r.choice<dc0_meaning>(n, path, "data_coding_0",
                                     {{"gsm7", dc0_meaning::gsm7}, {"latin1", dc0_meaning::latin1},
                                      {"ascii", dc0_meaning::ascii}}))
    s.data_coding_0 = *v;
  if (auto v = r.choice<receipt_id_format>(n, path, "receipt_id_format",
                                           {{"auto", receipt_id_format::automatic},
                                            {"decimal", receipt_id_format::decimal},
                                            {"hex", receipt_id_format::hex},
                                            {"string", receipt_id_format::string}}))
    s.receipt_ids = *v;
  if (s.reconnect_max < s.reconnect_initial)
    r.error(n, path + ".reconnect_max", "must not be shorter than reconnect_initial");
  if (const YAML::Node t = n["tls"]; t.IsDefined()) {
    const std::string tp = path + ".tls";
    if (r.map(t, tp, {"enabled", "verify", "ca_file", "server_name"})) {
      s.tls.enabled = true;
      if (auto v = r.boolean(t, tp, "enabled")) s.tls.enabled = *v;
      if (auto v = r.boolean(t, tp, "verify")) s.tls.verify = *v;
      if (auto v = r.string(t, tp, "ca_file")) {
        s.tls.ca_file = r.resolve(*v).string();
        if (!fs::exists(s.tls.ca_file)) r.error(t["ca_file"], tp + ".ca_file", "no such file " + show(s.tls.ca_file));
      }
      if (auto v = r.string(t, tp, "server_name")) s.tls.server_name = *v;
    }
  }
}

void read_operator(reader& r, const YAML::Node& n, const std::string& path, operator_config& o) {
  if (!r.map(n, path, {"name", "prefixes", "smscs", "tps"})) return;
  if (auto v = r.string(n, path, "name", true)) o.name = *v;
  if (auto v = r.number(n, path, "tps", 0, 1e7)) o.tps = *v;
  const YAML::Node p = n["prefixes"];
  if (!p.IsDefined() || !p.IsSequence() || p.size() == 0) {
    r.error(p.IsDefined() ? p : n, path + ".prefixes", "expected a list of E.164 prefixes such as [\"+3706\"]");
  } else {
    for (std::size_t i = 0; i < p.size(); ++i) {
      const std::string where = path + ".prefixes[" + std::to_string(i) + "]";
      if (!p[i].IsScalar() || !valid_prefix(p[i].Scalar()))
        r.error(p[i], where, "expected '+' and digits, got " + show(p[i].IsScalar() ? p[i].Scalar() : "a list"));
      else
        o.prefixes.push_back(p[i].Scalar());
    }
  }
  const YAML::Node s = n["smscs"];
  if (!s.IsDefined() || !s.IsSequence() || s.size() == 0) {
    r.error(s.IsDefined() ? s : n, path + ".smscs", "expected a list of SMSC names (or {name, weight} entries)");
    return;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const std::string where = path + ".smscs[" + std::to_string(i) + "]";
    operator_route route;
    if (s[i].IsScalar()) {
      route.smsc = s[i].Scalar();
    } else if (r.map(s[i], where, {"name", "weight"})) {
      if (auto v = r.string(s[i], where, "name", true)) route.smsc = *v;
      if (auto v = r.integer<unsigned>(s[i], where, "weight", 1, 1000)) route.weight = *v;
    }
    if (!route.smsc.empty()) o.smscs.push_back(route);
  }
}

void read_campaign(reader& r, const YAML::Node& n, const std::string& path, campaign_config& c) {
  if (!r.map(n, path, {"id", "start", "recipients", "from", "text", "send_window", "tps", "receipts", "validity",
                       "expects_reply", "consent", "auto_ack", "deliver_within"}))
    return;
  if (auto v = r.string(n, path, "id", true)) {
    c.id = *v;
    if (c.id.empty() || c.id.size() > 64 || !std::all_of(c.id.begin(), c.id.end(), [](unsigned char ch) {
          return std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.';
        }))
      r.error(n["id"], path + ".id", "expected 1-64 letters, digits, '-', '_' or '.', got " + show(c.id));
  }
  if (auto v = r.string(n, path, "recipients", true)) {
    c.recipients = r.resolve(*v);
    if (!fs::is_regular_file(c.recipients))
      r.error(n["recipients"], path + ".recipients", "no such file " + show(c.recipients.string()));
  }
  if (auto v = r.string(n, path, "from", true)) {
    c.from = *v;
    if (c.from.empty() || c.from.size() > 20)
      r.error(n["from"], path + ".from", "expected a sender of 1-20 characters (an alphanumeric sender takes at most 11)");
  }
  if (auto v = r.string(n, path, "text", true)) {
    c.text = *v;
    if (c.text.empty()) r.error(n["text"], path + ".text", "empty text");
    if (auto msg = check_template(c.text); !msg.empty()) r.error(n["text"], path + ".text", msg);
  }
  if (auto v = r.choice<campaign_start>(n, path, "start",
                                        {{"auto", campaign_start::automatic}, {"manual", campaign_start::manual}}))
    c.start = *v;
  if (auto v = r.number(n, path, "tps", 0, 1e7)) c.tps = *v;
  if (auto v = r.boolean(n, path, "receipts")) c.receipts = *v;
  if (auto d = r.duration(n, path, "validity")) c.validity = std::chrono::duration_cast<std::chrono::seconds>(*d);
  if (auto v = r.boolean(n, path, "expects_reply")) c.expects_reply = *v;
  if (const YAML::Node k = n["consent"]; k.IsDefined()) {
    const std::string kp = path + ".consent";
    if (r.map(k, kp, {"column", "list"})) {
      consent_rule rule;
      if (auto v = r.string(k, kp, "column")) {
        rule.column = *v;
        if (v->empty()) r.error(k["column"], kp + ".column", "expected the name of a column of the recipients file");
      }
      if (auto v = r.string(k, kp, "list")) {
        rule.list = r.resolve(*v);
        if (!fs::is_regular_file(rule.list))
          r.error(k["list"], kp + ".list", "no such file " + show(rule.list.string()));
      }
      if (rule.column.empty() && rule.list.empty())
        r.error(k, kp, "expected a column of the recipients file (column: opt_in), a list of numbers (list: FILE), or both");
      c.consent = std::move(rule);
    }
  }
  if (auto v = r.string(n, path, "auto_ack")) {
    c.auto_ack = *v;
    if (c.auto_ack.empty()) r.error(n["auto_ack"], path + ".auto_ack", "empty text (leave the key out for none)");
  }
  if (auto d = r.duration(n, path, "deliver_within")) c.deliver_within = *d;
  if (const YAML::Node w = n["send_window"]; w.IsDefined()) {
    const std::string wp = path + ".send_window";
    if (r.map(w, wp, {"start", "end", "timezone", "fallback_timezone"})) {
      send_window sw;
      for (auto [key, field] : {std::pair{"start", &sw.start}, std::pair{"end", &sw.end}}) {
        if (auto v = r.string(w, wp, key, true)) {
          if (auto t = clock_time(*v)) *field = *t;
          else r.error(w[key], wp + "." + key, "expected a time of day HH:MM, got " + show(*v));
        }
      }
      if (auto v = r.string(w, wp, "timezone")) {
        sw.timezone = *v;
        if (*v != recipient_zone) r.zone(w, wp, "timezone");
      }
      if (r.string(w, wp, "fallback_timezone")) {
        if (sw.timezone != recipient_zone)
          r.error(w["fallback_timezone"], wp + ".fallback_timezone", "only with timezone: recipient");
        else if (auto z = r.zone(w, wp, "fallback_timezone"))
          sw.fallback_timezone = *z;
      }
      c.window = sw;
    }
  }
}

std::optional<std::vector<std::string>> words(reader& r, const YAML::Node& m, const std::string& path,
                                              const char* key) {
  const YAML::Node n = m[key];
  if (!n.IsDefined()) return std::nullopt;
  if (!n.IsSequence()) {
    r.error(n, path + "." + key, "expected a list of words such as [STOP, END]");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar() || n[i].Scalar().empty() || n[i].Scalar().size() > 40) {
      r.error(n[i], path + "." + key + "[" + std::to_string(i) + "]", "expected a word of 1-40 characters");
      continue;
    }
    out.push_back(n[i].Scalar());
  }
  return out;
}

void read_webhook(reader& r, const YAML::Node& n, const std::string& path, webhook_config& w) {
  if (!r.map(n, path, {"name", "url", "format", "secret", "secret_file", "events", "campaigns", "ca_file"})) return;
  if (auto v = r.string(n, path, "name", true)) w.name = *v;
  if (auto v = r.string(n, path, "url", true)) {
    w.url = *v;
    const bool tls = w.url.starts_with("https://");
    if ((!tls && !w.url.starts_with("http://")) || w.url.size() <= (tls ? 8u : 7u))
      r.error(n["url"], path + ".url", "expected an http:// or https:// URL");  // not echoed: it may hold a token
  }
  if (auto v = r.string(n, path, "ca_file")) {
    w.ca_file = r.resolve(*v).string();
    if (!fs::exists(w.ca_file)) r.error(n["ca_file"], path + ".ca_file", "no such file " + show(w.ca_file));
  }
  if (auto f = r.choice<webhook_format>(n, path, "format",
                                        {{"slack", webhook_format::slack},
                                         {"teams", webhook_format::teams},
                                         {"json", webhook_format::json}}))
    w.format = *f;
  w.signing_secret = r.secret_value(n, path, "secret");
  if (!w.signing_secret.empty() && w.format != webhook_format::json)
    r.error(n["secret"].IsDefined() ? n["secret"] : n["secret_file"], path + ".secret",
            "only format json is signed (Slack and Teams URLs carry their own token)");
  if (auto e = words(r, n, path, "events")) {
    w.events.clear();
    for (std::size_t i = 0; i < e->size(); ++i) {
      const std::string& ev = (*e)[i];
      if (ev == "reply") w.events.push_back(webhook_event::reply);
      else if (ev == "opt_out") w.events.push_back(webhook_event::opt_out);
      else if (ev == "opt_in") w.events.push_back(webhook_event::opt_in);
      else if (ev == "delivered") w.events.push_back(webhook_event::delivered);
      else if (ev == "failed") w.events.push_back(webhook_event::failed);
      else if (ev == "undelivered_by_deadline") w.events.push_back(webhook_event::undelivered_by_deadline);
      else r.error(n["events"][i], path + ".events[" + std::to_string(i) + "]",
                   "expected one of reply, opt_out, opt_in, delivered, failed, undelivered_by_deadline, got " +
                       show(ev));
    }
  }
  if (auto c = words(r, n, path, "campaigns")) w.campaigns = std::move(*c);
}

// two_way.auto_ack: { text, period, loop_guard, numbers: { NUMBER: text } }
void read_auto_ack(reader& r, const YAML::Node& n, auto_ack_config& out) {
  const std::string path = "two_way.auto_ack";
  if (!r.map(n, path, {"text", "numbers", "period", "loop_guard"})) return;
  if (auto v = r.string(n, path, "text")) {
    out.text = *v;
    if (out.text.empty()) r.error(n["text"], path + ".text", "empty text (leave the key out for none)");
  }
  if (auto d = r.duration(n, path, "period")) {
    out.period = *d;
    if (d->count() == 0) r.error(n["period"], path + ".period", "expected a duration above zero");
  }
  if (auto d = r.duration(n, path, "loop_guard")) out.loop_guard = *d;
  const YAML::Node numbers = n["numbers"];
  if (!numbers.IsDefined() || numbers.IsNull()) return;
  if (!numbers.IsMap()) {
    r.error(numbers, path + ".numbers",
            "expected a mapping of our numbers to texts, such as { \"+37060000100\": \"...\" }");
    return;
  }
  std::map<std::string, std::string> by_digits;  // digits -> the number as written first
  for (auto it = numbers.begin(); it != numbers.end(); ++it) {
    const std::string number = it->first.Scalar();
    const std::string where = path + ".numbers." + number;
    std::string digits;
    const bool plus = number.starts_with('+');
    const bool only_digits = std::all_of(number.begin() + (plus ? 1 : 0), number.end(),
                                         [](unsigned char ch) { return ch >= '0' && ch <= '9'; });
    if (only_digits) digits = number.substr(plus ? 1 : 0);
    if (digits.size() > 2 && digits.starts_with("00")) digits.erase(0, 2);
    if (!only_digits || digits.size() < 3 || digits.size() > 15) {
      r.error(it->first, where,
              "expected a number of ours, 3-15 digits with or without a leading '+', got " + show(number));
      continue;
    }
    if (auto [at, fresh] = by_digits.emplace(digits, number); !fresh) {
      r.error(it->first, where, "the same number as " + show(at->second));
      continue;
    }
    auto text = r.string(numbers, path + ".numbers", number);
    if (!text) continue;
    if (text->empty()) {
      r.error(it->second, where, "empty text (leave the number out for none)");
      continue;
    }
    out.numbers[number] = std::move(*text);
  }
}

void read_two_way(reader& r, const YAML::Node& n, two_way_config& out) {
  if (!r.map(n, "two_way", {"reassembly_timeout", "redelivery_window", "languages", "reply_numbers",
                             "conversation_window", "webhooks", "webhook_retry_base", "webhook_retry_max",
                             "webhook_attempts", "auto_ack", "reply_retention"}))
    return;
  if (auto d = r.duration(n, "two_way", "reply_retention")) {
    out.reply_retention = std::chrono::duration_cast<std::chrono::seconds>(*d);
    if (d->count() != 0 && *d < std::chrono::hours(1))
      r.error(n["reply_retention"], "two_way.reply_retention",
              "at least 1h (0s keeps replies and conversations for ever), got " + show(n["reply_retention"].Scalar()));
  }
  if (const YAML::Node a = n["auto_ack"]; a.IsDefined()) read_auto_ack(r, a, out.auto_ack);
  if (auto d = r.duration(n, "two_way", "webhook_retry_base")) out.webhook_retry_base = *d;
  if (auto d = r.duration(n, "two_way", "webhook_retry_max")) out.webhook_retry_max = *d;
  if (auto v = r.integer<int>(n, "two_way", "webhook_attempts", 1, 1000)) out.webhook_attempts = *v;
  if (const YAML::Node hooks = n["webhooks"]; hooks.IsDefined()) {
    if (!hooks.IsSequence()) {
      r.error(hooks, "two_way.webhooks", "expected a list of {name, url, format, ...}");
    } else {
      for (std::size_t i = 0; i < hooks.size(); ++i) {
        const std::string path = "two_way.webhooks[" + std::to_string(i) + "]";
        webhook_config w;
        read_webhook(r, hooks[i], path, w);
        for (const auto& other : out.webhooks)
          if (!w.name.empty() && other.name == w.name)
            r.error(hooks[i]["name"], path + ".name", "webhook " + show(w.name) + " is named twice");
        out.webhooks.push_back(std::move(w));
      }
    }
  }
  if (auto d = r.duration(n, "two_way", "reassembly_timeout")) out.reassembly_timeout = *d;
  if (auto d = r.duration(n, "two_way", "conversation_window")) out.conversation_window = *d;
  if (auto w = words(r, n, "two_way", "reply_numbers")) out.reply_numbers = std::move(*w);
  if (auto d = r.duration(n, "two_way", "redelivery_window")) out.redelivery_window = *d;
  const YAML::Node langs = n["languages"];
  if (!langs.IsDefined()) return;
  if (!langs.IsMap()) {
    r.error(langs, "two_way.languages", "expected a mapping of language codes (en, ru, lt, ...) to keywords");
    return;
  }
  for (auto it = langs.begin(); it != langs.end(); ++it) {
    const std::string lang = it->first.Scalar();
    const std::string path = "two_way.languages." + lang;
    const YAML::Node l = it->second;
    if (!r.map(l, path, {"opt_out", "opt_in", "help", "yes", "no", "opt_out_text", "opt_in_text", "help_text"}))
      continue;
    keyword_set k;
    if (auto w = words(r, l, path, "yes")) k.yes = std::move(*w);
    if (auto w = words(r, l, path, "no")) k.no = std::move(*w);
    if (auto w = words(r, l, path, "opt_out")) k.opt_out = std::move(*w);
    if (auto w = words(r, l, path, "opt_in")) k.opt_in = std::move(*w);
    if (auto w = words(r, l, path, "help")) k.help = std::move(*w);
    if (auto v = r.string(l, path, "opt_out_text")) k.opt_out_text = *v;
    if (auto v = r.string(l, path, "opt_in_text")) k.opt_in_text = *v;
    if (auto v = r.string(l, path, "help_text")) k.help_text = *v;
    if (!k.help.empty() && k.help_text.empty())
      r.error(l, path + ".help_text", "HELP keywords need the text to answer with");
    out.languages[lang] = std::move(k);
  }
}

template <class T, class F>
void read_list(reader& r, const YAML::Node& root, const char* key, std::vector<T>& out, F&& read_one) {
  const YAML::Node n = root[key];
  if (!n.IsDefined() || n.IsNull()) return;
  if (!n.IsSequence()) {
    r.error(n, key, "expected a list");
    return;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    T item;
    read_one(r, n[i], std::string(key) + "[" + std::to_string(i) + "]", item);
    out.push_back(std::move(item));
  }
}

// Cross-references: unique names, known SMSCs, no prefix claimed twice.
void check_references(reader& r, const YAML::Node& root, const settings& s) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < s.smscs.size(); ++i)
    if (!s.smscs[i].name.empty() && !names.insert(s.smscs[i].name).second)
      r.error(root["smscs"][i]["name"], "smscs[" + std::to_string(i) + "].name",
              "duplicate SMSC name " + show(s.smscs[i].name));
  std::set<std::string> ops;
  std::map<std::string, std::string> prefix_owner;
  for (std::size_t i = 0; i < s.operators.size(); ++i) {
    const auto& o = s.operators[i];
    const YAML::Node on = root["operators"][i];
    const std::string path = "operators[" + std::to_string(i) + "]";
    if (!o.name.empty() && !ops.insert(o.name).second)
      r.error(on["name"], path + ".name", "duplicate operator name " + show(o.name));
    const smsc_config* first = o.smscs.empty() ? nullptr : s.smsc(o.smscs.front().smsc);
    for (std::size_t j = 0; j < o.smscs.size(); ++j) {
      const smsc_config* c = s.smsc(o.smscs[j].smsc);
      if (!c) {
        r.error(on["smscs"][j], path + ".smscs[" + std::to_string(j) + "]",
                "no SMSC named " + show(o.smscs[j].smsc) + " in smscs");
        continue;
      }
      // A message is encoded and split once, for its operator: whichever
      // of the operator's SMSCs sends it must read the parts alike.
      if (!first || c == first) continue;
      std::string list;
      auto differs = [&](bool d, const char* key) {
        if (d) list += (list.empty() ? "" : ", ") + std::string(key);
      };
      differs(c->long_messages != first->long_messages, "long_messages");
      differs(c->gsm7_packing != first->gsm7_packing, "gsm7_packing");
      differs(c->data_coding_0 != first->data_coding_0, "data_coding_0");
      if (list.empty()) continue;
      r.error(on["smscs"][j], path + ".smscs[" + std::to_string(j) + "]",
              "SMSC " + show(c->name) + " differs from " + show(first->name) + " in " + list +
                  ": texts are encoded once for the operator, so its SMSCs must agree on long_messages, "
                  "gsm7_packing and data_coding_0");
    }
    for (std::size_t j = 0; j < o.prefixes.size(); ++j) {
      auto [it, fresh] = prefix_owner.emplace(o.prefixes[j], o.name);
      if (!fresh)
        r.error(on["prefixes"][j], path + ".prefixes[" + std::to_string(j) + "]",
                "prefix " + o.prefixes[j] + " already belongs to operator " + show(it->second));
    }
  }
  if (!s.default_operator.empty() && !s.find_operator(s.default_operator))
    r.error(root["default_operator"], "default_operator", "no operator named " + show(s.default_operator));
  std::set<std::string> ids;
  for (std::size_t i = 0; i < s.campaigns.size(); ++i) {
    const std::string path = "campaigns[" + std::to_string(i) + "]";
    if (!s.campaigns[i].id.empty() && !ids.insert(s.campaigns[i].id).second)
      r.error(root["campaigns"][i]["id"], path + ".id", "duplicate campaign id " + show(s.campaigns[i].id));
    if (s.campaigns[i].expects_reply && s.two_way.reply_numbers.empty())
      r.error(root["campaigns"][i]["expects_reply"], path + ".expects_reply",
              "needs two_way.reply_numbers: the numbers replies come back to");
  }
}

// logging: { level: info, components: { smsc: debug } }
void read_logging(reader& r, const YAML::Node& n, logging::levels& out) {
  if (!r.map(n, "logging", {"level", "components"})) return;
  auto level_of = [&](const YAML::Node& m, const std::string& path, const std::string& key) {
    auto v = r.string(m, path, key);
    if (!v) return std::optional<logging::level>();
    auto l = logging::parse_level(*v);
    if (!l)
      r.error(m[key], reader::join(path, key),
              "expected one of " + std::string(logging::level_names()) + ", got " + show(*v));
    return l;
  };
  if (auto l = level_of(n, "logging", "level")) out.base = *l;
  const YAML::Node c = n["components"];
  if (!c.IsDefined() || c.IsNull()) return;
  if (!c.IsMap()) {
    r.error(c, "logging.components", "expected a mapping of components to levels, such as { smsc: debug }");
    return;
  }
  for (auto it = c.begin(); it != c.end(); ++it) {
    const std::string key = it->first.Scalar();
    auto comp = logging::parse_component(key);
    if (!comp) {
      r.error(it->first, "logging.components." + key,
              "unknown component " + show(key) + " (expected one of " + std::string(logging::component_names()) + ")");
      continue;
    }
    if (auto l = level_of(c, "logging.components", key)) out.by_component[static_cast<std::size_t>(*comp)] = *l;
  }
}

}  // namespace

load_result load_text(std::string_view yaml, std::string_view file, const fs::path& base_dir) {
  load_result out;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    config_error err;
    err.file = std::string(file);
    if (e.mark.line >= 0) {
      err.line = e.mark.line + 1;
      err.column = e.mark.column + 1;
    }
    err.message = "not valid YAML: " + e.msg;
    out.errors.push_back(std::move(err));
    return out;
  }
  reader r(std::string(file), base_dir, out.errors);
  settings s;
  try {
    if (root.IsNull()) {
      r.error(root, "", "the file is empty; at least smscs and operators are needed");
      return out;
    }
    if (!r.map(root, "", {"node", "api", "metrics", "logging", "smscs", "operators", "default_operator", "numbering",
                          "retry", "campaigns", "two_way"}))
      return out;
    if (root["retry"].IsDefined()) read_retry(r, root["retry"], s.retry);
    if (root["two_way"].IsDefined()) read_two_way(r, root["two_way"], s.two_way);
    if (root["node"].IsDefined()) read_node(r, root["node"], s.node);
    // Replies are kept as long as messages unless told otherwise.
    if (const YAML::Node t = root["two_way"]; !(t.IsMap() && t["reply_retention"].IsDefined()))
      s.two_way.reply_retention = s.node.retention;
    if (const YAML::Node a = root["api"]; a.IsDefined() && r.map(a, "api", {"listen", "tokens_file", "max_batch", "max_body_bytes"})) {
      if (auto v = r.listen(a, "api", "listen")) s.api.listen = *v;
      if (auto v = r.string(a, "api", "tokens_file")) {
        s.api.tokens_file = r.resolve(*v);
        if (!fs::is_regular_file(s.api.tokens_file))
          r.error(a["tokens_file"], "api.tokens_file", "no such file " + show(s.api.tokens_file.string()));
      }
      if (auto v = r.integer<std::size_t>(a, "api", "max_batch", 1, 100000)) s.api.max_batch = *v;
      if (auto v = r.integer<std::size_t>(a, "api", "max_body_bytes", 1024, 64 << 20)) s.api.max_body_bytes = *v;
      // Without tokens anyone who reaches the port may send: loopback only.
      const std::string& h = s.api.listen.host;
      const bool loopback = h == "localhost" || h == "::1" || h.starts_with("127.");
      if (!loopback && s.api.tokens_file.empty())
        r.error(a["listen"].IsDefined() ? a["listen"] : a, "api.listen",
                "listening on " + show(h) + " (not loopback) needs api.tokens_file");
    }
    if (const YAML::Node m = root["metrics"]; m.IsDefined() && r.map(m, "metrics", {"listen"}))
      if (auto v = r.listen(m, "metrics", "listen")) s.metrics.listen = *v;
    if (const YAML::Node n = root["logging"]; n.IsDefined()) read_logging(r, n, s.log_levels);
    read_list(r, root, "smscs", s.smscs, read_smsc);
    read_list(r, root, "operators", s.operators, read_operator);
    read_list(r, root, "campaigns", s.campaigns, read_campaign);
    if (auto v = r.string(root, "", "default_operator")) s.default_operator = *v;
    if (const YAML::Node n = root["numbering"];
        n.IsDefined() &&
        r.map(n, "numbering", {"default_country_code", "trunk_prefix", "time_zones", "default_time_zone"})) {
      if (auto z = r.zone(n, "numbering", "default_time_zone")) s.numbering.default_time_zone = *z;
      if (const YAML::Node t = n["time_zones"]; t.IsDefined()) {
        if (!t.IsMap()) {
          r.error(t, "numbering.time_zones", "expected a mapping of E.164 prefixes to zones, such as \"+1212\": America/New_York");
        } else {
          for (auto it = t.begin(); it != t.end(); ++it) {
            const std::string prefix = it->first.Scalar();
            const std::string where = "numbering.time_zones." + prefix;
            if (!valid_prefix(prefix)) {
              r.error(it->first, where, "expected '+' and digits, got " + show(prefix));
              continue;
            }
            if (auto z = r.zone(t, "numbering.time_zones", prefix)) s.numbering.time_zones.emplace_back(prefix, *z);
          }
        }
      }
      if (auto v = r.string(n, "numbering", "trunk_prefix")) {
        if (v->size() > 2 || (!v->empty() && !is_digits(*v)))
          r.error(n["trunk_prefix"], "numbering.trunk_prefix", "expected at most 2 digits, got " + show(*v));
        else
          s.numbering.trunk_prefix = *v;
      }
      if (auto v = r.string(n, "numbering", "default_country_code")) {
        if (!is_digits(*v) || v->size() > 3)
          r.error(n["default_country_code"], "numbering.default_country_code",
                  "expected 1-3 digits without '+', got " + show(*v));
        else
          s.numbering.default_country_code = *v;
      }
    }
    if (s.smscs.empty() && out.errors.empty()) r.error(root, "smscs", "at least one SMSC is needed");
    if (s.operators.empty() && out.errors.empty()) r.error(root, "operators", "at least one operator is needed");
    check_references(r, root, s);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on some malformed shapes (a key that is itself a list).
    config_error err;
    err.file = std::string(file);
    if (e.mark.line >= 0) {
      err.line = e.mark.line + 1;
      err.column = e.mark.column + 1;
    }
    err.message = "unexpected structure: " + e.msg;
    out.errors.push_back(std::move(err));
  }
  if (out.errors.empty()) out.value = std::move(s);
  return out;
}

two_way_config default_two_way() {
  two_way_config c;
  c.languages["en"] = keyword_set{
      {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"},
      {"START", "UNSTOP", "SUBSCRIBE"},
      {"HELP", "INFO"},
      {"YES", "Y", "1"},
      {"NO", "N", "2"},
      "You will receive no more messages from us. Reply START to receive them again.",
      "You will receive our messages again. Reply STOP to stop them.",
      "Reply STOP to receive no more messages, START to receive them again."};
  c.languages["ru"] = keyword_set{
      {"СТОП", "ОТПИСАТЬСЯ", "ОТПИСКА"},
      {"СТАРТ", "ПОДПИСАТЬСЯ"},
      {"ПОМОЩЬ", "СПРАВКА"},
      {"ДА"},
      {"НЕТ"},
      "Вы больше не будете получать наши сообщения. Ответьте СТАРТ, чтобы получать их снова.",
      "Вы снова будете получать наши сообщения. Ответьте СТОП, чтобы отказаться.",
      "Ответьте СТОП, чтобы отказаться от сообщений, СТАРТ, чтобы получать их снова."};
  c.languages["lt"] = keyword_set{
      {"ATSISAKYTI", "NEBESIŲSTI", "STABDYTI"},
      {"PRADĖTI", "UŽSISAKYTI"},
      {"PAGALBA"},
      {"TAIP"},
      {"NE"},
      "Daugiau mūsų žinučių negausite. Atsakykite PRADĖTI, jei norite jas vėl gauti.",
      "Vėl gausite mūsų žinutes. Atsakykite ATSISAKYTI, jei norite jų nebegauti.",
      "Atsakykite ATSISAKYTI, jei nebenorite žinučių, PRADĖTI, jei norite jas vėl gauti."};
  return c;
}

campaign_result load_campaign(std::string_view text, std::string_view name, const fs::path& base_dir) {
  campaign_result out;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    config_error err;
    err.file = std::string(name);
    if (e.mark.line >= 0) {
      err.line = e.mark.line + 1;
      err.column = e.mark.column + 1;
    }
    err.message = "not valid YAML or JSON: " + e.msg;
    out.errors.push_back(std::move(err));
    return out;
  }
  reader r(std::string(name), base_dir, out.errors);
  campaign_config c;
  try {
    if (!root.IsMap()) r.error(root, "", "expected a campaign: an object with id, recipients, from, text, ...");
    else read_campaign(r, root, "campaign", c);
  } catch (const YAML::Exception& e) {
    r.error(root, "", e.msg);
  }
  if (out.errors.empty()) out.value = std::move(c);
  return out;
}

load_result load_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    load_result out;
    out.errors.push_back({file.string(), 0, 0, "", "cannot read the file"});
    return out;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_text(text, file.string(), file.has_parent_path() ? file.parent_path() : fs::path("."));
}

}  // namespace config
