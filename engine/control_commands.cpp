#include "engine/control_commands.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "engine/api_tokens.hpp"

namespace engine {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;

struct reply {
  int status = 0;  // 0: no answer
  std::string body;
  std::string error;  // why there was no answer
};

reply call(const std::string& host, const std::string& port, http::verb method, const std::string& target,
           const std::string& token, const std::string& body = {}) {
  reply r;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "smppctl");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    r.status = res.result_int();
    r.body = std::move(res.body());
    beast::error_code ignored;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string campaign_table(const json& list) {
  std::string out = pad("CAMPAIGN", 24) + pad("STATE", 11) + pad("READ", 6) + pad("ROWS", 10) + pad("MESSAGES", 10) +
                    pad("REJECTED", 10) + "DUPLICATES\n";
  for (const auto& c : list) {
    std::string state = c.value("state", "");
    if (!c.value("in_config", true)) state += "*";
    out += pad(c.value("id", ""), 24) + pad(state, 11) + pad(c.value("reading_done", false) ? "done" : "...", 6) +
           pad(std::to_string(c.value("rows", 0)), 10) + pad(std::to_string(c.value("accepted", 0)), 10) +
           pad(std::to_string(c.value("rejected", 0)), 10) + std::to_string(c.value("duplicates", 0)) + "\n";
    if (const std::string problem = c.value("problem", ""); !problem.empty()) out += "  problem: " + problem + "\n";
  }
  bool removed = false;
  for (const auto& c : list) removed |= !c.value("in_config", true);
  if (removed) out += "* no longer in the configuration\n";
  return out;
}

std::string status_text(const json& s) {
  std::string out = pad("SMSC", 24) + pad("BOUND", 8) + pad("WINDOW", 11) + pad("TPS", 10) + "RATE NOW\n";
  for (const auto& c : s["smscs"]) {
    const double tps = c.value("tps", 0.0), rate = c.value("rate", 0.0);
    out += pad(c.value("name", ""), 24) +
           pad(std::to_string(c.value("bound", 0)) + "/" + std::to_string(c.value("binds", 0)), 8) +
           pad(std::to_string(c.value("outstanding", 0)) + "/" + std::to_string(c.value("window", 0)), 11) + pad(tps > 0 ? number(tps) : "-", 10) +
           (rate > 0 ? number(rate) : "-") + (c.value("rate_reduced", false) ? "  (lowered after throttling)" : "") +
           "\n";
  }
  out += "\n" + pad("OPERATOR", 24) + pad("TPS", 10) + pad("QUEUED NOTIFICATIONS", 22) + "QUEUED CAMPAIGN\n";
  for (const auto& o : s["operators"]) {
    const double tps = o.value("tps", 0.0);
    out += pad(o.value("name", ""), 24) + pad(tps > 0 ? number(tps) : "-", 10) +
           pad(std::to_string(o["queued"].value("notification", 0)), 22) +
           std::to_string(o["queued"].value("campaign", 0)) + "\n";
  }
  out += "\nopen messages " + std::to_string(s.value("open_messages", 0)) + ", held (paused campaigns) " +
         std::to_string(s.value("held_messages", 0)) + ", waiting to retry " +
         std::to_string(s.value("retry_waiting", 0)) + "\n";
  if (s.contains("storage") && s["storage"].is_object())
    out += "message log: " + std::to_string(s["storage"].value("backlog", 0)) + " events waiting for the writer, " +
           std::to_string(s["storage"].value("not_yet_durable", 0)) + " not yet on disk\n";
  if (!s["campaigns"].empty()) out += "\n" + campaign_table(s["campaigns"]);
  return out;
}

// A conversation and its replies, as people read them.
std::string conversation_text(const json& c) {
  std::string out = pad(c.value("id", ""), 14) + pad(c.value("customer", ""), 16) + pad(c.value("number", ""), 16) +
                    pad(c.value("code", ""), 7) + pad(c.value("opened", ""), 22) +
                    pad(c.value("answer", "").empty() ? "-" : c.value("answer", ""), 8) + "message " +
                    c.value("message_id", "") + "\n";
  for (const auto& r : c.value("replies", json::array()))
    out += "    " + r.value("received", "") + "  by " + pad(r.value("match", ""), 7) + r.value("text", "") + "\n";
  return out;
}

// One line per dead letter: the reply or message (and its event), the
// webhook, tries and why.
std::string dead_letters_text(const json& body) {
  const json list = body.value("dead_letters", json::array());
  if (list.empty()) return "no dead letters\n";
  std::string out = "EVENT                              WEBHOOK               TRIES  LAST ERROR\n";
  char line[256];
  for (const auto& d : list) {
    const std::string what =
        d.contains("message_id")
            ? "message " + std::to_string(d.value("message_id", 0ull)) + " " + d.value("event", "")
            : "reply " + std::to_string(d.value("reply_id", 0ull));
    std::snprintf(line, sizeof line, "%-34s %-21s %5u  ", what.c_str(), d.value("webhook", "").c_str(),
                  d.value("attempts", 0u));
    out += line + d.value("last_error", "") + "\n";
  }
  return out;
}

std::string conversations_text(const json& body) {
  std::string out = pad("CONVERSATION", 14) + pad("CUSTOMER", 16) + pad("OUR NUMBER", 16) + pad("CODE", 7) +
                    pad("OPENED", 22) + pad("ANSWER", 8) + "MESSAGE\n";
  for (const auto& c : body.value("conversations", json::array())) out += conversation_text(c);
  if (const auto loose = body.value("unmatched_replies", json::array()); !loose.empty()) {
    out += "\nreplies matching no conversation:\n";
    for (const auto& r : loose) out += "    " + r.value("received", "") + "  " + r.value("text", "") + "\n";
  }
  return out;
}

// A campaign's answers: the counts, then its conversations.
std::string answers_text(const json& body) {
  std::string out = body.value("campaign", "") + ": " + std::to_string(body.value("conversations_count", 0ull)) +
                    " conversations";
  if (const auto a = body.find("answers"); a != body.end() && a->is_object())
    for (auto it = a->begin(); it != a->end(); ++it)
      out += ", " + it.key() + " " + std::to_string(it->get<std::uint64_t>());
  out += ", replied without an answer " + std::to_string(body.value("replied_without_answer", 0ull)) +
         ", no reply " + std::to_string(body.value("no_reply", 0ull)) + "\n\n";
  out += conversations_text(body);
  if (body.contains("next"))
    out += "\nmore: smppctl campaign answers " + body.value("campaign", "") + " --after " + body.value("next", "") + "\n";
  return out;
}

std::string url_encoded(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string duration_text(double s) {
  const long long t = static_cast<long long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, t / 60 % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%llds", t);
  return buf;
}

// One progress line: a bar on a terminal, plain words elsewhere.
std::string progress_line(const json& c, bool terminal) {
  const double progress = c.value("progress", 0.0);
  const json& m = c.contains("messages") && c["messages"].is_object() ? c["messages"] : json::object();
  const auto count = [&](const char* k) { return m.value(k, std::uint64_t{0}); };
  const std::uint64_t failed = count("failed") + count("undeliverable") + count("rejected") + count("expired") +
                               count("unknown");
  std::string eta = c.contains("eta_s") && c["eta_s"].is_number() ? duration_text(c["eta_s"].get<double>()) : "-";
  char buf[256];
  std::snprintf(buf, sizeof buf, "%3.0f%%  rows %llu  delivered %llu  failed %llu  cancelled %llu  %s msg/s  ETA %s  %s",
                progress * 100, static_cast<unsigned long long>(c.value("rows", 0ull)),
                static_cast<unsigned long long>(count("delivered")), static_cast<unsigned long long>(failed),
                static_cast<unsigned long long>(count("cancelled") + count("suppressed")),
                number(c.value("rate", 0.0)).c_str(), eta.c_str(), c.value("state", "").c_str());
  if (!terminal) return c.value("id", "") + ": " + buf;
  const int width = 30, filled = static_cast<int>(progress * width + 0.5);
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] " + buf;
}

// Until every row is read and every message final (or the campaign is
// cancelled or waits): a line redrawn on a terminal, one per interval else.
int watch(const std::string& host, const std::string& port, const std::string& target, const std::string& token,
          double interval, std::string& err) {
  const bool terminal = ::isatty(STDOUT_FILENO);
  for (;;) {
    auto r = call(host, port, http::verb::get, target, token);
    json c = r.status == 200 ? json::parse(r.body, nullptr, false) : json();
    if (r.status != 200 || c.is_discarded()) {
      if (terminal) std::fputs("\n", stdout);
      err += "smppctl: " + (r.status ? r.body : r.error) + "\n";
      return 1;
    }
    const std::string line = progress_line(c, terminal);
    if (terminal) std::printf("\r%s\x1b[K", line.c_str());
    else std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    const json& m = c.contains("messages") && c["messages"].is_object() ? c["messages"] : json::object();
    const std::string state = c.value("state", "");
    const bool settled = c.value("reading_done", false) && m.value("total", 0ull) == m.value("final", 0ull);
    if (settled || state == "cancelled" || state == "waiting") {
      if (terminal) std::fputs("\n", stdout);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(interval));
  }
}

std::string body_id(const json& j) { return j.contains("id") ? j["id"].get<std::string>() : j.dump(); }

}  // namespace

int run_control_command(std::string_view command, const std::vector<std::string_view>& args, std::string& out,
                        std::string& err) {
  std::string api = std::getenv("SMPPD_API") ? std::getenv("SMPPD_API") : "127.0.0.1:8080";
  std::string token = std::getenv("SMPPD_TOKEN") ? std::getenv("SMPPD_TOKEN") : "";
  bool as_json = false;
  double interval = -1;
  std::vector<std::string> positional;
  json message;  // send's fields
  std::string customer;  // conversations'
  std::string after;     // campaign answers: the page after this conversation
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "--api" && has_value) api = std::string(args[++i]);
    else if (args[i] == "--token-file" && has_value) {
      std::ifstream in{std::string(args[++i])};
      if (!in || !std::getline(in, token)) {
        err += "smppctl: --token-file: cannot read " + std::string(args[i]) + "\n";
        return 2;
      }
    } else if (args[i] == "--json") as_json = true;
    else if (args[i] == "--interval" && has_value) {
      const std::string v(args[++i]);
      char* end = nullptr;
      interval = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || interval < 0.1 || interval > 3600) {
        err += "smppctl: --interval: expected seconds 0.1-3600, got \"" + v + "\"\n";
        return 2;
      }
    }
    else if (command == "send" && has_value &&
             (args[i] == "--to" || args[i] == "--text" || args[i] == "--from" || args[i] == "--priority" ||
              args[i] == "--validity" || args[i] == "--deliver-within")) {
      std::string key(args[i].substr(2));
      std::replace(key.begin(), key.end(), '-', '_');
      message[key] = std::string(args[i + 1]);
      ++i;
    } else if (command == "send" && args[i] == "--no-receipts") message["receipts"] = false;
    else if (command == "send" && args[i] == "--expects-reply") message["expects_reply"] = true;
    else if (command == "conversations" && args[i] == "--customer" && has_value) customer = std::string(args[++i]);
    else if (command == "reply" && args[i] == "--text" && has_value) message["text"] = std::string(args[++i]);
    else if (command == "campaign" && args[i] == "--after" && has_value) after = std::string(args[++i]);
    else if (args[i].starts_with("--")) {
      err += "smppctl: unknown option \"" + std::string(args[i]) + "\"\n";
      return 2;
    } else positional.emplace_back(args[i]);
  }
  const auto colon = api.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == api.size()) {
    err += "smppctl: --api: expected HOST:PORT, got \"" + api + "\"\n";
    return 2;
  }
  std::string host = api.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = api.substr(colon + 1);

  if (command == "token") {
    if (positional.size() != 2) {
      err += "usage: smppctl token NAME SCOPES   (SCOPES: a comma-separated list of send, campaigns, read)\n";
      return 2;
    }
    std::string error;
    auto t = make_token(positional[0], positional[1], error);
    if (!t) {
      err += "smppctl: " + error + "\n";
      return 2;
    }
    out += t->token + "\n";
    err += "smppctl: give the token (above) to its user; add this line to api.tokens_file and reload smppd:\n" +
           t->line + "\n";
    return 0;
  }

  http::verb method = http::verb::get;
  std::string target, request_body;
  if (command == "send" && positional.empty()) {
    if (!message.contains("to") || !message.contains("text") || !message.contains("from")) {
      err += "usage: smppctl send --to NUMBER --text TEXT --from SENDER [--priority notification|bulk] "
             "[--validity 1h] [--deliver-within 5m] [--no-receipts] [--expects-reply]\n";
      return 2;
    }
    method = http::verb::post;
    target = "/v1/messages";
    request_body = message.dump();
  } else if (command == "message" && positional.size() == 1) {
    target = "/v1/messages/" + positional[0];
  } else if (command == "status" && positional.empty()) {
    target = "/v1/status";
  } else if (command == "conversations" && positional.empty() && !customer.empty()) {
    target = "/v1/conversations?customer=" + url_encoded(customer);
  } else if (command == "conversation" && positional.size() == 1) {
    target = "/v1/conversations/" + positional[0];
  } else if (command == "reply" && positional.size() == 1 && message.contains("text")) {
    method = http::verb::post;
    target = "/v1/conversations/" + positional[0] + "/reply";
    request_body = message.dump();
  } else if (command == "webhooks" && positional.size() == 1 && positional[0] == "dead") {
    target = "/v1/webhooks/dead";
  } else if (command == "webhooks" && positional.size() == 1 && positional[0] == "retry") {
    method = http::verb::post;
    target = "/v1/webhooks/dead/retry";
  } else if (command == "campaigns" && positional.empty()) {
    target = "/v1/campaigns";
  } else if (command == "campaign" && positional.size() == 2 && positional[0] == "watch") {
    return watch(host, port, "/v1/campaigns/" + positional[1], token,
                 interval > 0 ? interval : ::isatty(STDOUT_FILENO) ? 1.0 : 10.0, err);
  } else if (command == "campaign" && positional.size() == 2 && positional[0] == "answers") {
    target = "/v1/campaigns/" + positional[1] + "/answers?limit=1000" + (after.empty() ? "" : "&after=" + url_encoded(after));
  } else if (command == "campaign" && positional.size() == 2 &&
             (positional[0] == "show" || positional[0] == "start" || positional[0] == "pause" ||
              positional[0] == "resume" || positional[0] == "cancel")) {
    target = "/v1/campaigns/" + positional[1];
    if (positional[0] != "show") {
      method = http::verb::post;
      target += "/" + positional[0];
    }
  } else {
    err += "usage: smppctl campaigns | campaign show|start|pause|resume|cancel|watch ID"
           " | campaign answers ID [--after CONVERSATION] | status | send ... | message ID"
           " | conversations --customer NUMBER | conversation ID | reply ID --text TEXT | webhooks dead|retry"
           "  [--api HOST:PORT]"
           " [--token-file FILE] [--json]\n";
    return 2;
  }

  auto r = call(host, port, method, target, token, request_body);
  if (!r.status) {
    err += "smppctl: no answer from smppd at " + api + ": " + r.error + "\n";
    return 1;
  }
  json body = json::parse(r.body, nullptr, false);
  if (r.status != 200 && r.status != 202) {
    std::string why = r.body;
    if (!body.is_discarded() && body.contains("error")) why = body["error"].value("message", r.body);
    err += "smppctl: " + why + " (HTTP " + std::to_string(r.status) + ")\n";
    return 1;
  }
  if (body.is_discarded()) {
    err += "smppctl: smppd at " + api + " answered something that is not JSON\n";
    return 1;
  }
  if (as_json) {
    out += body.dump(2) + "\n";
  } else if (command == "status") {
    out += status_text(body);
  } else if (command == "send" || command == "reply") {
    out += body_id(body) + "\n";
  } else if (command == "message") {
    out += body.dump(2) + "\n";
  } else if (command == "campaigns") {
    out += campaign_table(body["campaigns"]);
  } else if (command == "conversations") {
    out += conversations_text(body);
  } else if (command == "conversation") {
    out += conversations_text(json{{"conversations", json::array({body})}});
  } else if (command == "campaign" && positional[0] == "answers") {
    out += answers_text(body);
  } else if (command == "webhooks" && positional[0] == "dead") {
    out += dead_letters_text(body);
  } else if (command == "webhooks") {
    out += std::to_string(body.value("retried", 0)) + " dead letters back in the outbox\n";
  } else {
    out += campaign_table(json::array({body}));
  }
  return 0;
}

}  // namespace engine
