// Session-layer throughput: one process submits through a bind pool to
// smsc-sim on loopback, with delivery receipts on and no storage, and
// prints submit_sm/s for 1 and 4 binds at window 64 and 512 (median of
// --runs runs), plus p99 submit->resp latency and peak RSS.
//
//   session_bench [--sim PATH] [--messages N] [--runs R] [--sim-threads T]
//
// The simulator is started once for all runs (stopped by PID at the end).
// A run counts as done when every submit has its resp and every receipt
// has arrived and been answered.
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "smpp/bind_pool.hpp"
#include "tests/support/child_process.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct run_result {
  double submits_per_s = 0;
  double p99_resp_ms = 0;
  std::uint64_t writes = 0, reads = 0;
  bool ok = false;
};

class driver : public smpp::session_handler {
 public:
  driver(boost::asio::io_context& io, smpp::pool_options o, std::uint64_t messages)
      : io_(io), pool_(io, std::move(o), *this), total_(messages), sent_at_(messages) {}

  run_result run() {
    pool_.start();
    boost::asio::steady_timer guard(io_);
    guard.expires_after(std::chrono::seconds(120));
    guard.async_wait([this](auto ec) {
      if (!ec) finish(false);
    });
    io_.run();
    io_.restart();
    run_result r;
    r.ok = ok_;
    auto secs = std::chrono::duration<double>(end_ - start_).count();
    r.submits_per_s = secs > 0 ? total_ / secs : 0;
    std::sort(latencies_us_.begin(), latencies_us_.end());
    if (!latencies_us_.empty())
      r.p99_resp_ms = latencies_us_[latencies_us_.size() * 99 / 100] / 1000.0;
    for (std::size_t i = 0; i < pool_.size(); ++i) {
      r.writes += pool_.bind(i).stats().writes;
      r.reads += pool_.bind(i).stats().reads;
    }
    return r;
  }

  void on_bound(std::uint32_t, std::string_view) override {
    if (++bound_ == pool_.size()) {
      start_ = clock_type::now();
      pump();
    }
  }
  void on_bind_failed(std::uint32_t, std::error_code ec, smpp::command_status st) override {
    std::fprintf(stderr, "bind failed: %s (status 0x%x)\n", ec.message().c_str(), static_cast<unsigned>(st));
    finish(false);
  }
  void on_response(std::uint32_t, std::uint64_t tag, const smpp::response& r) override {
    if (r.ec || r.status != smpp::command_status::ESME_ROK) {
      std::fprintf(stderr, "submit %llu failed: %s status 0x%x\n", static_cast<unsigned long long>(tag),
                   r.ec.message().c_str(), static_cast<unsigned>(r.status));
      finish(false);
      return;
    }
    if (tag % 16 == 0)
      latencies_us_.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - sent_at_[tag]).count());
    ++resps_;
    check_done();
  }
  void on_inbound(std::uint32_t, smpp::inbound_token t, const smpp::pdu&) override {
    (void)pool_.respond(t, smpp::command_status::ESME_ROK);
    ++receipts_;
    check_done();
  }
  void on_closed(std::uint32_t, std::error_code ec) override {
    if (!stopping_) {
      std::fprintf(stderr, "bind closed: %s\n", ec.message().c_str());
      finish(false);
    }
  }
  void on_ready(std::uint32_t) override {
    if (bound_ == pool_.size()) pump();
  }

 private:
  void pump() {
    char to[24];
    while (sent_ < total_) {
      std::snprintf(to, sizeof to, "3706%07llu", static_cast<unsigned long long>(sent_ % 10000000));
      smpp::submit_sm s;
      s.source_addr_ton = 5;
      s.source_addr = "ACME";
      s.dest_addr_ton = 1;
      s.dest_addr_npi = 1;
      s.destination_addr = to;
      s.registered_delivery = 1;
      s.short_message = "Your code is 482913. It expires in 5 minutes.";
      const smpp::pdu_body body = s;
      const std::uint64_t tag = sent_;
      if (pool_.submit(std::span(&body, 1), std::span(&tag, 1))) break;
      sent_at_[tag] = clock_type::now();
      ++sent_;
    }
  }
  void check_done() {
    if (resps_ == total_ && receipts_ == total_ && !stopping_) {
      end_ = clock_type::now();
      finish(true);
    }
  }
  void finish(bool ok) {
    if (stopping_) return;
    stopping_ = true;
    ok_ = ok;
    if (!ok) end_ = clock_type::now();
    pool_.stop(std::chrono::seconds(2), [this] { io_.stop(); });
  }

  boost::asio::io_context& io_;
  smpp::bind_pool pool_;
  std::uint64_t total_;
  std::uint64_t sent_ = 0, resps_ = 0, receipts_ = 0;
  std::size_t bound_ = 0;
  bool stopping_ = false, ok_ = false;
  clock_type::time_point start_, end_;
  std::vector<clock_type::time_point> sent_at_;
  std::vector<std::int64_t> latencies_us_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string sim_path = std::string(SMPPD_BIN_DIR) + "/smsc-sim";
  std::uint64_t messages = 400000;
  int runs = 3;
  std::string sim_threads = "1";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view a = argv[i];
    if (a == "--sim") sim_path = argv[i + 1];
    else if (a == "--messages") messages = std::stoull(argv[i + 1]);
    else if (a == "--runs") runs = std::stoi(argv[i + 1]);
    else if (a == "--sim-threads") sim_threads = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: session_bench [--sim PATH] [--messages N] [--runs R] [--sim-threads T]\n");
      return 2;
    }
  }
  std::optional<smppd::test::child_process> sim;
  std::uint16_t port = smppd::test::start_smsc_sim(sim, sim_path, {"--threads", sim_threads});
  if (port == 0) {
    std::fprintf(stderr, "session_bench: smsc-sim did not start (%s)\n", sim_path.c_str());
    return 1;
  }
  std::printf("session_bench: %llu submit_sm per run, receipts on, smsc-sim on 127.0.0.1:%u, %d runs\n",
              static_cast<unsigned long long>(messages), port, runs);
  std::printf("%-6s %-7s %14s %12s %10s %14s\n", "binds", "window", "submit_sm/s", "p99 resp ms",
              "writes", "submits/write");
  int failures = 0;
  for (std::size_t binds : {1u, 4u}) {
    for (std::size_t window : {64u, 512u}) {
      std::vector<double> rates, p99s;
      run_result last;
      for (int r = 0; r < runs; ++r) {
        boost::asio::io_context io;
        smpp::pool_options o;
        o.client.host = "127.0.0.1";
        o.client.port = port;
        o.client.session.system_id = "bench";
        o.client.session.password = "bench";
        o.client.session.window = window;
        o.binds = binds;
        driver d(io, o, messages);
        last = d.run();
        if (!last.ok) ++failures;
        rates.push_back(last.submits_per_s);
        p99s.push_back(last.p99_resp_ms);
      }
      std::printf("%-6zu %-7zu %14.0f %12.2f %10llu %14.1f\n", binds, window, median(rates), median(p99s),
                  static_cast<unsigned long long>(last.writes),
                  last.writes ? static_cast<double>(messages) / last.writes : 0.0);
      std::fflush(stdout);
    }
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("peak RSS %.1f MiB\n", ru.ru_maxrss / 1024.0);
  sim->stop();
  return failures ? 1 : 0;
}
