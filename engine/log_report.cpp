#include "engine/log_report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <fstream>

namespace engine {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string ms(std::chrono::microseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", d.count() / 1000.0);
  return buf;
}

std::string utc(std::int64_t us) {
  if (us == 0) return "";
  std::time_t t = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(us / 1000 % 1000));
  return buf;
}

std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

json latency_json(const storage::latency_summary& l) {
  return {{"count", l.count},
          {"p50_ms", l.p50.count() / 1000.0},
          {"p90_ms", l.p90.count() / 1000.0},
          {"p99_ms", l.p99.count() / 1000.0},
          {"max_ms", l.max.count() / 1000.0}};
}

}  // namespace

fs::path rejections_file(const fs::path& data_dir, std::string_view campaign) {
  return data_dir / "rejections" / (std::string(campaign) + ".csv");
}

rejections read_rejections(const fs::path& file, std::size_t keep) {
  rejections out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto comma = line.find(',');
    if (comma == std::string::npos) continue;
    ++out.count;
    if (out.first.size() >= keep) continue;
    std::uint64_t row = 0;
    std::from_chars(line.data(), line.data() + comma, row);
    std::string quoted = line.substr(comma + 1), reason;
    if (quoted.size() >= 2 && quoted.front() == '"') quoted = quoted.substr(1, quoted.size() - 2);
    for (std::size_t i = 0; i < quoted.size(); ++i) {
      reason += quoted[i];
      if (quoted[i] == '"' && i + 1 < quoted.size() && quoted[i + 1] == '"') ++i;  // "" is one quote
    }
    out.first.emplace_back(row, std::move(reason));
  }
  return out;
}

std::string format_campaign_report(const storage::campaign_report& r, const rejections& rej,
                                   const fs::path& rejections_path, report_format f) {
  std::string out;
  char buf[256];
  if (f == report_format::json) {
    json states = json::object();
    for (std::size_t i = 0; i < storage::state_count; ++i) {
      const auto st = static_cast<storage::state>(i);
      if (r.messages[st]) states[std::string(storage::name(st))] = r.messages[st];
    }
    json rows = json::array();
    for (auto& [row, reason] : rej.first) rows.push_back({{"row", row}, {"reason", reason}});
    json suppressed = json::object();
    for (std::size_t i = 0; i < r.suppressed_by.size(); ++i)
      if (r.suppressed_by[i]) suppressed[std::string(storage::name(static_cast<storage::cause>(i)))] = r.suppressed_by[i];
    json j{{"campaign", r.campaign},
           {"messages", r.messages.total()},
           {"final", r.messages.final_total()},
           {"by_state", states},
           {"suppressed_by", suppressed},
           {"delivery_rate", r.delivery_rate},
           {"removed_by_retention", r.removed},
           {"rejected_rows", rej.count},
           {"rejections", rows},
           {"submit_to_resp", latency_json(r.submit_to_resp)},
           {"submit_to_receipt", latency_json(r.submit_to_receipt)},
           {"cursor_row", r.cursor_row}};
    return j.dump(2) + "\n";
  }
  if (f == report_format::csv) {
    out = "campaign,state,messages\n";
    for (std::size_t i = 0; i < storage::state_count; ++i) {
      const auto st = static_cast<storage::state>(i);
      if (!r.messages[st]) continue;
      std::snprintf(buf, sizeof buf, ",%s,%llu\n", std::string(storage::name(st)).c_str(),
                    static_cast<unsigned long long>(r.messages[st]));
      out += csv_field(r.campaign) + buf;
    }
    return out;
  }
  std::snprintf(buf, sizeof buf, "Campaign %s\n", r.campaign.c_str());
  out += buf;
  std::snprintf(buf, sizeof buf, "  rows             %llu (one message each in the log)\n",
                static_cast<unsigned long long>(r.messages.total()));
  out += buf;
  std::snprintf(buf, sizeof buf, "  rejected rows    %llu", static_cast<unsigned long long>(rej.count));
  out += buf;
  if (rej.count) out += " (never sent; row and reason in " + rejections_path.string() + ")";
  out += "\n  by state\n";
  for (std::size_t i = 0; i < storage::state_count; ++i) {
    const auto st = static_cast<storage::state>(i);
    if (!r.messages[st]) continue;
    std::snprintf(buf, sizeof buf, "    %-14s %llu", std::string(storage::name(st)).c_str(),
                  static_cast<unsigned long long>(r.messages[st]));
    out += buf;
    if (st == storage::state::suppressed) {
      // Why: outside its send window, validity over, a duplicate.
      std::string why;
      for (std::size_t c = 0; c < r.suppressed_by.size(); ++c)
        if (r.suppressed_by[c])
          why += (why.empty() ? "" : ", ") + std::to_string(r.suppressed_by[c]) + " " +
                 std::string(storage::name(static_cast<storage::cause>(c)));
      if (!why.empty()) out += " (" + why + ")";
    }
    out += "\n";
  }
  std::snprintf(buf, sizeof buf, "  delivery rate    %.1f%%\n", r.delivery_rate * 100);
  out += buf;
  auto latency = [&](const char* what, const storage::latency_summary& l) {
    if (!l.count) return;
    std::snprintf(buf, sizeof buf, "  %-16s p50 %s, p90 %s, p99 %s, max %s (%llu parts)\n", what, ms(l.p50).c_str(),
                  ms(l.p90).c_str(), ms(l.p99).c_str(), ms(l.max).c_str(), static_cast<unsigned long long>(l.count));
    out += buf;
  };
  latency("submit->resp", r.submit_to_resp);
  latency("submit->receipt", r.submit_to_receipt);
  if (r.removed) {
    std::snprintf(buf, sizeof buf, "  removed          %llu (by retention; still counted)\n",
                  static_cast<unsigned long long>(r.removed));
    out += buf;
  }
  for (auto& [row, reason] : rej.first) {
    std::snprintf(buf, sizeof buf, "    row %llu: ", static_cast<unsigned long long>(row));
    out += buf + reason + "\n";
  }
  if (rej.count > rej.first.size()) out += "    ...\n";
  return out;
}

std::string format_smsc_report(const storage::smsc_report& r, report_format f) {
  if (f == report_format::json) {
    json states = json::object();
    for (std::size_t i = 0; i < storage::state_count; ++i) {
      const auto st = static_cast<storage::state>(i);
      if (r.parts[st]) states[std::string(storage::name(st))] = r.parts[st];
    }
    return json{{"smsc", r.smsc},
                {"parts", r.parts.total()},
                {"by_state", states},
                {"in_doubt", r.in_doubt},
                {"orphan_receipts_kept", r.orphans_kept},
                {"orphan_receipts_expired", r.orphans_expired},
                {"delivery_rate", r.delivery_rate},
                {"submit_to_resp", latency_json(r.submit_to_resp)},
                {"submit_to_receipt", latency_json(r.submit_to_receipt)}}
               .dump(2) +
           "\n";
  }
  std::string out = "SMSC " + r.smsc + ": " + std::to_string(r.parts.total()) + " parts";
  for (std::size_t i = 0; i < storage::state_count; ++i) {
    const auto st = static_cast<storage::state>(i);
    if (r.parts[st]) out += ", " + std::to_string(r.parts[st]) + " " + std::string(storage::name(st));
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "; delivery rate %.1f%%", r.delivery_rate * 100);
  out += buf;
  if (r.in_doubt) out += "; " + std::to_string(r.in_doubt) + " in doubt";
  if (r.orphans_kept || r.orphans_expired)
    out += "; orphan receipts " + std::to_string(r.orphans_kept) + " kept, " + std::to_string(r.orphans_expired) +
           " expired";
  if (r.submit_to_resp.count) out += "; resp p99 " + ms(r.submit_to_resp.p99);
  return out + "\n";
}

namespace {

// Why a message that was never sent ended as it did ("outside_send_window",
// "validity_ended", "duplicate"); "" for the others.
std::string reason_of(const storage::message_record& r) {
  if (r.st != storage::state::suppressed) return "";
  for (const auto& p : r.parts)
    if (p.st == storage::state::suppressed) return std::string(storage::name(p.settled_by));
  return "";
}

// A message as JSON: smppctl message --json, GET /v1/messages/ID.
json message_json(const storage::message_view& m) {
  const auto& r = m.record;
  json parts = json::array();
  for (const auto& p : r.parts)
    parts.push_back({{"state", storage::name(p.st)},
                     {"attempts", p.attempts},
                     {"smsc", p.smsc},
                     {"smsc_message_id", p.smsc_message_id},
                     {"submitted", utc(p.submitted_us)},
                     {"resp", utc(p.resp_us)},
                     {"receipt", utc(p.receipt_us)},
                     {"command_status", p.command_status},
                     {"error_code", p.error_code},
                     {"cause", storage::name(p.settled_by)}});
  json timeline = json::array();
  for (const auto& e : m.timeline)
    timeline.push_back({{"at", utc(e.at_us)},
                        {"part", e.part},
                        {"event", storage::name(e.what)},
                        {"state", storage::name(e.st)},
                        {"code", e.code},
                        {"smsc", e.smsc},
                        {"cause", storage::name(e.cause)}});
  json j{{"id", std::to_string(r.id)},
         {"state", storage::name(r.st)},
         {"origin", r.origin == storage::origin::campaign ? "campaign" : "api"},
         {"campaign", r.campaign},
         {"row", r.row},
         {"recipient", r.recipient},
         {"sender", r.sender},
         {"text", r.text},
         {"queued", utc(r.queued_us)},
         {"valid_until", utc(r.valid_until_us)},
         {"deliver_by", utc(r.deliver_by_us)},
         {"reason", reason_of(r)},
         {"parts", parts},
         {"timeline", timeline}};
  return j;
}

}  // namespace

std::string format_message(const storage::message_view& m, report_format f) {
  if (f == report_format::json) return message_json(m).dump(2) + "\n";
  const auto& r = m.record;
  std::string out;
  char buf[320];
  std::snprintf(buf, sizeof buf, "Message %llu: %s", static_cast<unsigned long long>(r.id),
                std::string(storage::name(r.st)).c_str());
  out += buf;
  if (const auto why = reason_of(r); !why.empty()) out += " (" + why + ")";
  out += "\n";
  out += "  to " + r.recipient + " from " + r.sender;
  if (r.origin == storage::origin::campaign) out += ", campaign " + r.campaign + " row " + std::to_string(r.row);
  out += "\n  text \"" + r.text + "\"\n";
  for (std::size_t i = 0; i < r.parts.size(); ++i) {
    const auto& p = r.parts[i];
    std::snprintf(buf, sizeof buf, "  part %zu: %s, %u attempt%s, smsc %s, id %s\n", i + 1,
                  std::string(storage::name(p.st)).c_str(), p.attempts, p.attempts == 1 ? "" : "s",
                  p.smsc.empty() ? "-" : p.smsc.c_str(), p.smsc_message_id.empty() ? "-" : p.smsc_message_id.c_str());
    out += buf;
  }
  out += "  timeline\n";
  for (const auto& e : m.timeline) {
    std::string who = e.part < 0 ? "message" : "part " + std::to_string(e.part + 1);
    std::snprintf(buf, sizeof buf, "    %s  %-8s %-9s -> %-13s", utc(e.at_us).c_str(), who.c_str(),
                  std::string(storage::name(e.what)).c_str(), std::string(storage::name(e.st)).c_str());
    out += buf;
    if (e.code) out += " code " + std::to_string(e.code);
    if (!e.smsc.empty()) out += " via " + e.smsc;
    if (e.cause != storage::cause::engine) out += " (" + std::string(storage::name(e.cause)) + ")";
    out += "\n";
  }
  return out;
}

namespace {

struct log_args {
  fs::path data_dir = "/var/lib/smppd";
  report_format format = report_format::table;
  std::vector<std::string> positional;
};

// --data-dir DIR, --json, --csv (when allowed); false with err on a bad one.
bool parse_log_args(const std::vector<std::string_view>& args, bool csv_allowed, log_args& out, std::string& err) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--data-dir" && i + 1 < args.size()) {
      out.data_dir = std::string(args[++i]);
    } else if (args[i] == "--json") {
      out.format = report_format::json;
    } else if (args[i] == "--csv" && csv_allowed) {
      out.format = report_format::csv;
    } else if (!args[i].empty() && args[i][0] == '-') {
      err += "smppctl: unknown option '" + std::string(args[i]) + "'\n";
      return false;
    } else {
      out.positional.emplace_back(args[i]);
    }
  }
  return true;
}

std::unique_ptr<storage::log_reader> open_reader(const fs::path& data_dir, std::string& err) {
  storage::reader_options o;
  o.dir = data_dir / "log";
  if (!fs::exists(o.dir)) {
    err += "smppctl: no message log in " + o.dir.string() + " (give the daemon's data_dir with --data-dir)\n";
    return nullptr;
  }
  try {
    auto r = std::make_unique<storage::log_reader>(o);
    if (auto ec = r->catch_up()) {
      err += "smppctl: cannot read the message log: " + ec.message() + "\n";
      return nullptr;
    }
    return r;
  } catch (const std::exception& e) {
    err += std::string("smppctl: cannot open the message log in ") + o.dir.string() + ": " + e.what() + "\n";
    return nullptr;
  }
}

}  // namespace

int run_report_command(const std::vector<std::string_view>& args, std::string& out, std::string& err) {
  log_args a;
  if (!parse_log_args(args, true, a, err)) return 2;
  auto reader = open_reader(a.data_dir, err);
  if (!reader) return 1;
  std::error_code ec;
  if (a.positional.empty()) {
    // Without a campaign: list them.
    for (const auto& c : reader->campaigns(ec)) out += c + "\n";
    return ec ? 1 : 0;
  }
  if (a.positional.size() == 2 && a.positional[0] == "smsc") {
    auto known = reader->smscs(ec);
    if (std::find(known.begin(), known.end(), a.positional[1]) == known.end()) {
      err += "smppctl: no SMSC \"" + a.positional[1] + "\" in the log\n";
      return 1;
    }
    auto r = reader->smsc(a.positional[1], ec);
    if (ec) {
      err += "smppctl: " + ec.message() + "\n";
      return 1;
    }
    out += format_smsc_report(r, a.format == report_format::json ? report_format::json : report_format::table);
    return 0;
  }
  if (a.positional.size() != 1) {
    err += "usage: smppctl report [--data-dir DIR] [--csv | --json] [CAMPAIGN | smsc NAME]\n";
    return 2;
  }
  const auto& campaign = a.positional[0];
  auto known = reader->campaigns(ec);
  if (std::find(known.begin(), known.end(), campaign) == known.end()) {
    err += "smppctl: no campaign \"" + campaign + "\" in the log\n";
    return 1;
  }
  auto r = reader->report(campaign, ec);
  if (ec) {
    err += "smppctl: " + ec.message() + "\n";
    return 1;
  }
  const auto path = rejections_file(a.data_dir, campaign);
  out += format_campaign_report(r, read_rejections(path), path, a.format);
  return 0;
}

int run_message_command(const std::vector<std::string_view>& args, std::string& out, std::string& err) {
  log_args a;
  if (!parse_log_args(args, false, a, err)) return 2;
  std::vector<std::uint64_t> ids;
  for (std::string_view p : a.positional) {
    std::uint64_t id = 0;
    if (std::from_chars(p.data(), p.data() + p.size(), id).ec != std::errc() || id == 0) {
      err += "smppctl: '" + std::string(p) + "' is not a message id (a number from 1)\n";
      ids.clear();
      break;
    }
    ids.push_back(id);
  }
  if (ids.empty()) {
    err += "usage: smppctl message [--data-dir DIR] [--json] ID [ID...]\n";
    return 2;
  }
  auto reader = open_reader(a.data_dir, err);
  if (!reader) return 1;
  // Several ids: every message found is printed (JSON: an array of them,
  // in the order given); each one missing is named, and the exit status is 1.
  int rc = 0;
  const bool array = a.format == report_format::json && ids.size() > 1;
  json found = json::array();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::error_code ec;
    auto m = reader->message(ids[i], ec);
    if (!m) {
      err += "smppctl: no message " + std::to_string(ids[i]) + " in the log\n";
      rc = 1;
      continue;
    }
    if (array) found.push_back(message_json(*m));
    else out += (out.empty() ? "" : "\n") + format_message(*m, a.format);
  }
  if (array) out += found.dump(2) + "\n";
  return rc;
}

}  // namespace engine
