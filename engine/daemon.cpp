#include "engine/daemon.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "engine/campaign_runner.hpp"
#include "engine/dispatcher.hpp"
#include "engine/http_api.hpp"
#include "engine/log_report.hpp"
#include "engine/metrics.hpp"
#include "engine/router.hpp"
#include "storage/log_reader.hpp"
#include "storage/message_log.hpp"
#include "storage/reconciler.hpp"
#include "storage/recovery.hpp"

namespace engine {

namespace fs = std::filesystem;

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

metrics_sources metrics_sources_of(const config::settings& s, const dispatcher& dispatch,
                                   const storage::message_log& log, const http_api* api,
                                   const std::vector<std::unique_ptr<campaign_runner>>& runners) {
  metrics_sources m;
  m.dispatch = &dispatch;
  m.log = &log;
  m.api = api;
  for (const auto& c : s.smscs) {
    m.smsc_names.push_back(c.name);
    m.smsc_tps.push_back(c.tps);
    m.smsc_binds.push_back(c.binds * (c.bind == config::bind_mode::tx_rx ? 2 : 1));
    m.smsc_window.push_back(c.binds * c.window);
  }
  for (const auto& o : s.operators) {
    m.operator_names.push_back(o.name);
    m.operator_tps.push_back(o.tps);
  }
  m.campaigns = [&runners] {
    std::vector<campaign_sample> out;
    for (const auto& r : runners) {
      const auto& c = r->counts();
      out.push_back(campaign_sample{r->id(), c.rows.load(), c.accepted.load(), c.rejected.load(),
                                    c.duplicates.load(), c.skipped.load(), !r->finished_reading()});
    }
    return out;
  };
  return m;
}

volatile std::sig_atomic_t signalled = 0;

}  // namespace

int run_daemon(const config::settings& s, const daemon_options& opt) {
  std::error_code ec;
  fs::create_directories(s.node.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "smppd: cannot create data_dir %s: %s\n", s.node.data_dir.c_str(), ec.message().c_str());
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
  lo.on_durable = [&durable_sink, &api_sink](std::uint64_t) {
    if (auto* d = durable_sink.load()) d->on_durable();
    if (auto* a = api_sink.load()) a->on_durable();
  };
  lo.on_illegal = [](std::uint64_t id, std::uint16_t part, storage::state from, storage::state to) {
    std::fprintf(stderr, "smppd: message %llu part %u: illegal transition %s -> %s ignored\n",
                 static_cast<unsigned long long>(id), part, std::string(storage::name(from)).c_str(),
                 std::string(storage::name(to)).c_str());
  };
  std::unique_ptr<storage::message_log> log;
  try {
    log = std::make_unique<storage::message_log>(lo);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smppd: cannot open the message log in %s: %s\n", lo.dir.c_str(), e.what());
    return 1;
  }

  // Recovery: what the last run left open.
  storage::recovery_options ro;
  ro.in_doubt = s.node.in_doubt == config::in_doubt_policy::resend ? storage::in_doubt_policy::resend
                                                                   : storage::in_doubt_policy::mark_unknown;
  auto recovered = storage::recover(*log, ro, ec);
  if (ec) {
    std::fprintf(stderr, "smppd: recovery failed: %s\n", ec.message().c_str());
    return 1;
  }
  if (recovered.open_messages)
    std::fprintf(stderr,
                 "smppd: recovered %llu open messages: %llu parts to send, %llu in doubt (%llu resent, %llu "
                 "marked unknown), %llu awaiting receipts, %llu overdue marked unknown\n",
                 static_cast<unsigned long long>(recovered.open_messages),
                 static_cast<unsigned long long>(recovered.to_dispatch.size()),
                 static_cast<unsigned long long>(recovered.in_doubt_parts),
                 static_cast<unsigned long long>(recovered.resent_parts),
                 static_cast<unsigned long long>(recovered.marked_unknown),
                 static_cast<unsigned long long>(recovered.awaiting_receipt),
                 static_cast<unsigned long long>(recovered.overdue_unknown));

  storage::reconciler_options rco;
  rco.orphan_keep = s.node.orphan_receipts;
  storage::reconciler reconciler(*log, rco);

  // Routing and the SMSCs.
  dispatcher_options dopt;
  std::map<std::string, std::size_t> smsc_index;
  for (const auto& c : s.smscs) {
    smsc_index[c.name] = dopt.smscs.size();
    smsc_setup setup;
    setup.name = c.name;
    setup.pool = pool_of(c);
    setup.tps = c.tps;
    setup.ids = ids_of(c.receipt_ids);
    dopt.smscs.push_back(std::move(setup));
  }
  std::vector<smpp::encode_options> encoding;
  for (const auto& o : s.operators) {
    operator_route_table t;
    t.name = o.name;
    t.prefixes = o.prefixes;
    for (const auto& r : o.smscs) t.smscs.push_back(route_target{smsc_index.at(r.smsc), r.weight});
    dopt.operators.push_back(std::move(t));
    dopt.operator_tps.push_back(o.tps);
    // Texts are segmented once, for the operator's first SMSC (its SMSCs
    // should share these settings).
    encoding.push_back(encoding_of(*s.smsc(o.smscs.front().smsc)));
    if (o.name == s.default_operator) dopt.default_operator = dopt.operators.size() - 1;
  }
  dopt.in_doubt = s.node.in_doubt == config::in_doubt_policy::resend ? in_doubt_action::resend
                                                                     : in_doubt_action::mark_unknown;
  router routes(dopt.operators, dopt.default_operator);
  prepare_context prepare{numbering_plan{s.numbering.default_country_code, s.numbering.trunk_prefix}, &routes,
                          encoding};

  boost::asio::io_context io;
  dispatcher dispatch(io, dopt, *log, reconciler);
  durable_sink.store(&dispatch);
  std::atomic<std::uint64_t> next_id{log->max_message_id()};

  signalled = 0;
  bool startup_failed = false;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code& e, int) {
    if (!e) signalled = 1;
  });
  dispatch.start();
  std::thread io_thread([&io] { io.run(); });

  // Parts the last run left to send go out first.
  std::map<std::uint64_t, std::vector<std::uint16_t>> resume;
  for (const auto& p : recovered.to_dispatch) resume[p.message_id].push_back(p.part);
  for (auto& [id, parts] : resume) {
    auto rec = log->get(id, ec);
    if (!rec) continue;
    auto op = routes.route(rec->recipient);
    if (!op) continue;
    auto m = std::make_unique<outbound_message>();
    m->id = id;
    m->priority = rec->origin == storage::origin::api ? lane::notification : lane::campaign;
    m->op = *op;
    m->to = rec->recipient;
    m->from = rec->sender;
    m->campaign = rec->campaign;
    auto eo = encoding[*op];
    eo.reference = static_cast<std::uint16_t>(id);
    if (smpp::encode_text(rec->text, eo, m->text) || m->text.parts.size() != rec->parts.size()) {
      std::fprintf(stderr, "smppd: message %llu: its text no longer encodes to %zu parts; not resent\n",
                   static_cast<unsigned long long>(id), rec->parts.size());
      continue;
    }
    m->pending = parts;
    m->queued_us = rec->queued_us;
    while (!dispatch.enqueue(std::move(m))) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }


  // The API on its own thread (control plane).
  boost::asio::io_context api_io;
  std::unique_ptr<http_api> api;
  try {
    api = std::make_unique<http_api>(api_io, s.api, prepare, *log, dispatch, next_id);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smppd: cannot listen on %s:%u for the API: %s\n", s.api.listen.host.c_str(),
                 s.api.listen.port, e.what());
    signalled = 1;
    startup_failed = true;
  }
  std::thread api_thread;
  if (api) {
    api_sink.store(api.get());
    api->start();
    const auto ep = api->local_endpoint();
    std::fprintf(stderr, "smppd: API listening on %s:%u\n", ep.address().to_string().c_str(), ep.port());
    api_thread = std::thread([&api_io] {
      auto guard = boost::asio::make_work_guard(api_io);
      api_io.run();
    });
  }

  // Campaigns, each on its own thread.
  std::vector<std::unique_ptr<campaign_runner>> runners;
  std::vector<std::thread> runner_threads;
  std::vector<fs::path> rejection_files;
  std::atomic<int> campaign_errors{0};
  for (const auto& c : s.campaigns) {
    campaign_setup cs;
    cs.campaign = c;
    cs.prepare = prepare;
    cs.rejections_file = rejections_file(s.node.data_dir, c.id);
    rejection_files.push_back(cs.rejections_file);
    runners.push_back(std::make_unique<campaign_runner>(std::move(cs), *log, dispatch, next_id));
  }
  for (auto& r : runners)
    runner_threads.emplace_back([&campaign_errors, r = r.get()] {
      auto why = r->run();
      if (!why.empty()) {
        std::fprintf(stderr, "smppd: campaign %s: %s\n", r->id().c_str(), why.c_str());
        campaign_errors.fetch_add(1);
      }
    });

  // Metrics on their own thread, read from the parts above.
  boost::asio::io_context metrics_io;
  std::unique_ptr<metrics_server> metrics;
  try {
    metrics = std::make_unique<metrics_server>(metrics_io, s.metrics.listen,
                                               metrics_sources_of(s, dispatch, *log, api.get(), runners));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "smppd: cannot listen on %s:%u for metrics: %s\n", s.metrics.listen.host.c_str(),
                 s.metrics.listen.port, e.what());
    signalled = 1;
    startup_failed = true;
  }
  std::thread metrics_thread;
  if (metrics) {
    metrics->start();
    const auto ep = metrics->local_endpoint();
    std::fprintf(stderr, "smppd: metrics listening on %s:%u\n", ep.address().to_string().c_str(), ep.port());
    metrics_thread = std::thread([&metrics_io] {
      auto guard = boost::asio::make_work_guard(metrics_io);
      metrics_io.run();
    });
  }

  // Run until told to stop (or, once, until the campaigns are settled).
  std::unique_ptr<storage::log_reader> reader;
  auto last_change = std::chrono::steady_clock::now();
  std::uint64_t last_final = ~0ull;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (signalled) break;
    if (!opt.once) continue;
    bool reading = false;
    for (auto& r : runners) reading |= !r->finished_reading();
    if (reading || dispatch.open_messages() > 0) {
      last_change = std::chrono::steady_clock::now();
      continue;
    }
    // Everything is submitted; wait for the receipts to settle the rest.
    std::uint64_t final_total = 0, total = 0;
    if (!reader) {
      storage::reader_options rd;
      rd.dir = lo.dir;
      reader = std::make_unique<storage::log_reader>(rd);
    }
    (void)reader->catch_up();
    for (auto& r : runners) {
      auto rep = reader->report(r->id(), ec);
      final_total += rep.messages.final_total();
      total += rep.messages.total();
    }
    if (final_total != last_final) {
      last_final = final_total;
      last_change = std::chrono::steady_clock::now();
    }
    if (final_total == total || std::chrono::steady_clock::now() - last_change > opt.receipt_wait) break;
  }

  if (metrics) {
    metrics->stop();
    metrics_io.stop();
    metrics_thread.join();
  }
  for (auto& r : runners) r->stop();
  for (auto& t : runner_threads) t.join();
  if (api) {
    api->stop();
    api_io.stop();
    api_thread.join();
    api_sink.store(nullptr);
  }
  std::atomic<bool> stopped{false};
  dispatch.stop(std::chrono::seconds(5), [&] {
    stopped.store(true);
    io.stop();
  });
  io_thread.join();
  durable_sink.store(nullptr);

  if (opt.once && opt.report_to) {
    log->wait_durable(log->issued_ticket());
    if (!reader) {
      storage::reader_options rd;
      rd.dir = lo.dir;
      reader = std::make_unique<storage::log_reader>(rd);
    }
    (void)reader->catch_up();
    for (std::size_t i = 0; i < runners.size(); ++i) {
      auto rep = reader->report(runners[i]->id(), ec);
      const auto text =
          format_campaign_report(rep, read_rejections(rejection_files[i]), rejection_files[i], report_format::table);
      std::fwrite(text.data(), 1, text.size(), opt.report_to);
    }
    for (const auto& smsc : s.smscs) {
      auto rep = reader->smsc(smsc.name, ec);
      if (ec || rep.parts.total() == 0) continue;
      const auto text = format_smsc_report(rep, report_format::table);
      std::fwrite(text.data(), 1, text.size(), opt.report_to);
    }
  }
  reader.reset();
  log.reset();
  return startup_failed || campaign_errors.load() ? 1 : 0;
}

}  // namespace engine
