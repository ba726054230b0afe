// Receipt reconciliation against a large message log: builds a log of
// MESSAGES campaign messages (sync every 10 ms throughout), each stored as
// submitted and accepted through the reconciler (so its SMSC id is in
// memory and in the log's index), then
// matches receipts for randomly chosen messages, their ids written half in
// hex and half in decimal as SMSCs do.
//
//   reconcile_bench [--messages N] [--receipts N] [--runs N] [--cache-mb N]
//   (defaults: 10,000,000 messages, 1,000,000 receipts per run, 3 runs,
//   a 64 MiB block cache, four times the log's default of 16 MB)
//
// Printed, per run and as the median of the runs:
//   warm    ids found in the reconciler's memory (parts accepted since start);
//   cold    after a restart: ids found in the log's smsc_ids column family
//           and the part's state read from its record;
// each as "matching" (the reconciler's own rate: receipts in, part found,
// outcome decided, update queued to the writer) and "durable" (until the
// writer has written every update, sync every 10 ms). Then the remaining
// messages are delivered, and the database size per million delivered
// messages (compacted, WAL included) and the peak RSS are printed.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <stdlib.h>

#include "storage/message_log.hpp"
#include "storage/reconciler.hpp"

namespace {

using namespace storage;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

std::uint64_t dir_size(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

// The SMSC's id for a message, as its resp gives it (decimal).
std::uint64_t smsc_id(std::uint64_t message_id) { return 3'000'000'000ULL + message_id * 7; }

// The i-th message of a fixed pseudo-random order of 1..n (a multiplicative
// permutation: 2654435761 is prime and does not divide any n used here).
std::uint64_t nth(std::uint64_t i, std::uint64_t n) { return 1 + (i * 2654435761ULL) % n; }

template <class F>
std::uint64_t retry(F&& f) {
  for (;;) {
    std::error_code ec;
    const std::uint64_t t = f(ec);
    if (ec != storage_errc::backlog_full) {
      if (ec) {
        std::fprintf(stderr, "error: %s\n", ec.message().c_str());
        std::exit(1);
      }
      return t;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

struct options {
  std::uint64_t messages = 10'000'000;
  std::uint64_t receipts = 1'000'000;
  int runs = 3;
  std::size_t cache_mb = 64;
};

log_options log_opts(const std::filesystem::path& dir, std::size_t backlog, const options& opt) {
  log_options o;
  o.block_cache_bytes = opt.cache_mb << 20;
  o.dir = dir;
  o.sync = sync_policy::interval;
  o.max_backlog = backlog;
  return o;
}

void build(message_log& log, reconciler& rec, const options& opt) {
  const auto start = clock_type::now();
  const std::uint64_t wave = 50'000;
  std::uint64_t last = 0;
  std::string id_text;
  for (std::uint64_t first = 1; first <= opt.messages; first += wave) {
    const std::uint64_t end = std::min(opt.messages + 1, first + wave);
    for (std::uint64_t id = first; id < end; ++id) {
      message_record r;
      r.id = id;
      r.origin = origin::campaign;
      r.campaign = "bench";
      r.row = id;
      r.recipient = "+3706" + std::to_string(10000000 + id % 9000000);
      r.sender = "ACME";
      r.text = "Your code is 5930. It expires in 10 minutes.";
      r.queued_us = static_cast<std::int64_t>(id);
      r.parts.resize(1);
      // Stored as already submitted: one event instead of two.
      r.parts[0].st = state::submitting;
      r.parts[0].smsc = "opa";
      r.parts[0].submitted_us = static_cast<std::int64_t>(id) + 1;
      r.parts[0].attempts = 1;
      last = retry([&](std::error_code& ec) { return log.append(std::move(r), ec); });
    }
    for (std::uint64_t id = first; id < end; ++id) {
      id_text = std::to_string(smsc_id(id));
      resp_event e;
      e.part = {id, 0};
      e.smsc = "opa";
      e.smsc_message_id = id_text;
      e.at_us = static_cast<std::int64_t>(id) + 2;
      retry([&](std::error_code& ec) {
        (void)rec.on_resp(e, ec);
        return std::uint64_t{0};
      });
    }
    if ((end - 1) % 1'000'000 < wave)
      std::printf("build      %llu messages after %.0f s\n",
                  static_cast<unsigned long long>(end - 1), seconds_since(start));
    // One wave at a time, so that the queue stays small.
    last = retry([&](std::error_code& ec) {
      part_update noop;  // names no message; only to learn the last ticket
      return log.update(noop, ec);
    });
    log.wait_durable(last);
  }
  const double s = seconds_since(start);
  std::printf("build      %llu messages (append + resp) in %.1f s: %.0f messages/s, "
              "peak RSS %.0f MiB\n",
              static_cast<unsigned long long>(opt.messages), s,
              static_cast<double>(opt.messages) / s, peak_rss_mib());
}

struct run_result {
  double matching = 0, durable = 0;  // receipts per second
};

// Receipts for messages [first, first + n) of the fixed order.
run_result match(message_log& log, reconciler& rec, const options& opt, std::uint64_t first,
                 const char* label, int run) {
  std::vector<std::string> ids(opt.receipts);
  for (std::uint64_t i = 0; i < opt.receipts; ++i) {
    const std::uint64_t v = smsc_id(nth(first + i, opt.messages));
    char buf[32];
    // Half the SMSCs write receipt ids in hex (upper case), half in decimal.
    std::snprintf(buf, sizeof buf, i % 2 ? "%llX" : "%llu", static_cast<unsigned long long>(v));
    ids[i] = buf;
  }
  receipt_event e;
  e.smsc = "opa";
  e.final_state = state::delivered;
  std::uint64_t counts[4] = {};
  const auto start = clock_type::now();
  for (const std::string& id : ids) {
    e.receipt_id = id;
    std::error_code ec;
    const receipt_outcome o = rec.on_receipt(e, ec);
    if (ec) {
      std::fprintf(stderr, "error: %s\n", ec.message().c_str());
      std::exit(1);
    }
    ++counts[static_cast<int>(o)];
  }
  const double matching_s = seconds_since(start);
  // Every receipt queued one update: wait until the writer has them all.
  std::error_code ec;
  part_update noop;
  const std::uint64_t last = log.update(noop, ec);
  log.wait_durable(last);
  const double durable_s = seconds_since(start);
  run_result r{static_cast<double>(opt.receipts) / matching_s,
               static_cast<double>(opt.receipts) / durable_s};
  std::printf("%-5s run %d: %llu receipts (%llu matched, %llu duplicate, %llu parked, %llu orphan): "
              "matching %.0f receipts/s, durable %.0f receipts/s\n",
              label, run, static_cast<unsigned long long>(opt.receipts),
              static_cast<unsigned long long>(counts[0]), static_cast<unsigned long long>(counts[1]),
              static_cast<unsigned long long>(counts[2]), static_cast<unsigned long long>(counts[3]),
              r.matching, r.durable);
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void print_median(const char* label, const std::vector<run_result>& runs) {
  std::vector<double> m, d;
  for (const auto& r : runs) m.push_back(r.matching), d.push_back(r.durable);
  std::printf("%-5s median: matching %.0f receipts/s, durable %.0f receipts/s, peak RSS %.0f MiB\n",
              label, median(m), median(d), peak_rss_mib());
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::uint64_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--messages")) o.messages = v;
    else if (!std::strcmp(argv[i], "--receipts")) o.receipts = v;
    else if (!std::strcmp(argv[i], "--runs")) o.runs = static_cast<int>(v);
    else if (!std::strcmp(argv[i], "--cache-mb")) o.cache_mb = v;
    else {
      std::fprintf(stderr, "usage: reconcile_bench [--messages N] [--receipts N] [--runs N] [--cache-mb N]\n");
      std::exit(2);
    }
  }
  if (o.runs < 1 || o.messages < 2 * o.receipts * static_cast<std::uint64_t>(o.runs)) {
    std::fprintf(stderr, "need --messages >= 2 * --receipts * --runs\n");
    std::exit(2);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const options opt = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows while it runs
  char tmpl[] = "/tmp/smppd-reconcilebench-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::filesystem::path dir = tmpl;
  // The backlog holds a whole run, so that "matching" measures the
  // reconciler and not the writer's back-pressure.
  const std::size_t backlog = opt.receipts + 1024;
  std::uint64_t next = 0;
  std::vector<run_result> warm, cold;
  {
    // Built and matched by one reconciler, which saw every resp: warm.
    message_log log(log_opts(dir, backlog, opt));
    reconciler_options ro;
    ro.memory_ids = opt.messages * 4 / 3 + 16;
    reconciler rec(log, ro);
    build(log, rec, opt);
    for (int run = 0; run < opt.runs; ++run) {
      warm.push_back(match(log, rec, opt, next, "warm", run + 1));
      next += opt.receipts;
    }
    print_median("warm", warm);
    std::printf("warm  memory hits %llu, database hits %llu\n",
                static_cast<unsigned long long>(rec.counters().memory_hits),
                static_cast<unsigned long long>(rec.counters().database_hits));
  }
  {
    message_log log(log_opts(dir, backlog, opt));
    reconciler rec(log);
    for (int run = 0; run < opt.runs; ++run) {
      cold.push_back(match(log, rec, opt, next, "cold", run + 1));
      next += opt.receipts;
    }
    print_median("cold", cold);
    std::printf("cold  memory hits %llu, database hits %llu\n",
                static_cast<unsigned long long>(rec.counters().memory_hits),
                static_cast<unsigned long long>(rec.counters().database_hits));
    // Deliver the rest, so that the size is that of delivered messages.
    const auto start = clock_type::now();
    receipt_event e;
    e.smsc = "opa";
    e.final_state = state::delivered;
    std::string id_text;
    for (std::uint64_t i = next; i < opt.messages; ++i) {
      id_text = std::to_string(smsc_id(nth(i, opt.messages)));
      e.receipt_id = id_text;
      retry([&](std::error_code& ec) {
        (void)rec.on_receipt(e, ec);
        return std::uint64_t{0};
      });
    }
    std::error_code ec;
    part_update noop;
    log.wait_durable(log.update(noop, ec));
    std::printf("rest  %llu receipts delivered in %.1f s\n",
                static_cast<unsigned long long>(opt.messages - next), seconds_since(start));
    log.compact();
  }
  const double mib = static_cast<double>(dir_size(dir)) / (1024.0 * 1024.0);
  std::printf("database   %.1f MiB (compacted, WAL included) for %llu delivered messages: "
              "%.1f MiB per million\n",
              mib, static_cast<unsigned long long>(opt.messages),
              mib * 1e6 / static_cast<double>(opt.messages));
  std::printf("peak RSS   %.0f MiB\n", peak_rss_mib());
  std::filesystem::remove_all(dir);
  return 0;
}
