#include "engine/metrics.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/collectable.h>
#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iterator>
#include <limits>
#include <optional>

#include "engine/dispatcher.hpp"
#include "engine/http_api.hpp"
#include "engine/two_way.hpp"
#include "engine/webhooks.hpp"
#include "smpp/command_status.hpp"
#include "smppd/version.hpp"
#include "storage/message_log.hpp"

namespace engine {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {

using labels = std::vector<ClientMetric::Label>;
// A deque: a family being filled stays where it is while others are added.
using families = std::deque<MetricFamily>;

MetricFamily& family(families& out, std::string name, std::string help, MetricType type) {
  out.push_back(MetricFamily{std::move(name), std::move(help), type, {}});
  return out.back();
}

void sample(MetricFamily& f, double value, labels l = {}) {
  ClientMetric m;
  m.label = std::move(l);
  if (f.type == MetricType::Counter) m.counter.value = value;
  else m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

double load(const std::atomic<std::uint64_t>& c) { return static_cast<double>(c.load(std::memory_order_relaxed)); }

struct smsc_counter {
  const char* name;
  const char* help;
  std::atomic<std::uint64_t> smsc_counters::*field;
};

constexpr smsc_counter smsc_counter_list[] = {
    {"smppd_parts_submitted_total", "Message parts written to the SMSC (submit_sm).", &smsc_counters::submitted},
    {"smppd_parts_accepted_total", "Parts the SMSC accepted (submit_sm_resp ESME_ROK).", &smsc_counters::accepted},
    {"smppd_parts_retried_total", "Parts refused with a temporary error and scheduled again.",
     &smsc_counters::retried},
    {"smppd_parts_failed_total", "Parts ended as failed (permanent error, or temporary errors past the attempts).",
     &smsc_counters::failed},
    {"smppd_parts_in_doubt_total", "Parts written whose submit_sm_resp never came (link lost or timed out).",
     &smsc_counters::in_doubt},
    {"smppd_throttled_responses_total", "Responses asking to slow down (ESME_RTHROTTLED and the like).",
     &smsc_counters::throttled},
    {"smppd_receipts_total", "Final delivery receipts received.", &smsc_counters::receipts},
    {"smppd_mo_received_total", "Customers' messages (MO) received.", &smsc_counters::mo},
    {"smppd_smsc_rate_reductions_total", "Times the SMSC's adaptive rate was lowered after throttling.",
     &smsc_counters::rate_reductions},
};

struct campaign_counter {
  const char* name;
  const char* help;
  std::uint64_t campaign_sample::*field;
};

constexpr campaign_counter campaign_counter_list[] = {
    {"smppd_campaign_rows_read_total", "Data rows read from the campaign's recipients file.", &campaign_sample::rows},
    {"smppd_campaign_rows_accepted_total", "Rows that became messages.", &campaign_sample::accepted},
    {"smppd_campaign_rows_rejected_total", "Rows rejected (bad number, template, columns, route or text).",
     &campaign_sample::rejected},
    {"smppd_campaign_rows_duplicate_total", "Rows naming a recipient the campaign already had.",
     &campaign_sample::duplicates},
    {"smppd_campaign_rows_skipped_total", "Rows skipped on restart: already messages in the log.",
     &campaign_sample::skipped},
    {"smppd_campaign_rows_no_consent_total", "Rows suppressed: the campaign requires consent the recipient did not give.",
     &campaign_sample::no_consent},
};

struct operator_counter {
  const char* name;
  const char* help;
  std::atomic<std::uint64_t> operator_counters::*field;
};

constexpr operator_counter operator_counter_list[] = {
    {"smppd_operator_messages_submitted_total", "Messages whose first part was written to an SMSC.",
     &operator_counters::messages_submitted},
    {"smppd_operator_messages_accepted_total", "Messages whose every part an SMSC accepted.",
     &operator_counters::messages_accepted},
    {"smppd_operator_messages_failed_total", "Messages that ended with a part failed.",
     &operator_counters::messages_failed},
    {"smppd_operator_parts_submitted_total", "Message parts written to an SMSC (submit_sm).",
     &operator_counters::parts_submitted},
    {"smppd_operator_parts_accepted_total", "Parts an SMSC accepted (submit_sm_resp ESME_ROK).",
     &operator_counters::parts_accepted},
    {"smppd_operator_parts_failed_total", "Parts ended as failed.", &operator_counters::parts_failed},
};

// A command_status as a label: the specification's name, else its hex value.
std::string status_label(std::uint32_t status) {
  if (auto n = smpp::name(static_cast<smpp::command_status>(status)); !n.empty()) return std::string(n);
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%08X", status);
  return hex;
}

// Upper bounds of smppd_submit_receipt_seconds, in seconds: a receipt
// comes within a second from an SMSC that answers itself, within minutes
// from a handset that is on, within hours or days from one that is off.
constexpr double receipt_bounds_s[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200,
                                       21600, 86400};

// The log's latencies in Prometheus buckets. The log keeps them in buckets
// at most 12.5% wide (storage/latency_histogram.hpp); each counts under the
// first bound at or above its largest value, so a le count never includes
// a sample above its bound, and only samples within 12.5% below a bound
// may count under the next one. The sum adds the buckets' middles (within
// 6.25%).
ClientMetric receipt_histogram(const storage::latency_histogram& h, labels l) {
  ClientMetric m;
  m.label = std::move(l);
  std::array<std::uint64_t, std::size(receipt_bounds_s) + 1> counts{};
  double sum_s = 0;
  for (std::size_t b = 0; b < storage::latency_histogram::bucket_count; ++b) {
    const std::uint64_t n = h.in_bucket(b);
    if (n == 0) continue;
    const double top_s = static_cast<double>(storage::latency_histogram::bucket_top(b).count()) / 1e6;
    const auto at = std::lower_bound(std::begin(receipt_bounds_s), std::end(receipt_bounds_s), top_s);
    counts[static_cast<std::size_t>(at - std::begin(receipt_bounds_s))] += n;
    sum_s += static_cast<double>(n) * static_cast<double>(storage::latency_histogram::bucket_middle(b).count()) / 1e6;
  }
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    m.histogram.bucket.push_back(
        {cumulative, i < std::size(receipt_bounds_s) ? receipt_bounds_s[i] : std::numeric_limits<double>::infinity()});
  }
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = sum_s;
  return m;
}

}  // namespace

// The engine's values, formed into families at each scrape.
class metrics_server::collector : public prometheus::Collectable {
 public:
  explicit collector(metrics_sources s) : s_(std::move(s)) {}

  std::vector<MetricFamily> Collect() const override {
    families out;
    if (s_.dispatch) collect_dispatch(*s_.dispatch, out);
    if (s_.campaigns) collect_campaigns(out);
    collect_replies(out);
    if (s_.api) collect_api(*s_.api, out);
    if (s_.webhooks) collect_webhooks(*s_.webhooks, out);
    if (s_.log) collect_log(*s_.log, out);
    return {std::make_move_iterator(out.begin()), std::make_move_iterator(out.end())};
  }

 private:
  void collect_dispatch(const dispatcher& d, families& out) const {
    const metrics_layout lay = s_.layout ? s_.layout() : metrics_layout{};
    // One series per SMSC name: a reload that reconnects an SMSC gives it a
    // new slot, so its counters add up all its slots (they never go back)
    // and its gauges come from the slot in use. A removed SMSC is not shown.
    struct named {
      std::string name;
      std::vector<std::size_t> slots;
      std::optional<std::size_t> active;
    };
    std::vector<named> smscs;
    const std::size_t n_slots = std::min(d.smsc_count(), lay.smsc_names.size());
    for (std::size_t i = 0; i < n_slots; ++i) {
      auto it = std::find_if(smscs.begin(), smscs.end(), [&](const named& x) { return x.name == lay.smsc_names[i]; });
      if (it == smscs.end()) it = smscs.insert(smscs.end(), named{lay.smsc_names[i], {}, std::nullopt});
      it->slots.push_back(i);
      if (i >= lay.smsc_retired.size() || !lay.smsc_retired[i]) it->active = i;
    }
    std::erase_if(smscs, [](const named& x) { return !x.active; });
    auto smsc = [](const named& x) { return labels{{"smsc", x.name}}; };
    for (const auto& c : smsc_counter_list) {
      auto& f = family(out, c.name, c.help, MetricType::Counter);
      for (const auto& x : smscs) {
        double sum = 0;
        for (std::size_t i : x.slots) sum += load(d.counters(i).*c.field);
        sample(f, sum, smsc(x));
      }
    }
    auto& binds = family(out, "smppd_smsc_binds", "Connections configured to the SMSC account.", MetricType::Gauge);
    auto& bound = family(out, "smppd_smsc_binds_bound", "Connections bound now.", MetricType::Gauge);
    auto& window = family(out, "smppd_smsc_window_size", "Requests that may be outstanding, over all sending binds.",
                          MetricType::Gauge);
    auto& in_use = family(out, "smppd_smsc_window_in_use", "Requests outstanding now, over all binds.",
                          MetricType::Gauge);
    auto& tps = family(out, "smppd_smsc_tps_limit", "Configured submits per second (0: no limit of ours).",
                       MetricType::Gauge);
    auto& rate = family(out, "smppd_smsc_tps_current",
                        "Submits per second allowed now: the limit, lowered after throttling (0: no limit).",
                        MetricType::Gauge);
    auto& reduced = family(out, "smppd_smsc_rate_reduced",
                           "1 while throttling holds the rate below the configured tps (without one: limits it at all).",
                           MetricType::Gauge);
    for (const auto& x : smscs) {
      const std::size_t i = *x.active;
      const auto& c = d.counters(i);
      if (i < lay.smsc_binds.size()) sample(binds, static_cast<double>(lay.smsc_binds[i]), smsc(x));
      sample(bound, c.binds_bound.load(std::memory_order_relaxed), smsc(x));
      if (i < lay.smsc_window.size()) sample(window, static_cast<double>(lay.smsc_window[i]), smsc(x));
      sample(in_use, c.window_in_use.load(std::memory_order_relaxed), smsc(x));
      if (i < lay.smsc_tps.size()) sample(tps, lay.smsc_tps[i], smsc(x));
      const double now = c.rate.load(std::memory_order_relaxed);
      sample(rate, now, smsc(x));
      sample(reduced, rate_is_reduced(i < lay.smsc_tps.size() ? lay.smsc_tps[i] : 0, now) ? 1 : 0, smsc(x));
    }
    if (s_.log) {
      auto& parts = family(out, "smppd_smsc_parts", "The SMSC account's parts by state, as the log has them.",
                           MetricType::Gauge);
      for (const auto& x : smscs) {
        std::error_code ec;
        const auto counts = s_.log->smsc_states(x.name, ec);
        if (ec) continue;
        for (std::size_t st = 0; st < counts.size(); ++st)
          sample(parts, static_cast<double>(counts[st]),
                 {{"smsc", x.name}, {"state", std::string(storage::name(static_cast<storage::state>(st)))}});
      }
    }
    auto& latency = family(out, "smppd_submit_response_seconds", "Time from submit_sm to its submit_sm_resp.",
                           MetricType::Histogram);
    for (const auto& x : smscs) {
      const auto& first = d.counters(x.slots.front());
      ClientMetric m;
      m.label = smsc(x);
      std::uint64_t cumulative = 0;
      double sum_us = 0;
      for (std::size_t b = 0; b < first.resp_buckets.size(); ++b) {
        for (std::size_t i : x.slots) cumulative += d.counters(i).resp_buckets[b].load(std::memory_order_relaxed);
        const double bound_s = b < first.resp_bounds_us.size() ? static_cast<double>(first.resp_bounds_us[b]) / 1e6
                                                                : std::numeric_limits<double>::infinity();
        m.histogram.bucket.push_back({cumulative, bound_s});
      }
      for (std::size_t i : x.slots) sum_us += load(d.counters(i).resp_sum_us);
      m.histogram.sample_count = cumulative;
      m.histogram.sample_sum = sum_us / 1e6;
      latency.metric.push_back(std::move(m));
    }
    if (s_.log) {
      auto& receipt = family(out, "smppd_submit_receipt_seconds",
                             "Time from submit_sm to the part's final delivery receipt (all runs of the log).",
                             MetricType::Histogram);
      for (const auto& x : smscs) {
        std::error_code ec;
        const auto h = s_.log->smsc_receipt_latency(x.name, ec);
        if (!ec) receipt.metric.push_back(receipt_histogram(h, smsc(x)));
      }
    }

    auto& depth = family(out, "smppd_queue_depth", "Messages waiting in an operator's lane.", MetricType::Gauge);
    const std::size_t ops = std::min(d.operator_count(), lay.operator_names.size());
    auto shown = [&](std::size_t o) { return o >= lay.operator_removed.size() || !lay.operator_removed[o]; };
    for (std::size_t o = 0; o < ops; ++o) {
      if (!shown(o)) continue;
      sample(depth, static_cast<double>(d.queued(o, lane::notification)),
             {{"lane", "notification"}, {"operator", lay.operator_names[o]}});
      sample(depth, static_cast<double>(d.queued(o, lane::campaign)),
             {{"lane", "campaign"}, {"operator", lay.operator_names[o]}});
    }
    sample(family(out, "smppd_queue_capacity", "Messages one operator's lane holds at most.", MetricType::Gauge),
           static_cast<double>(d.lane_capacity()));
    for (const auto& c : operator_counter_list) {
      auto& f = family(out, c.name, c.help, MetricType::Counter);
      for (std::size_t o = 0; o < ops; ++o)
        if (shown(o)) sample(f, load(d.op_counters(o).*c.field), {{"operator", lay.operator_names[o]}});
    }
    auto& responses = family(out, "smppd_submit_responses_total",
                             "submit_sm_resp received, by command_status (the first 24 distinct; the rest: other).",
                             MetricType::Counter);
    for (std::size_t o = 0; o < ops; ++o) {
      if (!shown(o)) continue;
      const auto& r = d.op_counters(o).responses;
      const std::string& name = lay.operator_names[o];
      const std::size_t used = r.used.load(std::memory_order_acquire);
      for (std::size_t i = 0; i < used; ++i)
        sample(responses, load(r.count[i]),
               {{"operator", name}, {"status", status_label(r.status[i].load(std::memory_order_relaxed))}});
      if (load(r.other) > 0) sample(responses, load(r.other), {{"operator", name}, {"status", "other"}});
    }
    auto& op_tps = family(out, "smppd_operator_tps_limit", "Configured submits per second to the operator (0: no limit).",
                          MetricType::Gauge);
    for (std::size_t o = 0; o < ops && o < lay.operator_tps.size(); ++o)
      if (shown(o)) sample(op_tps, lay.operator_tps[o], {{"operator", lay.operator_names[o]}});
    sample(family(out, "smppd_open_messages", "Messages the dispatcher holds: queued, in flight or retrying.",
                  MetricType::Gauge),
           static_cast<double>(d.open_messages()));
    const auto& g = d.counters();
    sample(family(out, "smppd_parts_expired_unsent_total",
                  "Parts suppressed because their validity ended before they could be sent.", MetricType::Counter),
           load(g.expired_unsent));
    sample(family(out, "smppd_log_backpressure_waits_total",
                  "Times dispatch waited because the message log was behind.", MetricType::Counter),
           load(g.backlog_waits));
    sample(family(out, "smppd_parts_cancelled_unsent_total",
                  "Parts of cancelled campaigns that were never sent.", MetricType::Counter),
           load(g.cancelled));
    sample(family(out, "smppd_window_holds_total",
                  "Times a message was held because its recipient's send window was closed.", MetricType::Counter),
           load(g.window_holds));
    sample(family(out, "smppd_parts_window_suppressed_total",
                  "Parts suppressed because their validity ends before their send window opens.",
                  MetricType::Counter),
           load(g.window_suppressed));
    sample(family(out, "smppd_messages_held_for_window",
                  "Messages waiting for their recipient's send window to open.", MetricType::Gauge),
           static_cast<double>(d.held_for_window()));
    sample(family(out, "smppd_parts_opted_out_total",
                  "Parts suppressed because the recipient had opted out.", MetricType::Counter),
           load(g.opted_out));
  }

  void collect_replies(families& out) const {
    if (!s_.replies) return;
    const auto& c = s_.replies->counters();
    sample(family(out, "smppd_mo_parts_redelivered_total",
                  "MO parts the SMSC sent again: acknowledged, not stored twice.", MetricType::Counter),
           load(c.redelivered));
    sample(family(out, "smppd_mo_parts_undecodable_total", "MO parts refused because their text cannot be decoded.",
                  MetricType::Counter),
           load(c.undecodable));
    sample(family(out, "smppd_replies_total", "Customers' replies stored (whole or with parts missing).",
                  MetricType::Counter),
           load(c.replies));
    sample(family(out, "smppd_replies_incomplete_total", "Replies stored with parts that never came.",
                  MetricType::Counter),
           load(c.incomplete));
    sample(family(out, "smppd_replies_matched_total", "Replies tied to a conversation.", MetricType::Counter),
           load(c.matched));
    auto& kw = family(out, "smppd_reply_keywords_total", "Replies that were a keyword, by keyword kind.",
                      MetricType::Counter);
    sample(kw, load(c.opt_outs), {{"kind", "opt_out"}});
    sample(kw, load(c.opt_ins), {{"kind", "opt_in"}});
    sample(kw, load(c.help), {{"kind", "help"}});
    sample(family(out, "smppd_auto_acks_total", "Auto-acknowledgements queued to customers who wrote.",
                  MetricType::Counter),
           load(c.auto_acks));
    auto& skipped = family(out, "smppd_auto_acks_skipped_total",
                           "Replies an auto-acknowledgement was configured for that got none, by reason.",
                           MetricType::Counter);
    for (std::size_t i = 0; i < ack_skip_count; ++i)
      sample(skipped, load(c.auto_acks_skipped[i]), {{"reason", std::string(name(static_cast<ack_skip>(i)))}});
    auto& removed = family(out, "smppd_two_way_removed_total",
                           "Two-way data removed by retention (two_way.reply_retention), by kind.",
                           MetricType::Counter);
    sample(removed, load(c.removed_replies), {{"kind", "reply"}});
    sample(removed, load(c.removed_conversations), {{"kind", "conversation"}});
    sample(removed, load(c.removed_opt_ins), {{"kind", "opt_in"}});
    sample(removed, load(c.removed_dead_letters), {{"kind", "dead_letter"}});
  }

  void collect_campaigns(families& out) const {
    const auto campaigns = s_.campaigns();
    for (const auto& c : campaign_counter_list) {
      auto& f = family(out, c.name, c.help, MetricType::Counter);
      for (const auto& cs : campaigns) sample(f, static_cast<double>(cs.*c.field), {{"campaign", cs.id}});
    }
    auto& reading = family(out, "smppd_campaign_reading", "1 while the campaign's recipients file is being read.",
                           MetricType::Gauge);
    for (const auto& cs : campaigns) sample(reading, cs.reading ? 1 : 0, {{"campaign", cs.id}});
    if (!s_.log) return;
    auto& states = family(out, "smppd_campaign_messages", "The campaign's messages by state, as the log has them.",
                          MetricType::Gauge);
    for (const auto& cs : campaigns) {
      std::error_code ec;
      const auto counts = s_.log->campaign_states(cs.id, ec);
      if (ec) continue;
      for (std::size_t i = 0; i < counts.size(); ++i)
        sample(states, static_cast<double>(counts[i]),
               {{"campaign", cs.id}, {"state", std::string(storage::name(static_cast<storage::state>(i)))}});
    }
  }

  static void collect_api(const http_api& api, families& out) {
    const auto& c = api.counters();
    sample(family(out, "smppd_api_requests_total", "HTTP API requests read.", MetricType::Counter), load(c.requests));
    sample(family(out, "smppd_api_messages_accepted_total", "Messages the API accepted (202, durable).",
                  MetricType::Counter),
           load(c.accepted));
    sample(family(out, "smppd_api_requests_rejected_total", "Message requests refused (400 or 503).",
                  MetricType::Counter),
           load(c.rejected));
  }

  static void collect_webhooks(const webhook_counters& c, families& out) {
    sample(family(out, "smppd_webhook_deliveries_total", "Webhook events a webhook accepted (2xx).",
                  MetricType::Counter),
           load(c.delivered));
    sample(family(out, "smppd_webhook_failures_total", "Webhook deliveries that failed (each try).",
                  MetricType::Counter),
           load(c.failed));
    sample(family(out, "smppd_webhook_dead_letters_total", "Two-way events given up on (dead letters).",
                  MetricType::Counter),
           load(c.dead));
    auto& by_event = family(out, "smppd_webhook_event_deliveries_total",
                            "Webhook events a webhook accepted (2xx), by event.", MetricType::Counter);
    for (std::size_t i = 0; i < webhook_event_count; ++i)
      sample(by_event, load(c.delivered_by_event[i]),
             {{"event", std::string(name(static_cast<config::webhook_event>(i)))}});
  }

  static void collect_log(const storage::message_log& log, families& out) {
    const auto& c = log.counters();
    sample(family(out, "smppd_log_events_written_total", "Events the message log's writer wrote.",
                  MetricType::Counter),
           load(c.events));
    sample(family(out, "smppd_log_batches_total", "Write batches (group commits) of the message log.",
                  MetricType::Counter),
           load(c.batches));
    sample(family(out, "smppd_log_illegal_transitions_total", "State changes the log refused as illegal.",
                  MetricType::Counter),
           load(c.illegal_transitions));
    sample(family(out, "smppd_log_backlog_events", "Events waiting for the message log's writer.", MetricType::Gauge),
           static_cast<double>(log.backlog()));
    sample(family(out, "smppd_log_pending_compaction_bytes", "RocksDB's estimate of bytes compaction has to rewrite.",
                  MetricType::Gauge),
           static_cast<double>(log.pending_compaction_bytes()));
    const storage::message_log::memory_use m = log.memory();
    auto& memory = family(out, "smppd_log_memory_bytes",
                          "Memory the message log holds, by part (RocksDB's accounting).", MetricType::Gauge);
    sample(memory, static_cast<double>(m.memtables), {{"part", "memtables"}});
    sample(memory, static_cast<double>(m.block_cache), {{"part", "block_cache"}});
    sample(memory, static_cast<double>(m.block_cache_pinned), {{"part", "block_cache_pinned"}});
    sample(memory, static_cast<double>(m.table_readers), {{"part", "table_readers"}});
    auto& limits = family(out, "smppd_log_memory_limit_bytes",
                          "The message log's memory bounds (node.log_memtables_mib, node.log_cache_mib).",
                          MetricType::Gauge);
    sample(limits, static_cast<double>(m.memtables_limit), {{"part", "memtables"}});
    sample(limits, static_cast<double>(m.block_cache_limit), {{"part", "block_cache"}});
    sample(family(out, "smppd_log_cached_records", "Message records the log's writer keeps in memory.",
                  MetricType::Gauge),
           static_cast<double>(m.cached_records));
  }

  metrics_sources s_;
};

// One scraper's connection: requests one after another (keep-alive).
class metrics_server::connection : public std::enable_shared_from_this<connection> {
 public:
  connection(const metrics_server& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(4096);
    parser_->header_limit(8192);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->request_ = self->parser_->release();
      self->route();
    });
  }

  void route() {
    const auto target = request_.target();
    const auto path = target.substr(0, target.find('?'));
    if (path != "/metrics") return reply(http::status::not_found, "not found: use /metrics\n");
    if (request_.method() != http::verb::get) return reply(http::status::method_not_allowed, "use GET\n");
    reply(http::status::ok, server_.scrape());
  }

  void reply(http::status status, std::string body) {
    response_ = {};
    response_.result(status);
    response_.version(request_.version());
    response_.set(http::field::content_type, status == http::status::ok
                                                 ? "text/plain; version=0.0.4; charset=utf-8"
                                                 : "text/plain; charset=utf-8");
    response_.set(http::field::server, "smppd");
    response_.keep_alive(request_.keep_alive());
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

  const metrics_server& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

metrics_server::metrics_server(asio::io_context& io, const config::endpoint& listen, metrics_sources sources)
    : io_(io),
      acceptor_(io),
      registry_(std::make_shared<prometheus::Registry>()),
      collector_(std::make_shared<collector>(std::move(sources))) {
  tcp::endpoint ep(asio::ip::make_address(listen.host), listen.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen();

  prometheus::BuildGauge()
      .Name("smppd_build_info")
      .Help("Always 1; the version of smppd running.")
      .Register(*registry_)
      .Add({{"version", smppd::version}})
      .Set(1);
  const auto started = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch());
  prometheus::BuildGauge()
      .Name("smppd_start_time_seconds")
      .Help("When smppd started, in seconds since the Unix epoch.")
      .Register(*registry_)
      .Add({})
      .Set(started.count());
}

metrics_server::~metrics_server() = default;

tcp::endpoint metrics_server::local_endpoint() const { return acceptor_.local_endpoint(); }

void metrics_server::start() { accept(); }

void metrics_server::stop() {
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
}

void metrics_server::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<connection>(*this, std::move(socket))->start();
    accept();
  });
}

std::string metrics_server::scrape() const {
  auto families = registry_->Collect();
  auto engine = collector_->Collect();
  families.insert(families.end(), std::make_move_iterator(engine.begin()), std::make_move_iterator(engine.end()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace engine
