#include "engine/http_api.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <map>
#include <thread>

#include "config/config.hpp"
#include "engine/log_report.hpp"
#include "engine/message_template.hpp"
#include "logging/logger.hpp"
#include "engine/phone_number.hpp"
#include "storage/log_reader.hpp"

namespace engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

namespace {

std::string error_body(std::string_view code, std::string_view message) {
  return json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json to_json(const campaign_status& c) {
  json messages = nullptr;
  if (c.by_state) {
    messages = json::object();
    std::uint64_t total = 0, final_total = 0, delivered = 0;
    for (std::size_t st = 0; st < c.by_state->size(); ++st) {
      const auto n = (*c.by_state)[st];
      if (!n) continue;
      const auto state = static_cast<storage::state>(st);
      messages[std::string(storage::name(state))] = n;
      total += n;
      if (storage::is_terminal(state)) final_total += n;
      if (state == storage::state::delivered) delivered = n;
    }
    messages["total"] = total;
    messages["final"] = final_total;
    messages["delivery_rate"] = final_total ? static_cast<double>(delivered) / static_cast<double>(final_total) : 0.0;
  }
  return json{{"id", c.id},
              {"messages", std::move(messages)},
              {"state", name(c.state)},
              {"reading_done", c.reading_done},
              {"in_config", c.in_config},
              {"from_api", c.from_api},
              {"progress", c.progress},
              {"rate", c.rate},
              {"eta_s", c.eta_s ? json(*c.eta_s) : json(nullptr)},
              {"problem", c.problem},
              {"tps", c.tps},
              {"rows", c.rows},
              {"accepted", c.accepted},
              {"rejected", c.rejected},
              {"duplicates", c.duplicates},
              {"skipped", c.skipped},
              {"no_consent", c.no_consent}};
}

json to_json(const dispatcher_status& d) {
  json smscs = json::array(), operators = json::array();
  for (const auto& s : d.smscs)
    smscs.push_back({{"name", s.name},
                     {"binds", s.binds},
                     {"bound", s.bound_senders},
                     {"outstanding", s.outstanding},
                     {"window", s.window},
                     {"tps", s.tps},
                     {"rate", s.rate},
                     {"rate_reduced", s.rate_reduced()}});
  for (const auto& o : d.operators)
    operators.push_back({{"name", o.name},
                         {"tps", o.tps},
                         {"queued", {{"notification", o.queued_notifications}, {"campaign", o.queued_campaign}}}});
  return json{{"smscs", std::move(smscs)},
              {"operators", std::move(operators)},
              {"open_messages", d.open_messages},
              {"held_messages", d.held_messages},
              {"held_for_send_window", d.window_held},
              {"retry_waiting", d.retry_waiting}};
}

}  // namespace

// One client connection: reads requests one after another (keep-alive),
// each answered before the next is read.
class http_api::connection : public std::enable_shared_from_this<connection> {
 public:
  connection(http_api& api, tcp::socket socket) : api_(api), stream_(std::move(socket)) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(api_.config_.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted)
      return close();
    if (ec == http::error::body_limit) {
      request_ = {};  // the log names no earlier request of this connection
      return reply(http::status::payload_too_large, error_body("body_too_large",
                   "the request body is over " + std::to_string(api_.config_.max_body_bytes) + " octets"), false);
    }
    if (ec) {
      request_ = {};
      return reply(http::status::bad_request, error_body("bad_request", "malformed HTTP request"), false);
    }
    request_ = parser_->release();
    ++api_.counters_.requests;
    route();
  }

  void route() {
    const std::string_view target(request_.target().data(), request_.target().size());
    const auto method = request_.method();
    if (target == "/healthz") {
      if (method != http::verb::get) return method_not_allowed("GET");
      return reply(http::status::ok, json{{"status", "ok"}}.dump());
    }
    if (target == "/readyz") {
      if (method != http::verb::get) return method_not_allowed("GET");
      return get_ready();
    }
    if (!target.starts_with("/v1/"))
      return reply(http::status::not_found, error_body("not_found", "no such endpoint: " + std::string(target)));
    // Everything under /v1 needs a token with the scope when tokens are configured.
    const api_scope scope = method == http::verb::get ? api_scope::read
                            : target.starts_with("/v1/campaigns") ? api_scope::campaigns
                                                                  : api_scope::send;
    if (!authorised(scope)) return;
    if (target == "/v1/messages") {
      if (method != http::verb::post) return method_not_allowed("POST");
      return post_messages();
    }
    if (target.starts_with("/v1/messages/")) {
      if (method != http::verb::get) return method_not_allowed("GET");
      return get_message(target.substr(std::string_view("/v1/messages/").size()));
    }
    if (target == "/v1/status") {
      if (method != http::verb::get) return method_not_allowed("GET");
      return get_status();
    }
    if (target == "/v1/campaigns" || target.starts_with("/v1/campaigns/")) return campaigns(target);
    if (target.starts_with("/v1/conversations/") && target.ends_with("/reply")) {
      if (method != http::verb::post) return method_not_allowed("POST");
      const std::string_view id = target.substr(std::string_view("/v1/conversations/").size());
      return post_conversation_reply(id.substr(0, id.size() - std::string_view("/reply").size()));
    }
    if (target == "/v1/webhooks/dead") {
      if (method != http::verb::get) return method_not_allowed("GET");
      return get_dead_letters();
    }
    if (target == "/v1/webhooks/dead/retry") {
      if (method != http::verb::post) return method_not_allowed("POST");
      return retry_dead_letters();
    }
    if (target.starts_with("/v1/conversations")) {
      if (method != http::verb::get) return method_not_allowed("GET");
      return get_conversations(target.substr(std::string_view("/v1/conversations").size()));
    }
    reply(http::status::not_found, error_body("not_found", "no such endpoint: " + std::string(target)));
  }

  // False after answering 401 or 403.
  bool authorised(api_scope scope) {
    const auto tokens = api_.tokens_;
    if (!tokens) return true;
    const auto header = request_.find(http::field::authorization);
    std::string_view value = header == request_.end() ? std::string_view()
                                                       : std::string_view(header->value().data(), header->value().size());
    const api_token* t = value.starts_with("Bearer ") ? tokens->find(value.substr(7)) : nullptr;
    if (!t) {
      ++api_.counters_.rejected;
      response_ = {};
      response_.set(http::field::www_authenticate, "Bearer");
      reply(http::status::unauthorized,
            error_body("unauthorized", value.empty() ? "a bearer token is required (Authorization: Bearer ...)"
                                                     : "the bearer token is not known"),
            true, false);
      return false;
    }
    if (!(t->scopes & static_cast<std::uint8_t>(scope))) {
      ++api_.counters_.rejected;
      static constexpr const char* names[] = {"", "send", "campaigns", "", "read"};
      reply(http::status::forbidden, error_body("forbidden", "token " + t->name + " lacks the \"" +
                                                               names[static_cast<int>(scope)] + "\" scope"));
      return false;
    }
    token_name_ = t->name;
    return true;
  }

  void campaigns(std::string_view target) {
    auto* m = api_.campaigns_;
    if (!m) return reply(http::status::not_found, error_body("not_found", "no campaigns here"));
    std::string_view rest = target.substr(std::string_view("/v1/campaigns").size());
    if ((rest.empty() || rest == "/") && request_.method() == http::verb::post) {
      auto out = m->create(request_.body());
      switch (out.result) {
        case control_outcome::kind::done: return reply(http::status::created, to_json(*out.status).dump());
        case control_outcome::kind::conflict: return reply(http::status::conflict, error_body("conflict", out.message));
        case control_outcome::kind::invalid: return bad("invalid_campaign", out.message);
        default: return reply(http::status::internal_server_error, error_body("not_saved", out.message));
      }
    }
    if (rest.empty() || rest == "/") {
      if (request_.method() != http::verb::get) return method_not_allowed("GET, POST");
      json list = json::array();
      for (const auto& c : m->list()) list.push_back(to_json(c));
      return reply(http::status::ok, json{{"campaigns", std::move(list)}}.dump());
    }
    rest.remove_prefix(1);
    const auto slash = rest.find('/');
    const std::string_view id = rest.substr(0, slash);
    if (slash == std::string_view::npos) {
      if (request_.method() != http::verb::get) return method_not_allowed("GET");
      if (auto c = m->find(id)) return reply(http::status::ok, to_json(*c).dump());
      return reply(http::status::not_found, error_body("not_found", "no campaign " + std::string(id)));
    }
    const std::string_view verb = rest.substr(slash + 1);
    if (verb == "answers" || verb.starts_with("answers?")) {
      if (request_.method() != http::verb::get) return method_not_allowed("GET");
      if (!m->find(id)) return reply(http::status::not_found, error_body("not_found", "no campaign " + std::string(id)));
      return get_campaign_answers(id, verb.substr(std::string_view("answers").size()));
    }
    const auto action = parse_campaign_action(verb);
    if (!action)
      return reply(http::status::not_found,
                   error_body("not_found", "no such endpoint: " + std::string(target) +
                                               " (campaign commands: start, pause, resume, cancel; GET answers)"));
    if (request_.method() != http::verb::post) return method_not_allowed("POST");
    auto out = m->control(id, *action);
    switch (out.result) {
      case control_outcome::kind::done:
      case control_outcome::kind::unchanged: return reply(http::status::ok, to_json(*out.status).dump());
      case control_outcome::kind::not_found:
        return reply(http::status::not_found, error_body("not_found", out.message));
      case control_outcome::kind::conflict:
        return reply(http::status::conflict, error_body("conflict", out.message));
      case control_outcome::kind::failed:
      case control_outcome::kind::invalid:
        return reply(http::status::internal_server_error, error_body("not_saved", out.message));
    }
  }

  void get_status() {
    json campaigns = json::array();
    if (api_.campaigns_)
      for (const auto& c : api_.campaigns_->list()) campaigns.push_back(to_json(c));
    // The dispatcher's state is read on its own thread; the answer comes back here.
    api_.dispatch_.status([self = shared_from_this(), campaigns = std::move(campaigns)](dispatcher_status d) mutable {
      asio::post(self->api_.io_, [self, d = std::move(d), campaigns = std::move(campaigns)]() mutable {
        auto body = to_json(d);
        body["campaigns"] = std::move(campaigns);
        const auto issued = self->api_.log_.issued_ticket(), durable = self->api_.log_.durable_ticket();
        body["storage"] = {{"backlog", self->api_.log_.backlog()},
                           {"not_yet_durable", issued > durable ? issued - durable : 0}};
        self->reply(http::status::ok, body.dump());
      });
    });
  }

  void method_not_allowed(const char* allowed) {
    reply(http::status::method_not_allowed,
          error_body("method_not_allowed", std::string("this endpoint takes ") + allowed));
  }

  void bad(std::string_view code, std::string_view message) {
    ++api_.counters_.rejected;
    reply(http::status::bad_request, error_body(code, message));
  }

  // One message of a request, checked and prepared; false after replying.
  struct item {
    message_request req;
    std::string to, from;
    std::optional<window_rule> window;  // "send_window": none unless given
    prepared_message prepared;
    bool expects_reply = false;
    conversation_book::opening opening;
  };

  // "HH:MM" as minutes of the day ("24:00" is the day's end).
  static std::optional<int> clock_minutes(const std::string& s) {
    auto digit = [&](std::size_t i) { return s[i] >= '0' && s[i] <= '9'; };
    if (s.size() != 5 || s[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4)) return std::nullopt;
    const int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
  }

  // {"start": "09:00", "end": "20:00", "timezone": "recipient" | NAME,
  // "fallback_timezone": NAME}, as a campaign's send_window.
  static prepare_problem read_window(const json& w, item& it) {
    const char* shape = "\"send_window\" must be {\"start\": \"HH:MM\", \"end\": \"HH:MM\", \"timezone\": "
                        "\"recipient\" or an IANA name}";
    if (!w.is_object()) return {"invalid_field", shape};
    std::optional<int> minutes[2];
    const char* keys[2] = {"start", "end"};
    for (int i = 0; i < 2; ++i) {
      auto f = w.find(keys[i]);
      if (f == w.end() || !f->is_string() || !(minutes[i] = clock_minutes(f->get<std::string>())))
        return {"invalid_field", shape};
    }
    std::string zone = "recipient", fallback;
    for (auto [key, out] : {std::pair{"timezone", &zone}, std::pair{"fallback_timezone", &fallback}})
      if (auto f = w.find(key); f != w.end() && !f->is_null()) {
        if (!f->is_string()) return {"invalid_field", shape};
        *out = f->get<std::string>();
      }
    std::string error;
    it.window = window_rule::make(*minutes[0], *minutes[1], zone, fallback, error);
    if (!it.window) return {"invalid_field", "\"send_window\": " + error};
    return {};
  }
  static prepare_problem read_item(const json& j, item& it) {
    if (!j.is_object()) return {"invalid_json", "a message must be a JSON object"};
    auto text_field = [&](const char* key, bool required, std::string& out) -> prepare_problem {
      auto f = j.find(key);
      if (f == j.end() || f->is_null()) {
        if (required) return {"missing_field", std::string("\"") + key + "\" is required"};
        return {};
      }
      if (!f->is_string()) return {"invalid_field", std::string("\"") + key + "\" must be a string"};
      out = f->get<std::string>();
      return {};
    };
    std::string text, tmpl, validity, priority, deliver_within;
    if (auto p = text_field("to", true, it.to)) return p;
    if (auto p = text_field("from", true, it.from)) return p;
    if (auto p = text_field("text", false, text)) return p;
    if (auto p = text_field("template", false, tmpl)) return p;
    if (auto p = text_field("validity", false, validity)) return p;
    if (auto p = text_field("priority", false, priority)) return p;
    if (auto p = text_field("deliver_within", false, deliver_within)) return p;
    if (!text.empty() && !tmpl.empty()) return {"invalid_field", "give \"text\" or \"template\", not both"};
    if (!tmpl.empty()) {
      // {{field}} from "fields": {"name": "Ann", "code": 4821}.
      std::string error;
      auto t = message_template::compile(tmpl, error);
      if (!t) return {"invalid_template", "\"template\": " + error};
      std::vector<std::string> names, values;
      if (auto f = j.find("fields"); f != j.end() && !f->is_null()) {
        if (!f->is_object()) return {"invalid_field", "\"fields\" must be an object of names and values"};
        for (auto& [k, v] : f->items()) {
          if (!v.is_string() && !v.is_number()) return {"invalid_field", "field \"" + k + "\" must be a string or number"};
          names.push_back(k);
          values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
        }
      }
      // A field not given is empty: its default applies, or render names it.
      for (const auto& f : t->fields())
        if (std::find(names.begin(), names.end(), f) == names.end()) {
          names.push_back(f);
          values.emplace_back();
        }
      if (!t->bind(names, error) || !t->render(values, text, error)) return {"invalid_template", error};
    } else if (j.find("text") == j.end()) {
      return {"missing_field", "\"text\" (or \"template\" with \"fields\") is required"};
    }
    it.req.text = std::move(text);
    it.req.to = it.to;
    it.req.from = it.from;
    it.req.priority = lane::notification;
    if (priority == "bulk") it.req.priority = lane::campaign;
    else if (!priority.empty() && priority != "notification")
      return {"invalid_field", "\"priority\" must be \"notification\" or \"bulk\""};
    it.req.origin = storage::origin::api;
    if (auto f = j.find("expects_reply"); f != j.end()) {
      if (!f->is_boolean()) return {"invalid_field", "\"expects_reply\" must be true or false"};
      it.expects_reply = f->get<bool>();
    }
    if (auto f = j.find("receipts"); f != j.end()) {
      if (!f->is_boolean()) return {"invalid_field", "\"receipts\" must be true or false"};
      it.req.receipts = f->get<bool>();
    }
    if (!validity.empty()) {
      auto d = config::parse_duration(validity);
      if (!d) return {"invalid_field", "\"validity\" must be a duration such as 30m or 24h"};
      it.req.validity = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
    if (!deliver_within.empty()) {
      auto d = config::parse_duration(deliver_within);
      if (!d || d->count() <= 0)
        return {"invalid_field", "\"deliver_within\" must be a duration such as 5m or 2h"};
      it.req.deliver_within = *d;
    }
    if (auto f = j.find("send_window"); f != j.end() && !f->is_null()) return read_window(*f, it);
    return {};
  }

  void post_messages() {
    json body = json::parse(request_.body(), nullptr, false);
    if (body.is_discarded()) return bad("invalid_json", "the body is not valid JSON");
    if (!body.is_object()) return bad("invalid_json", "expected a JSON object");
    const bool batch = body.contains("messages");
    json list = batch ? body["messages"] : json::array({body});
    if (!list.is_array() || list.empty()) return bad("invalid_field", "\"messages\" must be a non-empty list");
    if (list.size() > api_.config_.max_batch)
      return bad("batch_too_large", "at most " + std::to_string(api_.config_.max_batch) + " messages per request (api.max_batch)");

    // Idempotency-Key: the same key (for the same token) within 24 h
    // answers with the ids of the first request and sends nothing again.
    std::string key;
    if (auto h = request_.find("Idempotency-Key"); h != request_.end()) {
      key = std::string(h->value());
      const bool printable = std::all_of(key.begin(), key.end(), [](unsigned char c) { return c > 32 && c < 127; });
      if (key.empty() || key.size() > 200 || !printable)
        return bad("invalid_idempotency_key", "Idempotency-Key: expected 1-200 printable ASCII characters");
      if (replay(key, list.size(), batch)) return;
    }

    std::vector<item> items(list.size());
    json problems = json::array();
    for (std::size_t i = 0; i < list.size(); ++i)
      if (auto p = read_item(list[i], items[i])) problems.push_back({{"index", i}, {"code", p.code}, {"message", p.message}});
    std::size_t notifications = 0;
    for (const auto& it : items) notifications += it.req.priority == lane::notification;
    if (problems.empty() && api_.dispatch_.queued(lane::notification) + notifications > api_.lane_capacity_) {
      ++api_.counters_.rejected;
      return reply(http::status::service_unavailable,
                   error_body("busy", "too many notifications are waiting; try again shortly"));
    }
    if (api_.prepare_from_.generation() != api_.prepare_generation_) {
      api_.prepare_generation_ = api_.prepare_from_.generation();
      api_.prepare_ = api_.prepare_from_.get();
    }
    const std::int64_t now = wall_us();
    for (std::size_t i = 0; i < items.size() && problems.empty(); ++i) {
      if (!key.empty()) items[i].req.idempotency_key = idempotency_slot(key, day_of(now), i);
      if (items[i].expects_reply) {
        if (auto p = open_conversation(items[i])) {
          problems.push_back({{"index", i}, {"code", p.code}, {"message", p.message}});
          continue;
        }
      }
      const std::uint64_t id = api_.next_id_.fetch_add(1) + 1;
      if (auto p = prepare_message(api_.prepare_, items[i].req, id, now, items[i].prepared))
        problems.push_back({{"index", i}, {"code", p.code}, {"message", p.message}});
      else if (api_.opt_outs_ && api_.opt_outs_->contains(items[i].prepared.record.recipient))
        problems.push_back({{"index", i}, {"code", "opted_out"},
                            {"message", items[i].prepared.record.recipient +
                                            " opted out of messages (replied with an opt-out keyword); "
                                            "nothing was sent"}});
      else if (items[i].window && api_.prepare_.zones)
        set_window(items[i].prepared, items[i].window->for_recipient(items[i].prepared.record.recipient, *api_.prepare_.zones));
    }
    if (!problems.empty()) {
      ++api_.counters_.rejected;
      if (!batch) return bad(problems[0]["code"].get<std::string>(), problems[0]["message"].get<std::string>());
      json e = {{"error", {{"code", "invalid_batch"},
                           {"message", std::to_string(problems.size()) + " of " + std::to_string(items.size()) +
                                           " messages are not valid; none was accepted"},
                           {"items", std::move(problems)}}}};
      return reply(http::status::bad_request, e.dump());
    }

    // All or none in the log: a refused append cancels those before it.
    // Notifications go through the log's urgent lane, ahead of campaigns.
    std::uint64_t ticket = 0, urgent = 0;
    std::vector<std::uint64_t> ids;
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::error_code ec;
      const auto how = items[i].req.priority == lane::notification ? storage::urgency::urgent
                                                                    : storage::urgency::normal;
      const std::uint64_t t = api_.log_.append(items[i].prepared.record, ec, how);
      (how == storage::urgency::urgent ? urgent : ticket) = t;
      if (!ec) {
        ids.push_back(items[i].prepared.record.id);
        items[i].prepared.message->urgent_log = how == storage::urgency::urgent;
        continue;
      }
      for (std::size_t k = 0; k < i; ++k) api_.cancel_unsent(items[k].prepared.record);
      ++api_.counters_.rejected;
      if (ec == storage::storage_errc::duplicate_key)
        return reply(http::status::conflict,
                     error_body("idempotency_conflict", "another request with this Idempotency-Key is being handled"));
      return reply(http::status::service_unavailable, error_body("busy", "the message log is behind; try again shortly"));
    }
    // Conversations open with their messages (after them in the log).
    json conversations = json::array();
    for (auto& it : items) {
      if (!it.expects_reply) continue;
      std::error_code ec;
      std::uint64_t t = 0;
      const auto c =
          api_.conversations_->open(it.prepared.record.recipient, it.opening, it.prepared.record.id, {}, &t, ec);
      if (ec) continue;  // the message still goes; its replies match by recency
      ticket = std::max(ticket, t);
      conversations.push_back({{"id", std::to_string(c.id)}, {"number", c.number}, {"code", c.code}});
    }
    // Answer once the records are durable. Notifications alone (nothing
    // went through the normal lane) are dispatched now: their first submit
    // marks follow their records in the urgent lane, and a PDU is written
    // only once its mark is durable, so never before its record is (the
    // log keeps a mark that overtakes its record until the record comes).
    // Anything else is dispatched with the answer.
    const bool dispatch_now = ticket == 0;
    auto messages = std::make_shared<std::vector<std::unique_ptr<outbound_message>>>();
    for (auto& it : items) messages->push_back(std::move(it.prepared.message));
    if (dispatch_now)
      for (auto& m : *messages) api_.hand_over(std::move(m));
    auto done = [self = shared_from_this(), messages, ids = std::move(ids), batch, dispatch_now,
                 conversations = std::move(conversations)] {
      if (!dispatch_now)
        for (auto& m : *messages) self->api_.hand_over(std::move(m));
      self->api_.counters_.accepted += ids.size();
      json body = ids_body(ids, batch);
      if (!conversations.empty())
        body["conversation" + std::string(batch ? "s" : "")] = batch ? conversations : conversations[0];
      self->reply(http::status::accepted, body.dump());
    };
    api_.await_durable(waiting{ticket, std::move(done), urgent});
  }

  // An item that expects replies: sent from a pool number the customer
  // has no open conversation on, carrying a reference code ("#REF" in the
  // text stands for it; otherwise it is appended).
  prepare_problem open_conversation(item& it) {
    if (!api_.conversations_ || !api_.conversations_->has_pool())
      return {"no_reply_numbers", "\"expects_reply\" needs two_way.reply_numbers in the configuration"};
    const auto number = normalise_number(it.req.to, api_.prepare_.numbering);
    if (!number.ok()) return {};  // prepare_message names the problem
    it.opening = api_.conversations_->pick(number.e164);
    it.from = it.opening.number;
    it.req.from = it.from;
    conversation_book::carry_code(it.req.text, it.opening.code);
    return {};
  }

  // GET /v1/webhooks/dead: the events no webhook accepted.
  void get_dead_letters() {
    if (!api_.webhooks_) return reply(http::status::not_found, error_body("not_found", "no webhooks"));
    std::error_code ec;
    json list = json::array();
    for (const auto& d : api_.webhooks_->dead_letters(1000, ec)) {
      json item{{"webhook", d.webhook}, {"attempts", d.attempts}, {"last_error", d.last_error}};
      if (d.event == storage::message_event::none) {
        item["reply_id"] = d.reply_id;
      } else {
        item["message_id"] = d.message_id;
        item["event"] = storage::name(d.event);
      }
      list.push_back(std::move(item));
    }
    if (ec) return reply(http::status::service_unavailable, error_body("log_error", ec.message()));
    reply(http::status::ok, json{{"dead_letters", std::move(list)}}.dump());
  }

  // POST /v1/webhooks/dead/retry: every dead letter back in the outbox.
  void retry_dead_letters() {
    if (!api_.webhooks_) return reply(http::status::not_found, error_body("not_found", "no webhooks"));
    std::error_code ec;
    const std::size_t n = api_.webhooks_->retry_dead(ec);
    if (ec) return reply(http::status::service_unavailable, error_body("log_error", ec.message()));
    reply(http::status::ok, json{{"retried", n}}.dump());
  }

  // GET /v1/conversations?customer=NUMBER, GET /v1/conversations/ID.
  void get_conversations(std::string_view rest) {
    auto* book = api_.conversations_;
    if (!book) return reply(http::status::not_found, error_body("not_found", "two-way messaging is not running"));
    std::error_code ec;
    if (rest.starts_with("/")) {
      std::uint64_t id = 0;
      const std::string_view text = rest.substr(1);
      if (std::from_chars(text.data(), text.data() + text.size(), id).ptr != text.data() + text.size() || id == 0)
        return reply(http::status::not_found, error_body("not_found", "no conversation " + std::string(text)));
      auto c = book->get(id, ec);
      if (!c) return reply(http::status::not_found, error_body("not_found", "no conversation " + std::string(text)));
      return reply(http::status::ok, conversation_json(*c, true).dump());
    }
    constexpr std::string_view key = "?customer=";
    if (!rest.starts_with(key))
      return bad("missing_field", "give ?customer=NUMBER (or /v1/conversations/ID)");
    const std::string written = url_decode(rest.substr(key.size()));
    const auto number = normalise_number(written, api_.prepare_.numbering);
    if (!number.ok()) return bad("invalid_number", "customer: " + number.problem);
    json list = json::array();
    for (const auto& c : book->of(number.e164, ec)) list.push_back(conversation_json(c, true));
    json loose = json::array();
    for (const auto& r : api_.conversations_->replies_from(number.e164, ec))
      if (!r.conversation) loose.push_back(reply_json(r));
    reply(http::status::ok, json{{"customer", number.e164}, {"conversations", std::move(list)},
                                 {"unmatched_replies", std::move(loose)}}
                                .dump());
  }

  // GET /v1/campaigns/ID/answers[?after=CONVERSATION][&limit=N]: what the
  // recipients of a campaign that expects replies answered: counts over
  // all its conversations (yes, no, replied without a structured answer,
  // no reply yet) and a page of them by conversation id.
  void get_campaign_answers(std::string_view campaign, std::string_view query) {
    auto* book = api_.conversations_;
    if (!book) return reply(http::status::not_found, error_body("not_found", "two-way messaging is not running"));
    std::uint64_t after = 0, limit = 100;
    if (query.starts_with("?")) query.remove_prefix(1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      const auto eq = pair.find('=');
      const std::string_view key = pair.substr(0, eq), value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
      std::uint64_t* field = key == "after" ? &after : key == "limit" ? &limit : nullptr;
      if (!field) return bad("invalid_field", "unknown parameter \"" + std::string(key) + "\" (after, limit)");
      if (std::from_chars(value.data(), value.data() + value.size(), *field).ptr != value.data() + value.size() ||
          value.empty() || (field == &limit && (limit == 0 || limit > 1000)))
        return bad("invalid_field", std::string(key) + ": expected " +
                                        (field == &limit ? "a number 1-1000" : "a conversation id"));
    }
    std::error_code ec;
    std::map<std::string, std::uint64_t> answers;
    std::uint64_t total = 0, replied = 0, unanswered = 0;
    json page = json::array();
    std::uint64_t last_listed = 0;
    bool more = false;
    for (std::uint64_t from = 0;;) {
      auto chunk = book->of_campaign(campaign, from, 1000, ec);
      if (ec) return reply(http::status::service_unavailable, error_body("log_error", ec.message()));
      for (const auto& c : chunk) {
        ++total;
        if (!c.answer.empty()) ++answers[c.answer];
        else if (c.replies) ++replied;
        else ++unanswered;
        if (c.id <= after) continue;
        if (page.size() < limit) {
          page.push_back(conversation_json(c, false));
          last_listed = c.id;
        } else {
          more = true;
        }
      }
      if (chunk.size() < 1000) break;
      from = chunk.back().id;
    }
    json counts = answers;
    json body{{"campaign", campaign},
              {"conversations_count", total},
              {"answers", std::move(counts)},
              {"replied_without_answer", replied},
              {"no_reply", unanswered},
              {"conversations", std::move(page)}};
    if (more) body["next"] = std::to_string(last_listed);  // ?after= this for the next page
    reply(http::status::ok, body.dump());
  }

  // POST /v1/conversations/ID/reply {"text": "..."}: an agent's answer,
  // sent to the customer from the number they last wrote to (the
  // conversation's pool number before any reply).
  void post_conversation_reply(std::string_view id_text) {
    auto* book = api_.conversations_;
    std::uint64_t id = 0;
    std::error_code ec;
    std::optional<storage::conversation_record> c;
    if (book && std::from_chars(id_text.data(), id_text.data() + id_text.size(), id).ptr == id_text.data() + id_text.size())
      c = book->get(id, ec);
    if (!c) return reply(http::status::not_found, error_body("not_found", "no conversation " + std::string(id_text)));
    json body = json::parse(request_.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object()) return bad("invalid_json", "expected a JSON object");
    auto t = body.find("text");
    if (t == body.end() || !t->is_string() || t->get<std::string>().empty())
      return bad("missing_field", "\"text\" is required");
    std::string from = c->number;
    const auto replies = book->replies(*c, ec);
    // The same number written another way (no '+') keeps the pool's form.
    if (!replies.empty() && !replies.back().to.empty() &&
        opt_out_list::key(replies.back().to) != opt_out_list::key(c->number))
      from = replies.back().to;
    if (from.empty())
      return reply(http::status::conflict, error_body("no_number", "the conversation has no number to answer from"));
    if (api_.prepare_from_.generation() != api_.prepare_generation_) {
      api_.prepare_generation_ = api_.prepare_from_.generation();
      api_.prepare_ = api_.prepare_from_.get();
    }
    message_request req;
    req.to = c->customer;
    req.from = from;
    req.text = t->get<std::string>();
    auto prepared = std::make_shared<prepared_message>();
    const std::uint64_t message_id = api_.next_id_.fetch_add(1) + 1;
    if (auto p = prepare_message(api_.prepare_, req, message_id, wall_us(), *prepared)) return bad(p.code, p.message);
    if (api_.opt_outs_ && api_.opt_outs_->contains(c->customer))
      return bad("opted_out", c->customer + " opted out of messages (replied with an opt-out keyword); nothing was sent");
    const std::uint64_t ticket = api_.log_.append(prepared->record, ec);
    if (ec) return reply(http::status::service_unavailable, error_body("busy", "the message log is behind; try again shortly"));
    api_.await_durable(waiting{ticket, [self = shared_from_this(), prepared, conversation = c->id, from] {
                                      self->api_.hand_over(std::move(prepared->message));
                                      ++self->api_.counters_.accepted;
                                      self->reply(http::status::accepted,
                                                  json{{"id", std::to_string(prepared->record.id)},
                                                       {"conversation", std::to_string(conversation)},
                                                       {"from", from}}
                                                      .dump());
                                    }});
  }

  static std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        unsigned v = 0;
        if (std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr == s.data() + i + 3) {
          out.push_back(static_cast<char>(v));
          i += 2;
          continue;
        }
      }
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
    return out;
  }

  static json reply_json(const storage::reply_record& r) {
    return {{"id", std::to_string(r.id)}, {"from", r.from}, {"to", r.to}, {"text", r.text},
            {"received", utc_text(r.received_us)}, {"parts", r.parts_total}, {"parts_received", r.parts_received},
            {"keyword", storage::name(r.keyword)}, {"match", storage::name(r.method)}, {"answer", r.answer}};
  }

  json conversation_json(const storage::conversation_record& c, bool with_replies) {
    json j{{"id", std::to_string(c.id)}, {"customer", c.customer}, {"number", c.number}, {"code", c.code},
           {"message_id", std::to_string(c.message_id)}, {"opened", utc_text(c.opened_us)},
           {"expires", utc_text(c.expires_us)}, {"answer", c.answer}, {"replies_count", c.replies},
           {"campaign", c.campaign.empty() ? json(nullptr) : json(c.campaign)}};
    if (with_replies) {
      std::error_code ec;
      json replies = json::array();
      for (const auto& r : api_.conversations_->replies(c, ec)) replies.push_back(reply_json(r));
      j["replies"] = std::move(replies);
    }
    return j;
  }

  static std::string utc_text(std::int64_t us) {
    if (us <= 0) return "";
    const std::time_t t = static_cast<std::time_t>(us / 1'000'000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

  static json ids_body(const std::vector<std::uint64_t>& ids, bool batch) {
    if (!batch) return json{{"id", std::to_string(ids.front())}};
    json list = json::array();
    for (auto id : ids) list.push_back(std::to_string(id));
    return json{{"ids", std::move(list)}};
  }

  static std::int64_t day_of(std::int64_t us) { return us / 86'400'000'000; }
  std::string idempotency_slot(const std::string& key, std::int64_t day, std::size_t index) const {
    // Per token, per day (today's and yesterday's are looked at), per message of a batch.
    return token_name_ + '\n' + std::to_string(day) + '\n' + key + '#' + std::to_string(index);
  }

  // True when the key was seen in the last 24 h: answered with those ids.
  bool replay(const std::string& key, std::size_t count, bool batch) {
    const std::int64_t now = wall_us();
    for (std::int64_t day : {day_of(now), day_of(now) - 1}) {
      std::error_code ec;
      auto first = api_.log_.find_idempotent(idempotency_slot(key, day, 0), ec);
      if (!first) continue;
      auto rec = api_.log_.get(*first, ec);
      if (rec && now - rec->queued_us > 86'400'000'000) continue;  // older than 24 h: forgotten
      std::vector<std::uint64_t> ids{*first};
      for (std::size_t i = 1;; ++i) {
        auto next = api_.log_.find_idempotent(idempotency_slot(key, day, i), ec);
        if (!next) break;
        ids.push_back(*next);
      }
      if (ids.size() != count) {
        reply(http::status::unprocessable_entity,
              error_body("idempotency_mismatch", "this Idempotency-Key was used for a request of " +
                                                     std::to_string(ids.size()) + " messages"));
        return true;
      }
      // The first request may still wait for durability: so does this one.
      auto done = [self = shared_from_this(), ids, batch] {
        self->response_.set("Idempotent-Replayed", "true");
        self->reply(http::status::accepted, ids_body(ids, batch).dump(), true, false);
      };
      api_.await_durable(waiting{api_.log_.issued_ticket(), std::move(done),
                                 api_.log_.issued_ticket(storage::urgency::urgent)});
      return true;
    }
    return false;
  }

  void get_message(std::string_view id_text) {
    std::uint64_t id = 0;
    auto [end, err] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (err != std::errc() || end != id_text.data() + id_text.size() || id == 0)
      return reply(http::status::not_found, error_body("not_found", "no message " + std::string(id_text)));
    std::error_code ec;
    auto rec = api_.log_.get(id, ec);
    if (!rec) return reply(http::status::not_found, error_body("not_found", "no message " + std::string(id_text)));
    storage::message_view view{std::move(*rec), {}};
    view.timeline = storage::log_reader::timeline_of(view.record);
    reply(http::status::ok, format_message(view, report_format::json));
  }

  void get_ready() {
    // Storage: the log keeps writing (no events stuck for 5 s).
    const std::uint64_t issued = api_.log_.issued_ticket(), durable = api_.log_.durable_ticket();
    const auto now = std::chrono::steady_clock::now();
    if (durable != api_.last_durable_ || issued <= durable) {
      api_.last_durable_ = durable;
      api_.durable_moved_ = now;
    }
    const bool storage_ok = issued <= durable || now - api_.durable_moved_ < std::chrono::seconds(5);
    api_.dispatch_.status([self = shared_from_this(), storage_ok](dispatcher_status d) {
      json down = json::array();
      for (const auto& o : d.operators) {
        std::size_t bound = 0, outstanding = 0;
        for (std::size_t s : o.smscs) {
          bound += d.smscs[s].bound_senders;
          outstanding += d.smscs[s].outstanding;
        }
        // An operator with traffic (waiting or in flight) needs a bind up.
        if (bound == 0 && (o.queued_notifications + o.queued_campaign + outstanding) > 0) down.push_back(o.name);
      }
      asio::post(self->api_.io_, [self, storage_ok, down = std::move(down)] {
        const bool ready = storage_ok && down.empty();
        json body = {{"ready", ready}, {"storage", storage_ok ? "writing" : "stalled"}, {"operators_without_binds", down}};
        self->reply(ready ? http::status::ok : http::status::service_unavailable, body.dump());
      });
    });
  }

  void reply(http::status status, std::string body, bool keep_alive = true, bool fresh = true) {
    log_request(status);
    if (fresh) response_ = {};
    response_.result(status);
    response_.version(request_.version() ? request_.version() : 11);
    response_.set(http::field::content_type, "application/json");
    response_.set(http::field::server, "smppd");
    response_.keep_alive(keep_alive && request_.keep_alive());
    response_.body() = std::move(body);
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) return self->close();
      self->read();
    });
  }

  // Every request at debug; a server error (not back-pressure's 503) at
  // warn. The path without its query, the token's name, never the token.
  void log_request(http::status status) {
    const auto code = static_cast<unsigned>(status);
    const auto level = code >= 500 && code != 503 ? logging::level::warn : logging::level::debug;
    if (!logging::enabled(logging::component::api, level)) return;
    const std::string_view method(request_.method_string().data(), request_.method_string().size());
    std::string_view path(request_.target().data(), request_.target().size());
    path = path.substr(0, path.find('?'));
    logging::write(logging::component::api, level, "request",
                   {{"method", method}, {"path", path}, {"status", code}, {"token", token_name_}});
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  http_api& api_;
  std::string token_name_;  // the request's token ("" without tokens)
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

http_api::http_api(asio::io_context& io, const config::api_config& config, const prepare_source& prepare,
                   storage::message_log& log, dispatcher& dispatch, std::atomic<std::uint64_t>& next_message_id,
                   campaign_manager* campaigns)
    : io_(io),
      config_(config),
      prepare_from_(prepare),
      log_(log),
      dispatch_(dispatch),
      next_id_(next_message_id),
      campaigns_(campaigns),
      acceptor_(io),
      overflow_timer_(io),
      lane_capacity_(dispatch.lane_capacity()) {
  if (!config.tokens_file.empty()) {
    std::string error;
    auto tokens = token_set::load(config.tokens_file, error);
    if (!tokens) throw std::runtime_error(error);
    tokens_ = std::make_shared<const token_set>(std::move(*tokens));
  }
  tcp::endpoint ep(asio::ip::make_address(config.listen.host), config.listen.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();
}

http_api::~http_api() = default;

tcp::endpoint http_api::local_endpoint() const { return acceptor_.local_endpoint(); }

void http_api::start() { accept(); }

void http_api::stop() {
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    overflow_timer_.cancel();
  });
}

void http_api::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<connection>(*this, std::move(socket))->start();
    accept();
  });
}

void http_api::hand_over(std::unique_ptr<outbound_message> m) {
  if (overflow_.empty() && dispatch_.enqueue(std::move(m))) return;
  // The lane filled between the check and now: the message is in the log
  // (or on its way there, a notification's record); it joins the lane as
  // soon as there is room.
  if (m) overflow_.push_back(std::move(m));
  while (!overflow_.empty() && dispatch_.enqueue(std::move(overflow_.front()))) overflow_.pop_front();
  if (overflow_.empty() || overflow_timer_armed_) return;
  overflow_timer_armed_ = true;
  overflow_timer_.expires_after(std::chrono::milliseconds(10));
  overflow_timer_.async_wait([this](boost::system::error_code ec) {
    overflow_timer_armed_ = false;
    if (!ec) hand_over(nullptr);
  });
}

void http_api::set_tokens(std::shared_ptr<const token_set> tokens) {
  asio::post(io_, [this, tokens = std::move(tokens)]() mutable { tokens_ = std::move(tokens); });
}

void http_api::cancel_unsent(const storage::message_record& r) {
  // Appended but never to be sent (the rest of its batch was refused).
  for (std::uint16_t part = 0; part < r.parts.size(); ++part) {
    storage::part_update u;
    u.message_id = r.id;
    u.part = part;
    u.to = storage::state::cancelled;
    u.at_us = wall_us();
    for (int i = 0; i < 2000; ++i) {
      std::error_code ec;
      (void)log_.update(u, ec);
      if (ec != storage::storage_errc::backlog_full) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

void http_api::on_durable() {
  // The log's durable tickets were stored before this call; an answer
  // queued meanwhile is counted before its queuer reads them. With a
  // fence on each side, either this sees the count or the queuer sees
  // the tickets (await_durable).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (waiting_count_.load(std::memory_order_relaxed) == 0) return;
  if (durable_posted_.exchange(true)) return;
  asio::post(io_, [this] {
    durable_posted_.store(false);
    complete_durable();
  });
}

void http_api::await_durable(waiting w) {
  // Only urgent events (notifications): not behind answers waiting for the normal lane.
  (w.ticket == 0 ? waiting_urgent_ : waiting_).push_back(std::move(w));
  waiting_count_.fetch_add(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with on_durable()'s
  complete_durable();
}

void http_api::complete_durable() {
  auto ready = [this](const waiting& w) { return log_.is_durable(w.ticket) && log_.is_durable(w.urgent_ticket); };
  for (auto* q : {&waiting_urgent_, &waiting_}) {
    while (!q->empty() && ready(q->front())) {
      auto done = std::move(q->front().done);
      q->pop_front();
      waiting_count_.fetch_sub(1, std::memory_order_relaxed);
      done();
    }
  }
}

}  // namespace engine
