// smppd under a service manager: the real smppd process with NOTIFY_SOCKET
// pointing at a datagram socket this test owns, as systemd would set it
// for Type=notify with WatchdogSec=. The test plays systemd: READY=1 once
// the API answers, WATCHDOG=1 pings, RELOADING=1 and READY=1 around a
// SIGHUP reload (a good file and a broken one), STOPPING=1 on SIGTERM;
// every message comes from smppd's own PID (NotifyAccess=main).
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/logfmt.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using smppd::test::child_process;

const std::string bin_dir = SMPPD_BIN_DIR;

struct notification {
  std::string text;
  pid_t sender = 0;
  bool has(const std::string& line) const { return ("\n" + text + "\n").find("\n" + line + "\n") != std::string::npos; }
};

// The service manager's end: an AF_UNIX datagram socket that also learns
// each sender's PID (SO_PASSCRED), as systemd's notify socket does.
class notify_socket {
 public:
  explicit notify_socket(const fs::path& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.string().copy(a.sun_path, sizeof a.sun_path - 1);
    const int on = 1;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
      ADD_FAILURE() << "cannot bind the notify socket " << path;
  }
  ~notify_socket() {
    if (fd_ >= 0) close(fd_);
  }

  std::optional<notification> next(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char data[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{data, sizeof data};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(fd_, &m, 0);
    if (n < 0) return std::nullopt;
    notification out{std::string(data, static_cast<std::size_t>(n)), 0};
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
        ucred cred{};
        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
        out.sender = cred.pid;
      }
    return out;
  }

  // Waits for a message holding `line`; the ones before it go to `skipped`.
  std::optional<notification> until(const std::string& line, std::vector<notification>& skipped,
                                    std::chrono::milliseconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto n = next(100ms);
      if (!n) continue;
      if (n->has(line)) return n;
      skipped.push_back(std::move(*n));
    }
    return std::nullopt;
  }

  const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
  int fd_ = -1;
};

int http_status(std::uint16_t port, const std::string& target) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::beast::tcp_stream s(io);
  s.expires_after(10s);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return 0;
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(s, req, ec);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  if (!ec) http::read(s, buf, res, ec);
  return ec ? 0 : res.result_int();
}

std::string joined(const std::vector<notification>& v) {
  std::string s;
  for (const auto& n : v) s += "[" + n.text + "] ";
  return s;
}

class service_notify_e2e : public ::testing::Test {
 protected:
  smppd::test::temp_dir tmp{"smppd-notify-test"};
  fs::path dir = tmp.path();
  notify_socket manager{dir / "notify.sock"};

  void SetUp() override {
    // The test may itself run under systemd; smppd must see only ours.
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
  }

  // An SMSC nobody listens on: smppd keeps reconnecting, which is enough here.
  fs::path write_config(const std::string& extra = "") {
    std::ofstream out(dir / "smppd.yaml");
    out << "node: { data_dir: data, sync: every_10ms }\n"
        << "api: { listen: \"127.0.0.1:0\" }\n"
        // Not the default 9464: ctest runs this file's tests side by side.
        << "metrics: { listen: \"127.0.0.1:0\" }\n"
        << "smscs:\n  - { name: sim, host: 127.0.0.1, port: 9, system_id: smppd, password: pw }\n"
        << "operators:\n  - { name: lt, prefixes: [\"+370\"], smscs: [sim] }\n"
        << extra;
    return dir / "smppd.yaml";
  }

  // smppd started through sh so that WATCHDOG_PID can name it: the shell's
  // PID is smppd's after exec. `watchdog_pid` "self" does that; another
  // value is passed as it is.
  child_process start(const fs::path& config, const std::string& watchdog_pid = "self") {
    const std::string pid = watchdog_pid == "self" ? "$$" : watchdog_pid;
    return child_process("/bin/sh",
                         {"-c", "WATCHDOG_PID=" + pid + "; export WATCHDOG_PID; exec \"$0\" --config \"$1\"",
                          bin_dir + "/smppd", config.string()},
                         true, {"NOTIFY_SOCKET=" + manager.path().string(), "WATCHDOG_USEC=1000000"});
  }

  // The API port from the "API listening" line smppd has already
  // written (0 if it has not): no waiting for more output.
  static std::uint16_t printed_api_port(child_process& p, std::string& seen) {
    while (auto line = p.read_line(50ms)) {
      seen += *line + "\n";
      if (auto port = smppd::test::listening_port(*line, "API")) return port;
    }
    return 0;
  }
};

TEST_F(service_notify_e2e, tells_ready_watchdog_reloading_and_stopping_from_its_own_pid) {
  const auto config = write_config();
  auto smppd = start(config);
  std::vector<notification> before;
  auto ready = manager.until("READY=1", before);
  ASSERT_TRUE(ready) << "no READY=1; got " << joined(before);
  // Nothing else comes before READY=1; by then the API listens.
  for (const auto& n : before) EXPECT_FALSE(n.has("WATCHDOG=1") || n.has("STOPPING=1")) << n.text;
  EXPECT_EQ(ready->sender, smppd.pid());
  EXPECT_NE(ready->text.find("STATUS=sending: 0 open messages"), std::string::npos) << ready->text;
  std::string seen;
  const auto port = printed_api_port(smppd, seen);
  ASSERT_NE(port, 0) << "READY=1 before the API listened:\n" << seen;
  EXPECT_EQ(http_status(port, "/v1/status"), 200);

  // WATCHDOG_USEC=1s: a ping every half second while the io thread ticks.
  int pings = 0;
  const auto watch_until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < watch_until)
    if (auto n = manager.next(100ms); n && n->has("WATCHDOG=1")) {
      ++pings;
      EXPECT_EQ(n->sender, smppd.pid());
    }
  EXPECT_GE(pings, 2);

  // A reload: RELOADING=1 (with the time it began), then READY=1 again.
  smppd.signal(SIGHUP);
  std::vector<notification> skipped;
  auto reloading = manager.until("RELOADING=1", skipped);
  ASSERT_TRUE(reloading) << joined(skipped);
  EXPECT_NE(reloading->text.find("MONOTONIC_USEC="), std::string::npos) << reloading->text;
  ASSERT_TRUE(manager.until("READY=1", skipped)) << joined(skipped);

  // A broken file is refused; the service is still ready with the old one.
  {
    std::ofstream out(config, std::ios::app);
    out << "bogus_key: 1\n";
  }
  smppd.signal(SIGHUP);
  ASSERT_TRUE(manager.until("RELOADING=1", skipped)) << joined(skipped);
  ASSERT_TRUE(manager.until("READY=1", skipped)) << joined(skipped);
  EXPECT_EQ(http_status(port, "/v1/status"), 200);

  // SIGTERM: STOPPING=1, no pings after it, a clean exit.
  smppd.signal(SIGTERM);
  auto stopping = manager.until("STOPPING=1", skipped);
  ASSERT_TRUE(stopping) << joined(skipped);
  EXPECT_EQ(stopping->sender, smppd.pid());
  auto status = smppd.wait_exit(30s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  while (auto n = manager.next(0ms)) EXPECT_FALSE(n->has("WATCHDOG=1")) << n->text;
}

TEST_F(service_notify_e2e, sends_no_watchdog_pings_when_watchdog_pid_names_another_process) {
  auto smppd = start(write_config(), std::to_string(getpid()));
  std::vector<notification> before;
  ASSERT_TRUE(manager.until("READY=1", before)) << joined(before);
  std::vector<notification> after;
  EXPECT_FALSE(manager.until("WATCHDOG=1", after, 2s)) << joined(after);
  smppd.signal(SIGTERM);
  EXPECT_TRUE(manager.until("STOPPING=1", after)) << joined(after);
}

}  // namespace
