// The Prometheus endpoint: GET /metrics on `metrics.listen`, in the text
// exposition format 0.0.4 (deploy/METRICS.md lists every metric).
//
// Values are read when Prometheus scrapes, from counters the engine keeps
// anyway (the dispatcher's per-SMSC and per-operator atomics and the
// gauges its tick samples, the operators' queue depths, the campaigns' row
// counts, the API's and the message log's counters and statistics):
// nothing on the hot path waits for the metrics, and a scrape costs one
// RocksDB read per campaign and two per SMSC account. Labels are bounded:
// smsc, operator, lane, campaign, state, status (at most 24 per operator);
// never a number, a text or a secret.
//
// Served with Boost.Beast like the API, not with prometheus-cpp's
// civetweb exposer: Debian's civetweb is built without IPv6 (the config
// accepts "[::1]:9464") and its bind failure does not say why; one
// control-plane thread also replaces civetweb's three. prometheus-cpp
// still forms the families (a Collectable) and writes the text.
//
// Threads: the server has its own io_context, run by the caller on one
// thread; the sources must outlive the server (stop and join it first).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace prometheus {
class Registry;
}
namespace storage {
class message_log;
}

namespace engine {

class dispatcher;
class http_api;
class two_way;
struct webhook_counters;

// A campaign as the metrics see it, read at scrape time.
struct campaign_sample {
  std::string id;
  std::uint64_t rows = 0, accepted = 0, rejected = 0, duplicates = 0, skipped = 0, no_consent = 0;
  bool reading = false;  // its file is still being read
};

// Names and configured limits, in the dispatcher's order (its slots: a
// reload keeps retired SMSCs and removed operators at their index).
struct metrics_layout {
  std::vector<std::string> smsc_names;
  std::vector<bool> smsc_retired;
  std::vector<double> smsc_tps;
  std::vector<std::size_t> smsc_binds;   // connections configured (a tx/rx pair is two)
  std::vector<std::size_t> smsc_window;  // the window of all sending binds together
  std::vector<std::string> operator_names;
  std::vector<bool> operator_removed;
  std::vector<double> operator_tps;
};

struct metrics_sources {
  const dispatcher* dispatch = nullptr;
  const storage::message_log* log = nullptr;
  const http_api* api = nullptr;  // may be null
  const two_way* replies = nullptr;  // may be null
  const webhook_counters* webhooks = nullptr;  // may be null
  // Any thread: the layout in force (the daemon replaces it on reload).
  std::function<metrics_layout()> layout;
  // Any thread; the daemon says which campaigns there are.
  std::function<std::vector<campaign_sample>()> campaigns;
};

class metrics_server {
 public:
  // Binds the listening socket (throws std::system_error when it cannot:
  // startup only).
  metrics_server(boost::asio::io_context& io, const config::endpoint& listen, metrics_sources sources);
  ~metrics_server();

  void start();
  void stop();  // any thread
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // The exposition text, as GET /metrics answers it.
  std::string scrape() const;

 private:
  class collector;
  class connection;
  void accept();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<prometheus::Registry> registry_;  // constant series (build info, start time)
  std::shared_ptr<collector> collector_;            // the engine's values, read per scrape
};

}  // namespace engine
