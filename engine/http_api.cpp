#include "engine/http_api.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <chrono>

#include "config/config.hpp"

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
  return json{{"id", c.id},
              {"state", name(c.state)},
              {"reading_done", c.reading_done},
              {"in_config", c.in_config},
              {"problem", c.problem},
              {"tps", c.tps},
              {"rows", c.rows},
              {"accepted", c.accepted},
              {"rejected", c.rejected},
              {"duplicates", c.duplicates},
              {"skipped", c.skipped}};
}

json to_json(const dispatcher_status& d) {
  json smscs = json::array(), operators = json::array();
  for (const auto& s : d.smscs)
    smscs.push_back({{"name", s.name},
                     {"binds", s.binds},
                     {"bound", s.bound_senders},
                     {"outstanding", s.outstanding},
                     {"tps", s.tps},
                     {"rate", s.rate},
                     {"rate_reduced", s.tps > 0 && s.rate < s.tps}});
  for (const auto& o : d.operators)
    operators.push_back({{"name", o.name},
                         {"tps", o.tps},
                         {"queued", {{"notification", o.queued_notifications}, {"campaign", o.queued_campaign}}}});
  return json{{"smscs", std::move(smscs)},
              {"operators", std::move(operators)},
              {"open_messages", d.open_messages},
              {"held_messages", d.held_messages},
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
      return reply(http::status::payload_too_large, error_body("body_too_large",
                   "the request body is over " + std::to_string(api_.config_.max_body_bytes) + " octets"), false);
    }
    if (ec) return reply(http::status::bad_request, error_body("bad_request", "malformed HTTP request"), false);
    request_ = parser_->release();
    ++api_.counters_.requests;
    route();
  }

  void route() {
    const auto target = request_.target();
    if (target == "/healthz") {
      if (request_.method() != http::verb::get) return method_not_allowed("GET");
      return reply(http::status::ok, json{{"status", "ok"}}.dump());
    }
    if (target == "/v1/messages") {
      if (request_.method() != http::verb::post) return method_not_allowed("POST");
      return post_message();
    }
    if (target == "/v1/status") {
      if (request_.method() != http::verb::get) return method_not_allowed("GET");
      return get_status();
    }
    if (target == "/v1/campaigns" || target.starts_with("/v1/campaigns/")) return campaigns(std::string_view(target.data(), target.size()));
    reply(http::status::not_found, error_body("not_found", "no such endpoint: " + std::string(target)));
  }

  void campaigns(std::string_view target) {
    auto* m = api_.campaigns_;
    if (!m) return reply(http::status::not_found, error_body("not_found", "no campaigns here"));
    std::string_view rest = target.substr(std::string_view("/v1/campaigns").size());
    if (rest.empty() || rest == "/") {
      if (request_.method() != http::verb::get) return method_not_allowed("GET");
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
    const auto action = parse_campaign_action(verb);
    if (!action)
      return reply(http::status::not_found,
                   error_body("not_found", "no such endpoint: " + std::string(target) +
                                               " (campaign commands: start, pause, resume, cancel)"));
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

  void post_message() {
    json body = json::parse(request_.body(), nullptr, false);
    if (body.is_discarded()) return bad("invalid_json", "the body is not valid JSON");
    if (!body.is_object()) return bad("invalid_json", "expected a JSON object");
    auto text_field = [&](const char* key, bool required, std::string& out) -> bool {
      auto it = body.find(key);
      if (it == body.end() || it->is_null()) {
        if (required) bad("missing_field", std::string("\"") + key + "\" is required");
        return !required;
      }
      if (!it->is_string()) {
        bad("invalid_field", std::string("\"") + key + "\" must be a string");
        return false;
      }
      out = it->get<std::string>();
      return true;
    };
    std::string to, text, from, validity;
    if (!text_field("to", true, to) || !text_field("text", true, text) || !text_field("from", true, from) ||
        !text_field("validity", false, validity))
      return;
    message_request req;
    req.to = to;
    req.from = from;
    req.text = std::move(text);
    req.priority = lane::notification;
    req.origin = storage::origin::api;
    if (auto it = body.find("receipts"); it != body.end()) {
      if (!it->is_boolean()) return bad("invalid_field", "\"receipts\" must be true or false");
      req.receipts = it->get<bool>();
    }
    if (!validity.empty()) {
      auto d = config::parse_duration(validity);
      if (!d) return bad("invalid_field", "\"validity\" must be a duration such as 30m or 24h");
      req.validity = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
    if (api_.dispatch_.queued(lane::notification) >= api_.lane_capacity_) {
      ++api_.counters_.rejected;
      return reply(http::status::service_unavailable,
                   error_body("busy", "too many notifications are waiting; try again shortly"));
    }
    if (api_.prepare_from_.generation() != api_.prepare_generation_) {
      api_.prepare_generation_ = api_.prepare_from_.generation();
      api_.prepare_ = api_.prepare_from_.get();
    }
    const std::uint64_t id = api_.next_id_.fetch_add(1) + 1;
    prepared_message prepared;
    if (auto why = prepare_message(api_.prepare_, req, id, wall_us(), prepared)) return bad(why.code, why.message);
    std::error_code ec;
    const std::uint64_t ticket = api_.log_.append(prepared.record, ec);
    if (ec) {
      ++api_.counters_.rejected;
      return reply(http::status::service_unavailable,
                   error_body("busy", "the message log is behind; try again shortly"));
    }
    // Answer (and dispatch) once the record is durable.
    auto message = std::make_shared<std::unique_ptr<outbound_message>>(std::move(prepared.message));
    api_.waiting_.push_back(waiting{ticket, [self = shared_from_this(), message, id] {
                                      self->api_.hand_over(std::move(*message));
                                      ++self->api_.counters_.accepted;
                                      self->reply(http::status::accepted, json{{"id", std::to_string(id)}}.dump());
                                    }});
    api_.complete_durable();
  }

  void reply(http::status status, std::string body, bool keep_alive = true) {
    response_ = {};
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

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  http_api& api_;
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
  // The lane filled between the check and now: the message is durable and
  // answered; it joins the lane as soon as there is room.
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

void http_api::on_durable() {
  if (durable_posted_.exchange(true)) return;
  asio::post(io_, [this] {
    durable_posted_.store(false);
    complete_durable();
  });
}

void http_api::complete_durable() {
  const std::uint64_t durable = log_.durable_ticket();
  while (!waiting_.empty() && waiting_.front().ticket <= durable) {
    auto done = std::move(waiting_.front().done);
    waiting_.pop_front();
    done();
  }
}

}  // namespace engine
