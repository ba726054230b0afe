// Message log writer throughput with the WAL on: one producer thread feeds
// messages and their part events (queued, submitting, accepted, delivered)
// into storage::message_log; the figure is state events made durable per
// second, for each sync policy, and the database size per million
// delivered messages. Then the latency of a notification's record (append
// to durable) while a campaign keeps the writer's backlog full, through
// the normal lane and through the urgent one.
//   log_bench [MESSAGES]   (default 200000; 4 events per message)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <stdlib.h>

#include "storage/message_log.hpp"

namespace {

using namespace storage;
using clock_type = std::chrono::steady_clock;

std::uint64_t dir_size(const std::filesystem::path& dir) {
  std::uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

// Retries while the writer applies back-pressure.
template <class F>
std::uint64_t submit(F&& f) {
  for (;;) {
    std::error_code ec;
    const std::uint64_t t = f(ec);
    if (!ec) return t;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void run(sync_policy sync, const char* label, std::uint64_t messages) {
  char tmpl[] = "/tmp/smppd-logbench-XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  const std::filesystem::path dir = tmpl;
  std::uint64_t events = 0;
  double seconds = 0;
  {
    log_options o;
    o.dir = dir;
    o.sync = sync;
    message_log log(o);
    const auto start = clock_type::now();
    std::uint64_t last = 0;
    // Events come in waves, as in the pipeline: a window of messages is
    // queued, then submitted, then their resps come, then their receipts.
    // No batch then holds two events of one message, so nothing coalesces:
    // the worst case for the writer.
    const std::uint64_t window = 50000;
    for (std::uint64_t first = 1; first <= messages; first += window) {
      const std::uint64_t end = std::min(messages + 1, first + window);
      for (std::uint64_t id = first; id < end; ++id) {
        message_record r;
        r.id = id;
        r.recipient = "+3706" + std::to_string(10000000 + id % 9000000);
        r.sender = "ACME";
        r.text = "Your code is 5930. It expires in 10 minutes.";
        r.queued_us = static_cast<std::int64_t>(id);
        r.parts.resize(1);
        last = submit([&](std::error_code& ec) { return log.append(r, ec); });
        ++events;
      }
      for (state to : {state::submitting, state::accepted, state::delivered}) {
        for (std::uint64_t id = first; id < end; ++id) {
          part_update u;
          u.message_id = id;
          u.at_us = static_cast<std::int64_t>(id);
          u.to = to;
          if (to == state::submitting) u.smsc = "opa-1";
          if (to == state::accepted) u.smsc_message_id = std::to_string(1000000000 + id);
          last = submit([&](std::error_code& ec) { return log.update(u, ec); });
          ++events;
        }
      }
    }
    log.wait_durable(last);
    seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    std::printf("%-10s %9llu events in %6.2f s: %9.0f events/s, %6.1f events per batch\n",
                label, static_cast<unsigned long long>(events), seconds, events / seconds,
                static_cast<double>(log.counters().events.load()) /
                    static_cast<double>(log.counters().batches.load()));
    log.compact();
  }
  const double mib = static_cast<double>(dir_size(dir)) / (1024.0 * 1024.0);
  std::printf("%-10s database %.1f MiB (compacted, WAL included) for %llu delivered messages: "
              "%.1f MiB per million\n",
              label, mib, static_cast<unsigned long long>(messages),
              mib * 1e6 / static_cast<double>(messages));
  std::filesystem::remove_all(dir);
}

// One producer floods the log as a campaign does (records and their part
// events, retrying on back-pressure) while another appends a notification
// every 5 ms and waits until it is durable; 200 samples per lane.
void notification_latency(urgency lane, const char* label) {
  char tmpl[] = "/tmp/smppd-logbench-XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  const std::filesystem::path dir = tmpl;
  {
    log_options o;
    o.dir = dir;
    o.sync = sync_policy::interval;
    message_log log(o);
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> next_id{0};
    std::thread campaign([&] {
      while (!done.load()) {
        message_record r;
        r.id = next_id.fetch_add(1) + 1;
        r.recipient = "+3706" + std::to_string(10000000 + r.id % 9000000);
        r.sender = "ACME";
        r.text = "Hi, your parcel arrives tomorrow between 9 and 12.";
        r.parts.resize(1);
        (void)submit([&](std::error_code& ec) { return log.append(r, ec); });
        for (state to : {state::submitting, state::accepted}) {
          part_update u;
          u.message_id = r.id;
          u.to = to;
          if (to == state::submitting) u.smsc = "opa-1";
          else u.smsc_message_id = std::to_string(r.id);
          (void)submit([&](std::error_code& ec) { return log.update(u, ec); });
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the backlog fills
    std::vector<double> ms;
    std::size_t backlog = 0;
    for (int i = 0; i < 200; ++i) {
      message_record r;
      r.id = next_id.fetch_add(1) + 1;
      r.recipient = "+37069000001";
      r.sender = "ACME";
      r.text = "Your code is 5930";
      r.parts.resize(1);
      backlog += log.backlog();
      const auto start = clock_type::now();
      log.wait_durable(submit([&](std::error_code& ec) { return log.append(r, ec, lane); }));
      ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    done.store(true);
    campaign.join();
    std::sort(ms.begin(), ms.end());
    std::printf("notification record through the %-6s lane, campaign backlog %5zu events: p50 %6.2f ms, "
                "p99 %6.2f ms, max %6.2f ms\n",
                label, backlog / ms.size(), ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t messages = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  run(sync_policy::interval, "every_10ms", messages);
  run(sync_policy::always, "always", messages / 4);
  notification_latency(urgency::normal, "normal");
  notification_latency(urgency::urgent, "urgent");
  return 0;
}
