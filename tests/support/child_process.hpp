// A child process for integration tests and benchmarks: started with
// posix_spawn, its stdout read line by line with a timeout, stopped by PID
// (SIGTERM, then SIGKILL if it does not leave in time) and reaped.
// Header-only; tests and benchmarks only. One thread per object.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace smppd::test {

class child_process {
 public:
  // With merge_stderr, the child's stderr goes to the same pipe as stdout.
  child_process(const std::string& path, const std::vector<std::string>& args, bool merge_stderr = false,
                const std::vector<std::string>& extra_env = {}) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    if (merge_stderr) posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::vector<char*> envp;
    for (char** e = environ; *e; ++e) envp.push_back(*e);
    for (auto& e : extra_env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fds[0];
    if (rc != 0) {
      close(out_);
      throw std::runtime_error("cannot start " + path);
    }
  }
  ~child_process() {
    stop();
    if (out_ >= 0) close(out_);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  // The next line of the child's stdout (without the newline), or nullopt
  // on EOF or when `timeout` passes first.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[512];
      ssize_t n = ::read(out_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Reads lines (each appended to `seen`) until one contains `what` (true)
  // or `limit` passes (false).
  bool read_until(const std::string& what, std::string& seen, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto line = read_line(std::chrono::milliseconds(100));
      if (!line) continue;
      seen += *line + "\n";
      if (line->find(what) != std::string::npos) return true;
    }
    return false;
  }

  // Waits up to `limit` for the child to exit by itself; its wait status,
  // or nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return status_;
    auto deadline = std::chrono::steady_clock::now() + limit;
    do {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
  }

  void signal(int sig) {
    if (pid_ > 0) kill(pid_, sig);
  }

  // Sends `sig`, waits up to `grace` for the exit, then SIGKILL. Returns the
  // wait status (-1 if the child was already reaped).
  int stop(int sig = SIGTERM, std::chrono::milliseconds grace = std::chrono::seconds(10)) {
    if (pid_ <= 0) return status_;
    kill(pid_, sig);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return status_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int status_ = -1;
  std::string buffer_;
};

// Starts smsc-sim on 127.0.0.1 with a free port and the given flags;
// returns the port from its "listening on" line (0 if it did not start).
inline std::uint16_t start_smsc_sim(std::optional<child_process>& sim, const std::string& binary,
                                    std::vector<std::string> args) {
  args.insert(args.begin(), {"--listen", "127.0.0.1:0"});
  sim.emplace(binary, args);
  auto line = sim->read_line(std::chrono::seconds(10));
  if (!line) return 0;
  auto colon = line->rfind(':');
  if (colon == std::string::npos) return 0;
  return static_cast<std::uint16_t>(std::stoul(line->substr(colon + 1)));
}

// Drops reply number `n` for smsc-sim's --mo-inject-dir `dir` ("key: value"
// lines: from, to, text, ...): written aside, then renamed in, so smsc-sim
// never reads half a file.
inline void inject_mo_file(const std::filesystem::path& dir, int n, const std::string& body) {
  const std::filesystem::path aside = dir / ("mo" + std::to_string(n) + ".tmp");
  std::ofstream(aside) << body;
  char name[32];
  std::snprintf(name, sizeof name, "mo%04d.mo", n);
  std::filesystem::rename(aside, dir / name);
}

}  // namespace smppd::test
