// Child process of message_log_crash_test: writes campaign messages (row =
// id) and part updates to the log under sync: always and prints "ack ID
// PART STATE" for each event once durable_ticket() covers it, until it is
// killed (open messages enter the open index 20 ms late). Each round
// leaves some messages unfinished: one with a part in doubt (submitting),
// one waiting for a receipt, one still queued.
//   log_crash_child DIR
#include <cstdio>
#include <string>
#include <vector>

#include "storage/message_log.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  storage::log_options o;
  o.dir = argv[1];
  o.sync = storage::sync_policy::always;
  // Short, so that a run of 5-120 ms leaves open messages both indexed
  // and not yet indexed.
  o.open_index_delay = std::chrono::milliseconds(20);
  storage::message_log log(o);
  std::uint64_t id = log.max_message_id();
  std::printf("ready %llu\n", static_cast<unsigned long long>(id));
  std::fflush(stdout);
  using storage::state;
  const state path[] = {state::submitting, state::accepted, state::delivered};
  for (;;) {
    // A few messages per round; one wait covers them all (group commit).
    struct pending {
      std::uint64_t id;
      int part;
      state st;
    };
    std::vector<pending> acks;
    std::uint64_t last = 0;
    std::error_code ec;
    for (int m = 0; m < 5; ++m) {
      storage::message_record r;
      r.id = ++id;
      r.origin = storage::origin::campaign;
      r.campaign = "crash";
      r.row = id;
      r.recipient = "+3706" + std::to_string(id);
      r.text = "crash test";
      r.parts.resize(2);
      last = log.append(std::move(r), ec);
      if (ec) return 1;
      acks.push_back({id, -1, state::queued});
      if (m == 4) continue;  // stays queued
      for (int part = 0; part < 2; ++part) {
        for (state s : path) {
          storage::part_update u;
          u.message_id = id;
          u.part = static_cast<std::uint16_t>(part);
          u.to = s;
          u.at_us = static_cast<std::int64_t>(id);
          u.smsc = "opa-1";
          if (s == state::accepted) u.smsc_message_id = std::to_string(id * 10 + part);
          last = log.update(u, ec);
          if (ec) return 1;
          acks.push_back({id, part, s});
          // Leave messages half done, so that every kill finds open ones
          // of each kind.
          if (m == 2 && part == 1 && s == state::submitting) break;
          if (m == 3 && part == 1 && s == state::accepted) break;
        }
      }
    }
    log.wait_durable(last);
    for (const auto& a : acks)
      std::printf("ack %llu %d %d\n", static_cast<unsigned long long>(a.id), a.part,
                  static_cast<int>(a.st));
    std::fflush(stdout);
  }
}
