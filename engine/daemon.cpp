#include "engine/daemon.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/campaigns.hpp"
#include "engine/dispatcher.hpp"
#include "engine/http_api.hpp"
#include "engine/log_report.hpp"
#include "engine/metrics.hpp"
#include "engine/router.hpp"
#include "engine/service_notify.hpp"
#include "engine/two_way.hpp"
#include "engine/webhooks.hpp"
#include "logging/logger.hpp"
#include "logging/thread_name.hpp"
#include "smppd/version.hpp"
#include "storage/log_reader.hpp"
#include "storage/message_log.hpp"
#include "storage/reconciler.hpp"
#include "storage/recovery.hpp"

namespace engine {

namespace fs = std::filesystem;
namespace lg = logging;
using lg::component;

namespace {

smpp::encode_options encoding_of(const config::smsc_config& s) {
  smpp::encode_options o;
  switch (s.long_messages) {
    case config::long_message_mode::udh: o.long_messages = smpp::long_message_method::udh8; break;
    case config::long_message_mode::udh16: o.long_messages = smpp::long_message_method::udh16; break;
    case config::long_message_mode::sar: o.long_messages = smpp::long_message_method::sar; break;
    case config::long_message_mode::payload: o.long_messages = smpp::long_message_method::payload; break;
  }
  o.packing = s.gsm7_packing == config::gsm7_layout::packed ? smpp::gsm7_packing::packed : smpp::gsm7_packing::unpacked;
  switch (s.data_coding_0) {
    case config::dc0_meaning::gsm7: o.dc0 = smpp::dc0_charset::gsm7; break;
    case config::dc0_meaning::latin1: o.dc0 = smpp::dc0_charset::latin1; break;
    case config::dc0_meaning::ascii: o.dc0 = smpp::dc0_charset::ia5; break;
  }
  return o;
}

storage::id_format ids_of(config::receipt_id_format f) {
  switch (f) {
    case config::receipt_id_format::automatic: return storage::id_format::automatic;
    case config::receipt_id_format::decimal: return storage::id_format::decimal;
    case config::receipt_id_format::hex: return storage::id_format::hex;
    case config::receipt_id_format::string: return storage::id_format::string;
  }
  return storage::id_format::automatic;
}

smpp::pool_options pool_of(const config::smsc_config& s) {
  smpp::pool_options p;
  p.binds = s.binds;
  p.mode = s.bind == config::bind_mode::tx_rx         ? smpp::pool_mode::tx_rx_pairs
           : s.bind == config::bind_mode::transmitter ? smpp::pool_mode::transmitter
                                                      : smpp::pool_mode::transceiver;
  auto& c = p.client;
  c.host = s.host;
  c.port = s.port;
  c.session.system_id = s.system_id;
  c.session.password = s.password.reveal();
  c.session.system_type = s.system_type;
  c.session.addr_ton = s.addr_ton;
  c.session.addr_npi = s.addr_npi;
  c.session.address_range = s.address_range;
  c.session.window = s.window;
  c.session.response_timeout = s.response_timeout;
  c.session.enquire_link_interval = s.enquire_link;
  c.tls.enabled = s.tls.enabled;
  c.tls.verify_peer = s.tls.verify;
  c.tls.ca_file = s.tls.ca_file;
  c.tls.server_name = s.tls.server_name;
  c.reconnect.initial = s.reconnect_initial;
  c.reconnect.max = s.reconnect_max;
  c.reconnect.already_bound_wait = s.already_bound_wait;
  return p;
}

// The dispatcher's SMSCs and operators and the prepare context for one
// configuration. Slots are stable over reloads: an SMSC or operator keeps
// its index; those gone stay as retired slots; new ones come after.
struct engine_plan {
  dispatcher_options dispatch;
  std::vector<config::smsc_config> smsc_configs;  // per SMSC slot
  prepare_context prepare;
  std::vector<std::string> notes;  // what changed (reloads)
};

// Settings that need no new connection when they change.
bool same_connection(config::smsc_config a, const config::smsc_config& b) {
  a.tps = b.tps;
  a.receipt_ids = b.receipt_ids;
  a.long_messages = b.long_messages;
  a.gsm7_packing = b.gsm7_packing;
  a.data_coding_0 = b.data_coding_0;
  return a == b;
}

engine_plan make_plan(const config::settings& s, const engine_plan* before) {
  engine_plan p;
  std::map<std::string, std::size_t> active;  // SMSC slot by name
  if (before) {
    p.dispatch.smscs = before->dispatch.smscs;
    p.smsc_configs = before->smsc_configs;
    for (std::size_t i = 0; i < p.dispatch.smscs.size(); ++i)
      if (!p.dispatch.smscs[i].retired) active[p.dispatch.smscs[i].name] = i;
  }
  std::map<std::string, std::size_t> smsc_index;
  for (const auto& c : s.smscs) {
    smsc_setup setup;
    setup.name = c.name;
    setup.pool = pool_of(c);
    setup.tps = c.tps;
    setup.ids = ids_of(c.receipt_ids);
    if (auto it = active.find(c.name); it != active.end()) {
      const std::size_t i = it->second;
      active.erase(it);
      if (same_connection(p.smsc_configs[i], c)) {
        if (p.smsc_configs[i].tps != c.tps) p.notes.push_back("smsc " + c.name + ": tps now " + std::to_string(c.tps));
        p.dispatch.smscs[i] = std::move(setup);
        p.smsc_configs[i] = c;
        smsc_index[c.name] = i;
        continue;
      }
      p.dispatch.smscs[i].retired = true;
      p.notes.push_back("smsc " + c.name + ": connection settings changed; its binds reconnect");
    } else if (before) {
      p.notes.push_back("smsc " + c.name + ": added");
    }
    smsc_index[c.name] = p.dispatch.smscs.size();
    p.dispatch.smscs.push_back(std::move(setup));
    p.smsc_configs.push_back(c);
  }
  for (const auto& [name, i] : active) {
    p.dispatch.smscs[i].retired = true;
    p.notes.push_back("smsc " + name + ": removed; its binds drain and unbind");
  }

  // Operators keep their slots by name; one no longer configured keeps an
  // empty table (no prefixes, no SMSCs): its waiting messages are routed again.
  std::vector<operator_route_table> ops;
  std::vector<double> tps;
  std::map<std::string, std::size_t> op_index;
  if (before)
    for (const auto& o : before->dispatch.operators) {
      op_index[o.name] = ops.size();
      ops.push_back(operator_route_table{o.name, {}, {}, true});
      tps.push_back(0);
    }
  std::vector<smpp::encode_options> encoding(ops.size());
  for (const auto& o : s.operators) {
    auto [it, added] = op_index.emplace(o.name, ops.size());
    if (added) {
      ops.emplace_back();
      tps.push_back(0);
      encoding.emplace_back();
      if (before) p.notes.push_back("operator " + o.name + ": added");
    }
    auto& t = ops[it->second];
    t.name = o.name;
    t.removed = false;
    t.prefixes = o.prefixes;
    t.smscs.clear();
    for (const auto& r : o.smscs) t.smscs.push_back(route_target{smsc_index.at(r.smsc), r.weight});
    tps[it->second] = o.tps;
    // Texts are segmented once, for the operator's first SMSC (the
    // configuration's check makes its SMSCs share these settings).
    encoding[it->second] = encoding_of(*s.smsc(o.smscs.front().smsc));
  }
  if (before)
    for (std::size_t i = 0; i < before->dispatch.operators.size(); ++i)
      if (ops[i].removed && !before->dispatch.operators[i].removed)
        p.notes.push_back("operator " + ops[i].name + ": removed; its waiting messages are routed again");
  if (auto it = op_index.find(s.default_operator); it != op_index.end() && !s.default_operator.empty())
    p.dispatch.default_operator = it->second;
  p.dispatch.operators = std::move(ops);
  p.dispatch.operator_tps = std::move(tps);
  p.dispatch.in_doubt = s.node.in_doubt == config::in_doubt_policy::resend ? in_doubt_action::resend
                                                                           : in_doubt_action::mark_unknown;
  p.dispatch.max_attempts = s.retry.attempts;
  p.dispatch.retry_initial = s.retry.first_delay;
  p.dispatch.retry_max = s.retry.max_delay;
  p.prepare.numbering = numbering_plan{s.numbering.default_country_code, s.numbering.trunk_prefix};
  p.prepare.routes = std::make_shared<const router>(p.dispatch.operators, p.dispatch.default_operator);
  p.prepare.encoding = std::move(encoding);
  std::vector<std::string> missing;
  p.prepare.zones = std::make_shared<const zone_table>(s.numbering.time_zones, s.numbering.default_time_zone, &missing);
  for (const auto& z : missing)
    lg::warn(component::config, "time zone not in this system's tzdata; numbers it would place fall back",
             {{"zone", z}});
  return p;
}

// What the metrics name and limit, from the plan in force (reloads change it).
metrics_layout layout_of(const engine_plan& p) {
  metrics_layout m;
  for (std::size_t i = 0; i < p.smsc_configs.size(); ++i) {
    const auto& c = p.smsc_configs[i];
    m.smsc_names.push_back(c.name);
    m.smsc_retired.push_back(p.dispatch.smscs[i].retired);
    m.smsc_tps.push_back(c.tps);
    m.smsc_binds.push_back(c.binds * (c.bind == config::bind_mode::tx_rx ? 2 : 1));
    m.smsc_window.push_back(c.binds * c.window);
  }
  for (std::size_t i = 0; i < p.dispatch.operators.size(); ++i) {
    m.operator_names.push_back(p.dispatch.operators[i].name);
    m.operator_removed.push_back(p.dispatch.operators[i].removed);
    m.operator_tps.push_back(i < p.dispatch.operator_tps.size() ? p.dispatch.operator_tps[i] : 0);
  }
  return m;
}

// The metrics' layout, replaced by reloads, read at each scrape.
struct shared_layout {
  std::mutex mutex;
  metrics_layout current;
};

// HOST:PORT, with IPv6 addresses in brackets.
std::string endpoint_text(const std::string& host, unsigned port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Each error of a configuration file: its place as fields.
void log_config_errors(const std::vector<config::config_error>& errors) {
  for (const auto& e : errors)
    lg::error(component::config, e.message,
              {{"file", e.file}, {"line", e.line}, {"column", e.column}, {"key", e.key}});
}

// The levels the configuration asks for, unless --log-level set them all.
void apply_log_levels(const config::settings& s, const daemon_options& opt) {
  lg::levels l = s.log_levels;
  if (opt.log_level) l = lg::levels{*opt.log_level, {}};
  lg::set_levels(l);
}

std::int64_t storage_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

volatile std::sig_atomic_t signalled = 0;
volatile std::sig_atomic_t reload_requested = 0;

// SIGHUP: the file again; what can change while running changes.
void reload(const daemon_options& opt, config::settings& running, engine_plan& plan, dispatcher& dispatch,
            prepare_source& prepare, campaign_manager& campaigns, http_api* api, shared_layout& layout) {
  const fs::path& file = opt.config_file;
  if (file.empty()) {
    lg::warn(component::config, "SIGHUP ignored: no configuration file to read again");
    return;
  }
  lg::info(component::config, "reloading", {{"file", file.string()}});
  auto loaded = config::load_file(file);
  if (!loaded.value) {
    log_config_errors(loaded.errors);
    lg::error(component::config, "reload refused; the running configuration stays",
              {{"file", file.string()}, {"errors", loaded.errors.size()}});
    return;
  }
  const config::settings& next = *loaded.value;
  // Tokens are read first: a bad tokens file refuses the whole reload.
  std::shared_ptr<const token_set> tokens;
  if (!next.api.tokens_file.empty()) {
    std::string error;
    auto t = token_set::load(next.api.tokens_file, error);
    if (!t) {
      lg::error(component::config, "reload refused; the running configuration stays",
                {{"file", file.string()}, {"key", "api.tokens_file"}, {"error", error}});
      return;
    }
    tokens = std::make_shared<const token_set>(std::move(*t));
  }
  engine_plan next_plan = make_plan(next, &plan);
  // The dispatcher first: messages prepared with the new routes may name
  // operators it must already have.
  std::promise<bool> applied;
  dispatch.reconfigure(next_plan.dispatch, [&applied](bool ok) { applied.set_value(ok); });
  auto result = applied.get_future();
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready || !result.get()) {
    lg::error(component::config, "reload refused; the running configuration stays",
              {{"file", file.string()},
               {"error", "the dispatcher could not take it (stopping, or over " +
                             std::to_string(dispatcher::max_operators) + " operators)"}});
    return;
  }
  prepare.replace(next_plan.prepare);
  if (api && !next.api.tokens_file.empty()) api->set_tokens(tokens);
  auto notes = std::move(next_plan.notes);
  for (auto& n : campaigns.apply(next.campaigns)) notes.push_back(std::move(n));
  if (next.numbering.default_country_code != running.numbering.default_country_code ||
      next.numbering.trunk_prefix != running.numbering.trunk_prefix ||
      next.numbering.time_zones != running.numbering.time_zones ||
      next.numbering.default_time_zone != running.numbering.default_time_zone)
    notes.push_back("numbering changed");
  if (next.retry != running.retry)
    notes.push_back("retry changed: attempts " + std::to_string(next.retry.attempts) + ", first_delay " +
                    std::to_string(next.retry.first_delay.count()) + " ms, max_delay " +
                    std::to_string(next.retry.max_delay.count()) + " ms (retries already waiting keep their time)");
  // Every node setting is read when the log opens (retention and
  // orphan_receipts too).
  if (next.node != running.node || next.api.listen != running.api.listen ||
      next.api.max_batch != running.api.max_batch || next.api.max_body_bytes != running.api.max_body_bytes ||
      next.metrics.listen != running.metrics.listen)
    notes.push_back("node, api and metrics settings take effect at the next start");
  if (next.two_way != running.two_way) notes.push_back("two_way settings (webhooks too) take effect at the next start");
  if (tokens) notes.push_back("api tokens read again (" + std::to_string(tokens->size()) + ")");
  else if (!running.api.tokens_file.empty())
    notes.push_back("api.tokens_file removed: tokens stay required until the next start");
  if (next.log_levels != running.log_levels)
    notes.push_back(opt.log_level ? "logging levels unchanged: --log-level sets them" : "logging levels changed");
  plan = std::move(next_plan);
  plan.notes.clear();
  {
    std::lock_guard lock(layout.mutex);
    layout.current = layout_of(plan);
  }
  running = next;
  apply_log_levels(running, opt);
  lg::info(component::config, notes.empty() ? "reloaded: nothing changed" : "reloaded",
           {{"file", file.string()}, {"changes", notes.size()}});
  for (const auto& n : notes) lg::info(component::config, n, {{"file", file.string()}});
}

}  // namespace

int run_daemon(const config::settings& s, const daemon_options& opt) {
  apply_log_levels(s, opt);
  lg::info(component::main, "starting",
           {{"version", smppd::version}, {"config", opt.config_file.string()}, {"data_dir", s.node.data_dir.string()}});
  std::error_code ec;
  fs::create_directories(s.node.data_dir, ec);
  if (ec) {
    lg::error(component::storage, "cannot create data_dir", {{"dir", s.node.data_dir.string()}, {"error", ec}});
    return 1;
  }

  // The dispatcher exists only after the log; the log's callback finds it here.
  std::atomic<dispatcher*> durable_sink{nullptr};
  std::atomic<http_api*> api_sink{nullptr};
  storage::log_options lo;
  lo.dir = s.node.data_dir / "log";
  lo.sync = s.node.sync == config::sync_mode::always  ? storage::sync_policy::always
            : s.node.sync == config::sync_mode::never ? storage::sync_policy::never
                                                      : storage::sync_policy::interval;
  lo.sync_interval = s.node.sync_interval;
  lo.retention = s.node.retention;
  lo.memtable_bytes = s.node.log_memtables_mib << 20;
  lo.block_cache_bytes = s.node.log_cache_mib << 20;
  lo.on_durable = [&durable_sink, &api_sink](std::uint64_t) {
    if (auto* d = durable_sink.load()) d->on_durable();
    if (auto* a = api_sink.load()) a->on_durable();
  };
  lo.on_illegal = [](std::uint64_t id, std::uint16_t part, storage::state from, storage::state to) {
    lg::warn(component::storage, "illegal transition ignored",
             {{"message", id}, {"part", part}, {"from", storage::name(from)}, {"to", storage::name(to)}});
  };
  // Messages' outcomes for the webhooks: the writer asks only when some
  // webhook lists them (otherwise nothing is done per message).
  if (webhook_sender::wanted(s.two_way.webhooks, config::webhook_event::delivered) ||
      webhook_sender::wanted(s.two_way.webhooks, config::webhook_event::failed))
    lo.message_event_targets = [hooks = s.two_way.webhooks](storage::message_event e, const storage::message_record& m,
                                                            std::vector<std::string>& out) {
      webhook_sender::message_targets(hooks, e, m, out);
    };
  std::unique_ptr<storage::message_log> log;
  try {
    log = std::make_unique<storage::message_log>(lo);
  } catch (const std::exception& e) {
    lg::error(component::storage, "cannot open the message log", {{"dir", lo.dir.string()}, {"error", e.what()}});
    return 1;
  }

  // Recovery: what the last run left open.
  storage::recovery_options ro;
  ro.in_doubt = s.node.in_doubt == config::in_doubt_policy::resend ? storage::in_doubt_policy::resend
                                                                   : storage::in_doubt_policy::mark_unknown;
  auto recovered = storage::recover(*log, ro, ec);
  if (ec) {
    lg::error(component::storage, "recovery failed", {{"dir", lo.dir.string()}, {"error", ec}});
    return 1;
  }
  if (recovered.open_messages)
    lg::info(component::storage, "recovered open messages",
             {{"open_messages", recovered.open_messages},
              {"parts_to_send", recovered.to_dispatch.size()},
              {"in_doubt", recovered.in_doubt_parts},
              {"resent", recovered.resent_parts},
              {"marked_unknown", recovered.marked_unknown},
              {"awaiting_receipt", recovered.awaiting_receipt},
              {"overdue_unknown", recovered.overdue_unknown}});
  else
    lg::info(component::storage, "message log open; nothing to recover", {{"dir", lo.dir.string()}});

  storage::reconciler_options rco;
  rco.orphan_keep = s.node.orphan_receipts;
  storage::reconciler reconciler(*log, rco);

  // Routing and the SMSCs.
  engine_plan plan = make_plan(s, nullptr);
  prepare_source prepare(plan.prepare);

  boost::asio::io_context io;
  dispatcher dispatch(io, plan.dispatch, *log, reconciler);
  durable_sink.store(&dispatch);
  std::atomic<std::uint64_t> next_id{log->max_message_id()};

  // Two-way: customers' replies stored and keywords acted on (io thread);
  // opt-outs stop messages at submit time.
  opt_out_list opt_outs;
  two_way_options two;
  two.config = s.two_way;
  two.numbering = prepare.get().numbering;
  for (const auto& c : s.smscs)
    two.dc0[c.name] = c.data_coding_0 == config::dc0_meaning::latin1  ? smpp::dc0_charset::latin1
                      : c.data_coding_0 == config::dc0_meaning::ascii ? smpp::dc0_charset::ia5
                                                                      : smpp::dc0_charset::gsm7;
  two.send = [&](const two_way_send& out) {
    message_request req;
    req.to = out.to;
    req.from = out.from;
    req.text = out.text;
    prepared_message pm;
    const std::uint64_t id = next_id.fetch_add(1) + 1;
    if (auto problem = prepare_message(prepare.get(), req, id, storage_now_us(), pm)) {
      lg::warn(component::replies, "answer not sent", {{"error", problem.message}});
      return false;
    }
    std::error_code aec;
    (void)log->append(std::move(pm.record), aec);
    if (aec) return false;
    // Appended and queued on this (the io) thread: its events follow the record.
    pm.message->ignores_opt_out = true;
    return dispatch.enqueue(std::move(pm.message));
  };
  std::unique_ptr<two_way> replies;
  try {
    replies = std::make_unique<two_way>(io, *log, std::move(two), opt_outs);
  } catch (const std::exception& e) {
    lg::error(component::replies, "cannot start two-way messaging", {{"error", e.what()}});
    return 1;
  }
  conversation_book conversations(replies->store(), s.two_way.reply_numbers, s.two_way.conversation_window);
  conversations.load(ec);
  if (ec) {
    lg::error(component::replies, "cannot read the open conversations", {{"error", ec}});
    return 1;
  }
  replies->set_conversations(&conversations);
  // Campaigns' auto-acknowledgements, once the campaigns are read (the io
  // thread runs before; until then only the numbers' and the general text).
  std::atomic<const campaign_manager*> campaign_acks{nullptr};
  replies->set_campaign_acks([&campaign_acks](std::string_view id) {
    const campaign_manager* m = campaign_acks.load(std::memory_order_acquire);
    return m ? m->auto_ack(id) : std::string();
  });
  dispatch.on_mo = [&replies](std::string_view smsc, const smpp::pdu& p) { return replies->on_mo(smsc, p); };
  dispatch.opted_out = [&opt_outs](const std::string& to) { return opt_outs.contains(to); };
  if (opt_outs.size())
    lg::info(component::replies, "opt-out list loaded", {{"numbers", opt_outs.size()}});
  // Two-way events to the team's tools, from the outbox the replies fill.
  webhook_sender webhooks(*log, replies->store(), s.two_way);

  signalled = 0;
  bool startup_failed = false;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code& e, int sig) {
    if (!e) signalled = sig;
  });
  boost::asio::signal_set hangups(io, SIGHUP);
  std::function<void()> wait_hangup = [&] {
    hangups.async_wait([&](const boost::system::error_code& e, int) {
      if (e) return;
      reload_requested = 1;
      wait_hangup();
    });
  };
  wait_hangup();
  dispatch.start();
  boost::asio::post(io, [&replies] { replies->start(); });
  webhooks.start();
  std::thread io_thread([&io] { io.run(); });
  logging::name_thread(io_thread, "dispatch");

  std::unique_ptr<campaign_manager> campaigns;
  try {
    campaigns = std::make_unique<campaign_manager>(
        campaign_context{s.node.data_dir, log.get(), &dispatch, &next_id, &prepare, &conversations});
  } catch (const std::exception& e) {
    lg::error(component::campaign, "cannot read the campaigns' state", {{"error", e.what()}});
    signals.cancel();
    hangups.cancel();
    dispatch.stop(std::chrono::seconds(0), [&io] { io.stop(); });
    io_thread.join();
    return 1;
  }
  campaign_acks.store(campaigns.get(), std::memory_order_release);

  // Parts the last run left to send go out first (a paused or cancelled
  // campaign's are held or cancelled by its gate).
  std::map<std::uint64_t, std::vector<std::uint16_t>> resume;
  for (const auto& p : recovered.to_dispatch) resume[p.message_id].push_back(p.part);
  for (auto& [id, parts] : resume) {
    auto rec = log->get(id, ec);
    if (!rec) continue;
    auto op = plan.prepare.routes->route(rec->recipient);
    if (!op) continue;
    auto m = std::make_unique<outbound_message>();
    m->id = id;
    m->priority = rec->origin == storage::origin::api ? lane::notification : lane::campaign;
    m->op = *op;
    m->to = rec->recipient;
    m->from = rec->sender;
    m->campaign = rec->campaign;
    if (!rec->campaign.empty()) m->gate = campaigns->gate(rec->campaign);
    auto eo = plan.prepare.encoding[*op];
    eo.reference = static_cast<std::uint16_t>(id);
    if (smpp::encode_text(rec->text, eo, m->text) || m->text.parts.size() != rec->parts.size()) {
      lg::warn(component::storage, "recovered message not resent: its text no longer encodes to as many parts",
               {{"message", id}, {"parts", rec->parts.size()}, {"campaign", rec->campaign}});
      continue;
    }
    m->pending = parts;
    m->queued_us = rec->queued_us;
    // Held messages keep their deadline and their send window.
    if (rec->valid_until_us > rec->queued_us)
      m->validity = std::chrono::seconds((rec->valid_until_us - rec->queued_us) / 1'000'000);
    m->window = window_of(*rec);
    while (!dispatch.enqueue(std::move(m))) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }


  // Campaigns, each on its own thread (before the API, which shows them).
  for (const auto& n : campaigns->apply(s.campaigns)) lg::warn(component::campaign, n);

  // The API on its own thread (control plane).
  boost::asio::io_context api_io;
  std::unique_ptr<http_api> api;
  try {
    api = std::make_unique<http_api>(api_io, s.api, prepare, *log, dispatch, next_id, campaigns.get());
    api->set_opt_outs(&opt_outs);
    api->set_conversations(&conversations);
    api->set_webhooks(&webhooks);
  } catch (const std::system_error& e) {
    lg::error(component::api, "cannot listen for the API",
              {{"listen", endpoint_text(s.api.listen.host, s.api.listen.port)}, {"error", e.what()}});
    signalled = 1;
    startup_failed = true;
  } catch (const std::exception& e) {
    lg::error(component::api, "cannot read the API tokens",
              {{"file", s.api.tokens_file.string()}, {"error", e.what()}});
    signalled = 1;
    startup_failed = true;
  }
  std::thread api_thread;
  if (api) {
    api_sink.store(api.get());
    api->start();
    const auto ep = api->local_endpoint();
    lg::info(component::api, "API listening",
             {{"listen", endpoint_text(ep.address().to_string(), ep.port())}, {"tokens", !s.api.tokens_file.empty()}});
    api_thread = std::thread([&api_io] {
      auto guard = boost::asio::make_work_guard(api_io);
      api_io.run();
    });
    logging::name_thread(api_thread, "api");
  }


  config::settings running = s;
  shared_layout layout;
  layout.current = layout_of(plan);

  // Metrics on their own thread, read from the parts above.
  boost::asio::io_context metrics_io;
  std::unique_ptr<metrics_server> metrics;
  try {
    metrics_sources ms;
    ms.dispatch = &dispatch;
    ms.log = log.get();
    ms.replies = replies.get();
    ms.api = api.get();
    ms.webhooks = &webhooks.counters();
    ms.layout = [&layout] {
      std::lock_guard lock(layout.mutex);
      return layout.current;
    };
    ms.campaigns = [m = campaigns.get()] {
      std::vector<campaign_sample> out;
      for (const auto& c : m->list())
        out.push_back(campaign_sample{c.id, c.rows, c.accepted, c.rejected, c.duplicates, c.skipped, c.no_consent,
                                      c.state == campaign_state::running && !c.reading_done});
      return out;
    };
    metrics = std::make_unique<metrics_server>(metrics_io, s.metrics.listen, std::move(ms));
  } catch (const std::exception& e) {
    lg::error(component::metrics, "cannot listen for metrics",
              {{"listen", endpoint_text(s.metrics.listen.host, s.metrics.listen.port)}, {"error", e.what()}});
    signalled = 1;
    startup_failed = true;
  }
  std::thread metrics_thread;
  if (metrics) {
    metrics->start();
    const auto ep = metrics->local_endpoint();
    lg::info(component::metrics, "metrics listening", {{"listen", endpoint_text(ep.address().to_string(), ep.port())}});
    metrics_thread = std::thread([&metrics_io] {
      auto guard = boost::asio::make_work_guard(metrics_io);
      metrics_io.run();
    });
    logging::name_thread(metrics_thread, "metrics");
  }

  // systemd (Type=notify): serving from here on.
  service_notify notify;
  if (!startup_failed) {
    notify.ready(dispatch);
    lg::info(component::main, "started", {{"smscs", s.smscs.size()}, {"operators", s.operators.size()},
                                          {"campaigns", s.campaigns.size()}, {"once", opt.once}});
  }

  // Run until told to stop (or, once, until the campaigns are settled).
  std::unique_ptr<storage::log_reader> reader;
  auto last_change = std::chrono::steady_clock::now();
  std::uint64_t last_final = ~0ull;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (signalled) break;
    notify.running(dispatch);
    if (reload_requested) {
      reload_requested = 0;
      notify.reloading();
      reload(opt, running, plan, dispatch, prepare, *campaigns, api.get(), layout);
      notify.ready(dispatch);
    }
    if (!opt.once) continue;
    // Campaigns paused or waiting for their start, and messages waiting for
    // their send window, are not waited for.
    if (!campaigns->all_read() || dispatch.open_messages() > dispatch.held_messages() + dispatch.held_for_window()) {
      last_change = std::chrono::steady_clock::now();
      continue;
    }
    // Everything is submitted; wait for the receipts to settle the rest.
    std::uint64_t final_total = 0, total = 0;
    if (!reader) reader = std::make_unique<storage::log_reader>(*log);
    for (const auto& c : campaigns->list()) {
      if (c.state != campaign_state::running) continue;
      auto rep = reader->report(c.id, ec);
      final_total += rep.messages.final_total();
      total += rep.messages.total();
    }
    if (final_total != last_final) {
      last_final = final_total;
      last_change = std::chrono::steady_clock::now();
    }
    if (final_total == total) break;
    if (std::chrono::steady_clock::now() - last_change > opt.receipt_wait) {
      lg::warn(component::main, "receipt wait over; messages without a final state stay open",
               {{"open", total - final_total}, {"receipt_wait_s", opt.receipt_wait.count()}});
      break;
    }
  }

  notify.stopping();
  if (signalled > 1) lg::info(component::main, "stopping", {{"signal", signalled == SIGINT ? "SIGINT" : "SIGTERM"}});
  else if (!startup_failed) lg::info(component::main, "stopping: the campaigns are sent");
  campaigns->stop();
  if (metrics) {
    metrics->stop();
    metrics_io.stop();
    metrics_thread.join();
  }
  if (api) {
    api->stop();
    api_io.stop();
    api_thread.join();
    api_sink.store(nullptr);
  }
  webhooks.stop();
  std::atomic<bool> stopped{false};
  boost::asio::post(io, [&replies] { replies->stop(); });
  dispatch.stop(std::chrono::seconds(5), [&] {
    stopped.store(true);
    io.stop();
  });
  io_thread.join();
  durable_sink.store(nullptr);

  if (opt.once && opt.report_to) {
    log->wait_durable(log->issued_ticket());
    log->wait_durable(log->issued_ticket(storage::urgency::urgent));
    if (!reader) reader = std::make_unique<storage::log_reader>(*log);
    for (const auto& c : campaigns->list()) {
      if (!c.in_config) continue;
      const auto rejections = rejections_file(s.node.data_dir, c.id);
      auto rep = reader->report(c.id, ec);
      const auto text = format_campaign_report(rep, read_rejections(rejections), rejections, report_format::table);
      std::fwrite(text.data(), 1, text.size(), opt.report_to);
    }
    for (const auto& smsc : s.smscs) {
      auto rep = reader->smsc(smsc.name, ec);
      if (ec || rep.parts.total() == 0) continue;
      const auto text = format_smsc_report(rep, report_format::table);
      std::fwrite(text.data(), 1, text.size(), opt.report_to);
    }
  }
  const int failures = campaigns->failures();
  campaigns.reset();
  reader.reset();
  log.reset();
  const int rc = startup_failed || failures ? 1 : 0;
  lg::info(component::main, "stopped", {{"exit_code", rc}});
  return rc;
}

}  // namespace engine
