#include "engine/webhooks.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "logging/logger.hpp"
#include "logging/thread_name.hpp"

namespace engine {

namespace lg = logging;
using lg::component;
using json = nlohmann::json;
namespace http = boost::beast::http;
using config::webhook_event;
using config::webhook_format;

namespace {

constexpr auto request_timeout = std::chrono::seconds(5);
constexpr auto idle_poll = std::chrono::milliseconds(100);

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso_time(std::int64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Slack's mrkdwn gives &, < and > meaning: a customer's text is shown as written.
std::string slack_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out.push_back(c);
  }
  return out;
}

bool is_message_event(webhook_event k) noexcept {
  return k == webhook_event::delivered || k == webhook_event::failed || k == webhook_event::undelivered_by_deadline;
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

std::string title_of(const webhook_event_data& e) {
  const std::string message = "Message " + std::to_string(e.outcome.message_id);
  switch (e.kind) {
    case webhook_event::opt_out: return e.reply.from + " opted out";
    case webhook_event::opt_in: return e.reply.from + " opted in again";
    case webhook_event::delivered: return message + " delivered";
    case webhook_event::failed: return message + " not delivered: " + std::string(storage::name(e.outcome.st));
    case webhook_event::undelivered_by_deadline: return message + " not delivered by its deadline";
    case webhook_event::reply: break;
  }
  return "Reply from " + e.reply.from;
}

// A message's event: the title, then to whom, its campaign, why and when.
std::string message_summary(const webhook_event_data& e) {
  const auto& o = e.outcome;
  std::string s = title_of(e) + "\nTo " + e.message.recipient + ", campaign " + e.campaign;
  if (e.kind == webhook_event::undelivered_by_deadline)
    s += ", " + std::string(storage::name(o.st)) + " at " + iso_time(o.at_us);
  else
    s += ", " + std::string(storage::name(o.settled_by)) + " at " + iso_time(o.at_us);
  if (o.error_code) s += ", error " + hex32(o.error_code);
  if (o.command_status) s += ", status " + hex32(o.command_status);
  return s;
}

// One readable line or two: who, what, and what it is tied to.
std::string summary_of(const webhook_event_data& e, bool slack) {
  if (is_message_event(e.kind)) return message_summary(e);
  const auto& r = e.reply;
  const std::string text = slack ? slack_escape(r.text) : r.text;
  if (e.kind != webhook_event::reply)
    return title_of(e) + " (sent \"" + text + "\" to " + r.to + ")";
  std::string s = title_of(e) + " to " + r.to + ": \"" + text + "\"";
  if (r.parts_received < r.parts_total)
    s += " (incomplete: " + std::to_string(r.parts_received) + " of " + std::to_string(r.parts_total) + " parts)";
  if (r.conversation) {
    s += "\nConversation " + std::to_string(r.conversation);
    if (!e.campaign.empty()) s += ", campaign " + e.campaign;
    s += ", matched by " + std::string(storage::name(r.method));
    if (!r.answer.empty()) s += ", answer: " + r.answer;
  } else {
    s += "\nNot tied to a conversation";
  }
  return s;
}

json or_null(std::uint64_t v) { return v ? json(v) : json(nullptr); }
json or_null(const std::string& v) { return v.empty() ? json(nullptr) : json(v); }

struct url_parts {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target = "/";
};

std::optional<url_parts> parse_url(std::string_view url) {
  url_parts u;
  if (url.starts_with("https://")) {
    u.tls = true;
    u.port = "443";
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    u.port = "80";
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) u.target = std::string(url.substr(slash));
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (authority.starts_with(':')) u.port = std::string(authority.substr(1));
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(authority.substr(0, colon));
    u.port = std::string(authority.substr(colon + 1));
  } else {
    u.host = std::string(authority);
  }
  if (u.host.empty() || u.port.empty()) return std::nullopt;
  return u;
}

}  // namespace

webhook_event event_of(const storage::reply_record& r) noexcept {
  if (r.keyword == storage::reply_keyword::opt_out) return webhook_event::opt_out;
  if (r.keyword == storage::reply_keyword::opt_in) return webhook_event::opt_in;
  return webhook_event::reply;
}

webhook_event event_of(storage::message_event e) noexcept {
  switch (e) {
    case storage::message_event::delivered: return webhook_event::delivered;
    case storage::message_event::failed: return webhook_event::failed;
    case storage::message_event::undelivered_by_deadline: return webhook_event::undelivered_by_deadline;
    case storage::message_event::none: break;
  }
  return webhook_event::reply;
}

std::string_view name(webhook_event e) noexcept {
  switch (e) {
    case webhook_event::reply: return "reply";
    case webhook_event::opt_out: return "opt_out";
    case webhook_event::opt_in: return "opt_in";
    case webhook_event::delivered: return "delivered";
    case webhook_event::failed: return "failed";
    case webhook_event::undelivered_by_deadline: return "undelivered_by_deadline";
  }
  return "reply";
}

std::string webhook_body(webhook_format f, const webhook_event_data& e) {
  const auto& r = e.reply;
  switch (f) {
    case webhook_format::slack:
      return json{{"text", summary_of(e, true)}}.dump();
    case webhook_format::teams:
      return json{{"@type", "MessageCard"},
                  {"@context", "https://schema.org/extensions"},
                  {"summary", title_of(e)},
                  {"title", title_of(e)},
                  {"text", summary_of(e, false)}}
          .dump();
    case webhook_format::json:
      break;
  }
  if (is_message_event(e.kind)) {
    const auto& o = e.outcome;
    const auto& m = e.message;
    return json{{"id", std::to_string(o.message_id) + "-" + std::string(name(e.kind))},
                {"event", name(e.kind)},
                {"message_id", o.message_id},
                {"campaign", e.campaign},
                {"row", or_null(m.row)},
                {"recipient", m.recipient},
                {"sender", m.sender},
                {"state", storage::name(o.st)},
                {"cause", storage::name(o.settled_by)},
                {"error_code", o.error_code},
                {"command_status", o.command_status},
                {"parts", m.parts.size()},
                {"queued_at", iso_time(m.queued_us)},
                {"at", iso_time(o.at_us)},
                {"deliver_by", m.deliver_by_us ? json(iso_time(m.deliver_by_us)) : json(nullptr)}}
        .dump();
  }
  return json{{"id", std::to_string(r.id) + "-" + std::string(name(e.kind))},
              {"event", name(e.kind)},
              {"reply_id", r.id},
              {"customer", r.from},
              {"to", r.to},
              {"text", r.text},
              {"received_at", iso_time(r.received_us)},
              {"complete", r.parts_received >= r.parts_total},
              {"conversation", or_null(r.conversation)},
              {"message_id", or_null(e.message_id)},
              {"campaign", or_null(e.campaign)},
              {"match", storage::name(r.method)},
              {"answer", or_null(r.answer)}}
      .dump();
}

std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string signed_text;
  signed_text.reserve(timestamp.size() + 1 + body.size());
  signed_text.append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac, &n);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(hex[mac[i] >> 4]);
    out.push_back(hex[mac[i] & 15]);
  }
  return out;
}

std::vector<std::string> webhook_sender::targets(const config::two_way_config& c, const storage::reply_record& r) {
  std::vector<std::string> out;
  const webhook_event kind = event_of(r);
  for (const auto& w : c.webhooks)
    if (std::find(w.events.begin(), w.events.end(), kind) != w.events.end()) out.push_back(w.name);
  return out;
}

void webhook_sender::message_targets(const std::vector<config::webhook_config>& webhooks, storage::message_event e,
                                     const storage::message_record& m, std::vector<std::string>& out) {
  const webhook_event kind = event_of(e);
  const std::string_view campaign = m.origin == storage::origin::api ? std::string_view("api") : m.campaign;
  for (const auto& w : webhooks)
    if (std::find(w.events.begin(), w.events.end(), kind) != w.events.end() &&
        (w.campaigns.empty() || std::find(w.campaigns.begin(), w.campaigns.end(), campaign) != w.campaigns.end()))
      out.push_back(w.name);
}

bool webhook_sender::wanted(const std::vector<config::webhook_config>& webhooks, webhook_event e) noexcept {
  for (const auto& w : webhooks)
    if (std::find(w.events.begin(), w.events.end(), e) != w.events.end()) return true;
  return false;
}

webhook_sender::webhook_sender(storage::message_log& log, storage::reply_store& store,
                               const config::two_way_config& config)
    : log_(log), store_(store), config_(config) {}

webhook_sender::~webhook_sender() { stop(); }

void webhook_sender::start() {
  if (thread_.joinable()) return;
  // Without webhooks, events a previous configuration left still go: to
  // the dead letters, where they can be seen.
  std::error_code ec;
  if (config_.webhooks.empty() && store_.outbox(1, ec).empty()) return;
  thread_ = std::thread([this] { run(); });
  logging::name_thread(thread_, "webhooks");
}

void webhook_sender::stop() {
  stopping_ = true;
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

std::size_t webhook_sender::retry_dead(std::error_code& ec) { return store_.retry_dead_letters(ec); }

std::vector<storage::outbox_entry> webhook_sender::dead_letters(std::size_t limit, std::error_code& ec) const {
  return store_.dead_letters(limit, ec);
}

boost::asio::ssl::context& webhook_sender::tls_context(const config::webhook_config& w) {
  auto& ctx = tls_contexts_[w.name];
  if (!ctx) {
    namespace ssl = boost::asio::ssl;
    ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx->set_verify_mode(ssl::verify_peer);
    boost::system::error_code e;
    if (w.ca_file.empty())
      ctx->set_default_verify_paths(e);
    else
      ctx->load_verify_file(w.ca_file, e);
    if (e) lg::error(component::replies, "cannot load the CAs to trust", {{"webhook", w.name}, {"error", e.message()}});
  }
  return *ctx;
}

const config::webhook_config* webhook_sender::find(std::string_view name) const {
  for (const auto& w : config_.webhooks)
    if (w.name == name) return &w;
  return nullptr;
}

void webhook_sender::check_deadlines() {
  std::error_code ec;
  const auto due = store_.due_deadlines(now_us(), 1024, ec);
  if (ec) {
    lg::error(component::replies, "cannot read the delivery deadlines", {{"error", ec}});
    return;
  }
  std::uint64_t ticket = 0;
  std::vector<std::string> names;
  std::vector<storage::outbox_entry> events;
  for (const auto& d : due) {
    if (stopping_) break;
    auto m = log_.get(d.message_id, ec);
    if (ec) {
      lg::error(component::replies, "cannot read a message past its deadline", {{"message", d.message_id}, {"error", ec}});
      break;
    }
    names.clear();
    events.clear();
    // Delivered (the writer takes it off the list then, but may not have
    // yet) or gone: nothing to tell.
    if (m && m->st != storage::state::delivered)
      message_targets(config_.webhooks, storage::message_event::undelivered_by_deadline, *m, names);
    for (auto& w : names)
      events.push_back(storage::message_outbox_entry(storage::message_event::undelivered_by_deadline, *m,
                                                     std::move(w), d.deliver_by_us));
    ticket = store_.deadline_passed(d, events, ec);
    if (ec) {
      lg::error(component::replies, "cannot record a passed delivery deadline", {{"message", d.message_id}, {"error", ec}});
      break;
    }
    if (!events.empty())
      lg::info(component::replies, "message not delivered by its deadline",
               {{"message", d.message_id}, {"state", storage::name(m->st)}, {"webhooks", events.size()}});
  }
  // The next scan reads the list: it must see these changes.
  if (ticket) log_.wait_durable(ticket);
}

void webhook_sender::run() {
  // Deadlines are looked at every idle_poll, between deliveries too: a long
  // outbox (or a slow receiver) delays them by one POST at most.
  auto last_check = std::chrono::steady_clock::now();
  auto check_if_due = [&] {
    if (std::chrono::steady_clock::now() - last_check < idle_poll) return;
    check_deadlines();
    last_check = std::chrono::steady_clock::now();
  };
  check_deadlines();
  while (!stopping_) {
    check_if_due();
    std::error_code ec;
    auto waiting = store_.outbox(4096, ec);
    if (ec) lg::error(component::replies, "cannot read the webhook outbox", {{"error", ec}});
    bool sent = false;
    const std::int64_t now = now_us();
    for (auto& e : waiting) {
      if (stopping_) return;
      if (e.next_us > now && find(e.webhook)) continue;  // a webhook gone: a dead letter now
      deliver(std::move(e));
      sent = true;
      check_if_due();
    }
    if (!sent) std::this_thread::sleep_for(idle_poll);
  }
}

std::optional<webhook_event_data> webhook_sender::load(const storage::outbox_entry& e, std::error_code& ec) {
  if (e.event != storage::message_event::none) {
    auto m = log_.get(e.message_id, ec);
    if (!m) return std::nullopt;
    webhook_event_data d;
    d.kind = event_of(e.event);
    d.outcome = e;
    d.campaign = m->origin == storage::origin::api ? "api" : m->campaign;
    d.message = std::move(*m);
    return d;
  }
  auto r = store_.get(e.reply_id, ec);
  if (!r) return std::nullopt;
  webhook_event_data d;
  d.kind = event_of(*r);
  d.reply = std::move(*r);
  if (d.reply.conversation) {
    if (auto c = store_.conversation(d.reply.conversation, ec)) {
      d.message_id = c->message_id;
      if (auto m = log_.get(c->message_id, ec))
        d.campaign = m->origin == storage::origin::api ? "api" : m->campaign;
    }
  }
  return d;
}

void webhook_sender::deliver(storage::outbox_entry e) {
  std::error_code ec;
  std::uint64_t ticket = 0;
  const config::webhook_config* w = find(e.webhook);
  auto data = load(e, ec);
  const bool message = e.event != storage::message_event::none;
  // What the event is about, for the logs and the event id.
  const std::uint64_t about = message ? e.message_id : e.reply_id;
  const char* about_key = message ? "message" : "reply";
  if (ec) {
    lg::error(component::replies, message ? "cannot read a webhook event's message" : "cannot read a webhook event's reply",
              {{"webhook", e.webhook}, {"error", ec}});
    std::this_thread::sleep_for(idle_poll);  // tried again at the next scan
    return;
  }
  if (!w || !data) {
    // Its webhook left the configuration, or its reply is gone: kept as a
    // dead letter for someone to look at.
    e.last_error = !w ? "webhook no longer configured" : message ? "message not found" : "reply not found";
    ticket = store_.outbox_dead(e, ec);
    counters_.dead.fetch_add(1, std::memory_order_relaxed);
    lg::warn(component::replies, "webhook event kept as a dead letter",
             {{"webhook", e.webhook}, {about_key, about}, {"error", e.last_error}});
  } else if (data->kind == webhook_event::reply && !w->campaigns.empty() &&
             std::find(w->campaigns.begin(), w->campaigns.end(), data->campaign) == w->campaigns.end()) {
    ticket = store_.outbox_delivered(e, ec);  // not a campaign it follows
  } else {
    const std::string err =
        post(*w, webhook_body(w->format, *data), std::to_string(about) + "-" + std::string(name(data->kind)));
    if (!err.empty() && stopping_) return;  // cut short by stop(): not a try; the next run sends it
    if (err.empty()) {
      ticket = store_.outbox_delivered(e, ec);
      counters_.delivered.fetch_add(1, std::memory_order_relaxed);
      counters_.delivered_by_event[static_cast<std::size_t>(data->kind)].fetch_add(1, std::memory_order_relaxed);
      lg::info(component::replies, "webhook delivered",
               {{"webhook", e.webhook}, {about_key, about}, {"event", name(data->kind)}, {"attempts", e.attempts + 1}});
    } else {
      counters_.failed.fetch_add(1, std::memory_order_relaxed);
      e.last_error = err;
      ++e.attempts;
      if (e.attempts >= static_cast<std::uint32_t>(config_.webhook_attempts)) {
        ticket = store_.outbox_dead(e, ec);
        counters_.dead.fetch_add(1, std::memory_order_relaxed);
        lg::warn(component::replies, "webhook delivery given up; kept as a dead letter",
                 {{"webhook", e.webhook}, {about_key, about}, {"attempts", e.attempts}, {"error", err}});
      } else {
        const auto base = std::chrono::duration_cast<std::chrono::microseconds>(config_.webhook_retry_base);
        const auto cap = std::chrono::duration_cast<std::chrono::microseconds>(config_.webhook_retry_max);
        auto delay = base;
        for (std::uint32_t i = 1; i < e.attempts && delay < cap; ++i) delay *= 2;
        delay = std::min(delay, cap);
        e.next_us = now_us() + delay.count();
        ticket = store_.outbox_failed(e, ec);
        lg::warn(component::replies, "webhook delivery failed; tried again later",
                 {{"webhook", e.webhook}, {about_key, about}, {"attempts", e.attempts},
                  {"retry_in_ms", delay.count() / 1000}, {"error", err}});
      }
    }
  }
  if (ec) {
    lg::error(component::replies, "cannot record a webhook delivery", {{"webhook", e.webhook}, {"error", ec}});
    std::this_thread::sleep_for(idle_poll);  // the log is full or closing: do not spin
    return;
  }
  // The next scan reads the log: it must see this change.
  log_.wait_durable(ticket);
}

std::string webhook_sender::post(const config::webhook_config& w, const std::string& body,
                                 const std::string& event_id) {
  const auto url = parse_url(w.url);
  if (!url) return "bad URL";
  namespace beast = boost::beast;
  using boost::asio::ip::tcp;
  io_.restart();
  tcp::resolver resolver(io_);
  beast::tcp_stream stream(io_);
  http::request<http::string_body> req{http::verb::post, url->target, 11};
  req.set(http::field::host, url->host);
  req.set(http::field::user_agent, "smppd");
  req.set(http::field::content_type, "application/json");
  req.set("X-Smppd-Event-Id", event_id);
  if (!w.signing_secret.empty()) {
    const std::string ts = std::to_string(now_us() / 1000000);
    req.set("X-Smppd-Timestamp", ts);
    req.set("X-Smppd-Signature", webhook_signature(w.signing_secret.reveal(), ts, body));
  }
  req.body() = body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  std::string error = "timed out";
  auto fail = [&error](std::string_view what, const boost::system::error_code& e) {
    error = std::string(what) + ": " + e.message();
  };
  // Writes the request and reads the answer on a connected (and, for
  // https, handshaken) stream.
  auto exchange = [&](auto& s) {
    http::async_write(s, req, [&](const boost::system::error_code& e, std::size_t) {
      if (e) return fail("send", e);
      http::async_read(s, buffer, res, [&](const boost::system::error_code& e, std::size_t) {
        if (e) return fail("receive", e);
        error = res.result_int() / 100 == 2 ? "" : "HTTP " + std::to_string(res.result_int());
      });
    });
  };
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  if (url->tls) {
    tls.emplace(io_, tls_context(w));
    // SNI (a name, not an address) and the certificate checked against the host.
    boost::system::error_code not_ip;
    boost::asio::ip::make_address(url->host, not_ip);
    if (not_ip) SSL_set_tlsext_host_name(tls->native_handle(), url->host.c_str());
    tls->set_verify_callback(boost::asio::ssl::host_name_verification(url->host));
  }
  beast::tcp_stream& lowest = tls ? beast::get_lowest_layer(*tls) : stream;
  resolver.async_resolve(url->host, url->port, [&](const boost::system::error_code& e, tcp::resolver::results_type r) {
    if (e) return fail("resolve", e);
    lowest.expires_after(request_timeout);
    lowest.async_connect(r, [&](const boost::system::error_code& e, const tcp::endpoint&) {
      if (e) return fail("connect", e);
      if (!tls) return exchange(stream);
      tls->async_handshake(boost::asio::ssl::stream_base::client, [&](const boost::system::error_code& e) {
        if (e) return fail("TLS handshake", e);
        exchange(*tls);
      });
    });
  });
  io_.run_for(request_timeout + std::chrono::seconds(1));
  // Whatever is still pending ends now (the handlers refer to this frame).
  resolver.cancel();
  beast::error_code ignored;
  lowest.socket().close(ignored);
  io_.restart();
  io_.run();
  return error;
}

}  // namespace engine
