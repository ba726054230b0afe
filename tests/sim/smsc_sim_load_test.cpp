// A throughput figure for smsc-sim, not a pass/fail check (disabled by
// default; run with --gtest_also_run_disabled_tests
// --gtest_filter='*load*'). One transceiver pipelines submit_sm with
// registered_delivery 1 through a window, acks every receipt, and counts
// resps and receipts until all have come back.
//
// Environment: SIM_LOAD_MESSAGES (default 1000000), SIM_LOAD_WINDOW
// (default 20000), SIM_LOAD_THREADS (the simulator's --threads, default 1).
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "tests/sim/sim_harness.hpp"

namespace {

using namespace smppd::test;

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

std::uint32_t load32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void store32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

bool write_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

TEST(smsc_sim_load, DISABLED_pipelined_submits_with_receipts) {
  const std::uint64_t messages = env_or("SIM_LOAD_MESSAGES", 1000000);
  const std::uint64_t window = env_or("SIM_LOAD_WINDOW", 20000);
  running_sim sim({"--threads", std::to_string(env_or("SIM_LOAD_THREADS", 1))});

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(sim.port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  smpp::bind_body b;
  b.system_id = "load";
  const auto bind = test_esme::encoded(smpp::pdu{0, 1, smpp::bind_transceiver{b}});
  ASSERT_TRUE(write_all(fd, bind.data(), bind.size()));

  // One encoded submit_sm; each copy gets its own sequence number.
  smpp::submit_sm s;
  s.source_addr = "ACME";
  s.destination_addr = "491701234567";
  s.registered_delivery = 1;
  s.short_message = "Your code is 123456. It expires in 10 minutes.";
  const auto submit = test_esme::encoded(smpp::pdu{0, 0, s});

  std::atomic<std::uint64_t> resps{0}, receipts{0};
  std::atomic<bool> failed{false};
  std::mutex write_mutex;  // the reader writes acks, the writer submits

  std::thread reader([&] {
    std::vector<std::uint8_t> in(1 << 20);
    std::vector<std::uint8_t> acks;
    std::size_t have = 0;
    bool bound = false;
    while (resps.load() < messages || receipts.load() < messages) {
      const ssize_t k = ::recv(fd, in.data() + have, in.size() - have, 0);
      if (k <= 0) {
        failed = true;
        return;
      }
      have += static_cast<std::size_t>(k);
      std::size_t at = 0;
      acks.clear();
      std::uint64_t got_resps = 0, got_receipts = 0;
      while (have - at >= 16) {
        const std::uint32_t len = load32(&in[at]);
        if (len < 16 || len > in.size()) {
          failed = true;
          return;
        }
        if (have - at < len) break;
        const std::uint32_t id = load32(&in[at + 4]);
        if (id == 0x80000009) bound = load32(&in[at + 8]) == 0;
        if (id == 0x80000004) ++got_resps;
        if (id == 0x00000005) {
          ++got_receipts;
          std::uint8_t ack[17] = {0, 0, 0, 17, 0x80, 0, 0, 5};
          std::memcpy(ack + 12, &in[at + 12], 4);  // the deliver_sm's sequence number
          acks.insert(acks.end(), ack, ack + sizeof ack);
        }
        at += len;
      }
      std::memmove(in.data(), in.data() + at, have - at);
      have -= at;
      if (!acks.empty()) {
        std::lock_guard lock(write_mutex);
        if (!write_all(fd, acks.data(), acks.size())) failed = true;
      }
      resps += got_resps;
      receipts += got_receipts;
      if (!bound) failed = true;
    }
  });

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::uint8_t> batch;
  std::uint64_t sent = 0;
  while (sent < messages && !failed) {
    if (sent - resps.load() >= window) {
      std::this_thread::yield();
      continue;
    }
    batch.clear();
    const std::uint64_t n = std::min<std::uint64_t>({512, messages - sent, window - (sent - resps.load())});
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::size_t at = batch.size();
      batch.insert(batch.end(), submit.begin(), submit.end());
      store32(&batch[at + 12], static_cast<std::uint32_t>(2 + sent + i));
    }
    std::lock_guard lock(write_mutex);
    if (!write_all(fd, batch.data(), batch.size())) failed = true;
    sent += n;
  }
  reader.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  ASSERT_FALSE(failed);
  const std::string counts = sim.stop();
  EXPECT_EQ(json_number(counts, "receipts_sent"), static_cast<long long>(messages));
  std::printf("%llu submit_sm with receipts in %.2f s: %.0f submits/s (%.0f PDUs/s each way)\n",
              static_cast<unsigned long long>(messages), seconds, messages / seconds,
              2 * messages / seconds);
}

}  // namespace
