// Kills a writing process with SIGKILL at random moments, many times, and
// checks after each kill that every acknowledged event is in the log, that
// no record is corrupt, and that the open-message index names exactly the
// messages with a part in flight; then runs recovery and checks that it
// classified every unfinished part, that nothing is left in doubt, and that
// the statistics and the campaign cursor agree with a recount of the
// records.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include <array>

#include "log_fixture.hpp"
#include "storage/log_reader.hpp"
#include "storage/message_log.hpp"
#include "storage/recovery.hpp"

namespace {

using namespace storage;
using namespace std::chrono;

struct acked {
  std::map<std::uint64_t, bool> messages;                        // id -> seen
  std::map<std::pair<std::uint64_t, int>, int> part_state;       // (id, part) -> state
};

// Runs the child for `run_for`, collecting its acks, then kills it.
void run_and_kill(const std::filesystem::path& dir, milliseconds run_for, acked& out) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(SMPPD_CRASH_CHILD, SMPPD_CRASH_CHILD, dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string buffer;
  bool ready = false;
  const auto deadline = steady_clock::now() + seconds(20);
  auto kill_at = steady_clock::time_point::max();
  while (steady_clock::now() < deadline) {
    const auto now = steady_clock::now();
    if (now >= kill_at) break;
    pollfd p{fds[0], POLLIN, 0};
    const int wait_ms = ready ? static_cast<int>(duration_cast<milliseconds>(kill_at - now).count())
                              : 1000;
    if (poll(&p, 1, std::max(wait_ms, 1)) <= 0) continue;
    char chunk[4096];
    const ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    if (!ready && buffer.find("ready") != std::string::npos) {
      ready = true;
      kill_at = steady_clock::now() + run_for;
    }
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  // Acks already in the pipe were printed after durability: count them too.
  char chunk[4096];
  ssize_t n;
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  while ((n = read(fds[0], chunk, sizeof chunk)) > 0) buffer.append(chunk, static_cast<std::size_t>(n));
  close(fds[0]);
  ASSERT_TRUE(ready) << "child never started: " << buffer;
  std::istringstream lines(buffer);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("ack ", 0) != 0) continue;
    std::istringstream f(line.substr(4));
    std::uint64_t id;
    int part, st;
    if (!(f >> id >> part >> st)) continue;  // a line cut by the kill
    if (part < 0) {
      out.messages[id] = true;
    } else {
      int& known = out.part_state[{id, part}];
      known = std::max(known, st);
    }
  }
}

// What the records say, counted one by one.
struct recount {
  std::array<std::uint64_t, state_count> messages{};  // campaign "crash", by message state
  std::array<std::uint64_t, state_count> parts{};     // SMSC "opa-1", by part state
  std::uint64_t in_doubt = 0;
  std::uint64_t unfinished_parts = 0;  // of open messages
  std::uint64_t highest_row = 0;
};

recount count_records(message_log& log) {
  recount c;
  std::error_code ec;
  const auto open = log.open_message_ids(ec);
  const std::set<std::uint64_t> open_set(open.begin(), open.end());
  for (std::uint64_t id = 1; id <= log.max_message_id(); ++id) {
    const auto r = log.get(id, ec);
    if (!r) continue;
    ++c.messages[static_cast<std::size_t>(r->st)];
    c.highest_row = std::max(c.highest_row, r->row);
    for (const auto& p : r->parts) {
      if (!p.smsc.empty()) ++c.parts[static_cast<std::size_t>(p.st)];
      if (p.st == state::unknown && p.resp_us == 0 && !p.smsc.empty()) ++c.in_doubt;
      if (open_set.count(id) && !is_terminal(p.st)) ++c.unfinished_parts;
    }
  }
  return c;
}

// Adds what recovery found to `seen`.
void check_recovery(message_log& log, const std::filesystem::path& dir, int round,
                    recovery_report& seen) {
  SCOPED_TRACE("round " + std::to_string(round));
  const recount before = count_records(log);
  recovery_options o;
  // The child's times are tiny (at_us = id): put "now" where about half
  // the accepted parts are past the receipt wait, so both kinds occur.
  o.now_us = std::chrono::duration_cast<std::chrono::microseconds>(o.receipt_wait).count() +
             static_cast<std::int64_t>(log.max_message_id() / 2);
  std::error_code ec;
  const recovery_report r = recover(log, o, ec);
  ASSERT_FALSE(ec) << ec.message();
  seen.queued_parts += r.queued_parts;
  seen.in_doubt_parts += r.in_doubt_parts;
  seen.awaiting_receipt += r.awaiting_receipt;
  seen.overdue_unknown += r.overdue_unknown;
  // Every unfinished part was put in exactly one class.
  EXPECT_EQ(r.queued_parts + r.in_doubt_parts + r.awaiting_receipt + r.overdue_unknown,
            before.unfinished_parts);
  EXPECT_EQ(r.marked_unknown, r.in_doubt_parts);
  EXPECT_EQ(r.to_dispatch.size(), r.queued_parts);
  // Nothing is left submitting; what is open is queued or awaiting receipts.
  const auto open = log.open_message_ids(ec);
  for (std::uint64_t id : open) {
    const auto m = log.get(id, ec);
    ASSERT_TRUE(m.has_value());
    for (const auto& p : m->parts)
      EXPECT_TRUE(p.st == state::queued || p.st == state::accepted || is_terminal(p.st))
          << "message " << id << " part in " << name(p.st);
  }
  // The statistics equal a recount, and the cursor covers every row.
  const recount after = count_records(log);
  log_reader reader({dir, {}});
  const campaign_report cr = reader.report("crash", ec);
  ASSERT_FALSE(ec);
  const smsc_report sr = reader.smsc("opa-1", ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(cr.messages.by_state, after.messages);
  EXPECT_EQ(sr.parts.by_state, after.parts);
  EXPECT_EQ(sr.in_doubt, after.in_doubt);
  const auto cursors = log.campaign_cursors(ec);
  if (after.highest_row > 0) {
    ASSERT_EQ(cursors.count("crash"), 1u);
    EXPECT_EQ(cursors.at("crash").row, after.highest_row);
    EXPECT_TRUE(cursors.at("crash").rows_above.empty());
  }
  EXPECT_EQ(cr.cursor_row, after.highest_row);
}

TEST(message_log_crash, keeps_every_acknowledged_event_across_sigkill) {
  char tmpl[] = "/tmp/smppd-crash-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  std::mt19937 rng(20261123);
  std::uniform_int_distribution<int> run_ms(5, 120);
  acked all;
  recovery_report recovered;
  for (int round = 0; round < 25; ++round) {
    run_and_kill(dir, milliseconds(run_ms(rng)), all);
    if (HasFatalFailure()) break;

    log_options o;
    o.dir = dir;
    o.sync = sync_policy::always;
    message_log log(o);
    std::error_code ec;
    // Every acknowledged message and part state is there (later events may
    // have landed too, so a part may be further along, never behind).
    for (const auto& [id, _] : all.messages) {
      const auto r = log.get(id, ec);
      ASSERT_TRUE(r.has_value()) << "round " << round << ": lost message " << id;
    }
    for (const auto& [key, st] : all.part_state) {
      const auto r = log.get(key.first, ec);
      ASSERT_TRUE(r.has_value()) << "round " << round << ": lost message " << key.first;
      const auto stored = static_cast<int>(r->parts.at(static_cast<std::size_t>(key.second)).st);
      // submitting(1) < accepted(2) < delivered(4) along this path.
      EXPECT_GE(stored, st) << "round " << round << ": message " << key.first << " part "
                            << key.second << " went back";
    }
    // No corrupt record, and the open index is exact.
    const std::vector<std::uint64_t> open = log.open_message_ids(ec);
    ASSERT_FALSE(ec);
    // Opening indexed the open messages the killed writer had not (it
    // defers an entry for 20 ms): the index itself is exact too.
    EXPECT_EQ(storage_test::indexed_open_ids(log), open) << "round " << round;
    const std::set<std::uint64_t> open_set(open.begin(), open.end());
    for (std::uint64_t id = 1; id <= log.max_message_id(); ++id) {
      std::error_code gec;
      const auto r = log.get(id, gec);
      if (!r) {
        ASSERT_EQ(gec, make_error_code(storage_errc::not_found)) << "message " << id;
        continue;
      }
      bool in_flight = false;
      for (const auto& p : r->parts) in_flight = in_flight || !is_terminal(p.st);
      EXPECT_EQ(open_set.count(id) == 1, in_flight) << "message " << id;
    }
    check_recovery(log, dir, round, recovered);
  }
  EXPECT_GT(all.part_state.size(), 50u) << "the child acknowledged too little to test anything";
  // Each kind of unfinished part met recovery at least once.
  EXPECT_GT(recovered.queued_parts, 0u);
  EXPECT_GT(recovered.in_doubt_parts, 0u);
  EXPECT_GT(recovered.awaiting_receipt, 0u);
  EXPECT_GT(recovered.overdue_unknown, 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
