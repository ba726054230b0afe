// The daemon's campaigns: one runner thread each, their control state
// (start, pause, resume, cancel) kept across restarts, their progress for
// the API and smppctl, and what a reload changes.
//
// Control state survives a restart in DATA_DIR/campaigns.state (one line
// per campaign: state, a space, the id), rewritten atomically (a temporary
// file, fsync, rename, fsync of the directory) before a command is
// answered. A campaign without a line there starts as configured: running,
// or waiting with `start: manual`.
//
//   start   waiting -> running
//   pause   running -> paused      (no rows read; queued messages held)
//   resume  paused  -> running     (held messages go first)
//   cancel  waiting | running | paused -> cancelled, for good: no more
//           rows; messages not yet sent are cancelled; parts already at
//           the SMSC still get their receipts
//
// Campaigns created through the API are kept in DATA_DIR/campaigns/ and
// run again after a restart, alongside the configured ones (a configured
// campaign wins over a created one with its id).
//
// Reload (apply() with a new list): a new campaign starts; a campaign's
// tps and auto_ack change at once; other changes restart a campaign that has not read
// a row yet and are otherwise refused for the running one (named in the
// returned notes), since a template or file changed halfway would send
// some recipients a different text or skip rows. A campaign no longer in
// the file stops reading; what it already made still goes out.
//
// Logs (component campaign, info): a campaign started (or loaded, waiting
// or paused), each control command done, created through the API, finished
// reading (with its counts); a campaign that cannot run is an error.
//
// Threads: every member may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "engine/campaign_gate.hpp"
#include "engine/campaign_runner.hpp"
#include "engine/dispatcher.hpp"
#include "engine/prepare.hpp"
#include "storage/message_log.hpp"

namespace engine {

enum class campaign_action : std::uint8_t { start, pause, resume, cancel };
std::optional<campaign_action> parse_campaign_action(std::string_view s) noexcept;

struct campaign_status {
  std::string id;
  campaign_state state = campaign_state::running;
  bool reading_done = false;  // its file was read to the end (or it stopped reading)
  bool in_config = true;      // false after a reload that dropped it
  std::string problem;        // why it could not run; "" when it runs
  bool from_api = false;      // created with POST /v1/campaigns
  double tps = 0;
  std::uint64_t rows = 0, accepted = 0, rejected = 0, duplicates = 0, skipped = 0, no_consent = 0;
  double progress = 0;  // share of the recipients file read, 0-1
  double rate = 0;      // messages per second now (0 unless running)
  std::optional<double> eta_s;  // until every row is handed to the dispatcher, at this rate
  // Its messages by state, from the log (find() only: one read).
  std::optional<std::array<std::uint64_t, storage::state_count>> by_state;
};

struct control_outcome {
  enum class kind : std::uint8_t { done, unchanged, not_found, conflict, failed, invalid };
  kind result = kind::done;
  std::string message;                   // for everything but done
  std::optional<campaign_status> status;  // for done and unchanged
};

// The persisted control states. load() fails (false, `error` naming the
// file and line) on a file it cannot read; a missing file is empty.
bool load_campaign_states(const std::filesystem::path& file, std::map<std::string, campaign_state>& out,
                          std::string& error);
bool save_campaign_states(const std::filesystem::path& file, const std::map<std::string, campaign_state>& states,
                          std::string& error);
// Writes `text` to `file` so that a crash leaves the old or the new
// contents: a temporary file, fsync, rename, fsync of the directory.
bool write_file_atomically(const std::filesystem::path& file, std::string_view text, std::string& error);

struct campaign_context {
  std::filesystem::path data_dir;
  storage::message_log* log = nullptr;
  dispatcher* dispatch = nullptr;
  std::atomic<std::uint64_t>* next_message_id = nullptr;
  const prepare_source* prepare = nullptr;
  conversation_book* conversations = nullptr;  // for campaigns that expect replies
};

class campaign_manager {
 public:
  // Reads DATA_DIR/campaigns.state; throws std::runtime_error naming the
  // problem when it exists but cannot be read (startup only).
  explicit campaign_manager(campaign_context context);
  ~campaign_manager();  // stop()
  campaign_manager(const campaign_manager&) = delete;
  campaign_manager& operator=(const campaign_manager&) = delete;

  // Takes the configured campaigns (at start and on reload); returns notes
  // on what changed or could not, one line each.
  std::vector<std::string> apply(const std::vector<config::campaign_config>& campaigns);

  control_outcome control(std::string_view id, campaign_action action);
  // A new campaign from its definition (JSON or YAML, the keys of a
  // configured one; relative paths from DATA_DIR), kept in
  // DATA_DIR/campaigns/ID.json so that a restart runs it again.
  control_outcome create(std::string_view definition);
  std::vector<campaign_status> list() const;
  std::optional<campaign_status> find(std::string_view id) const;
  // The campaign's auto-acknowledgement text ("" none, or no such campaign).
  std::string auto_ack(std::string_view id) const;
  // The gate of a campaign, known or not (recovery attaches it to the
  // messages it re-dispatches; apply() later adopts the entry).
  const campaign_gate* gate(std::string_view id);

  // Every running campaign has read its file (--once waits for this).
  bool all_read() const;
  // How many campaigns could not run (their problem was printed).
  int failures() const noexcept { return failures_.load(); }
  // Every runner stops reading; returns once their threads ended.
  void stop();

  static std::filesystem::path state_file(const std::filesystem::path& data_dir);
  static std::filesystem::path created_dir(const std::filesystem::path& data_dir);

 private:
  struct entry {
    config::campaign_config config;
    std::unique_ptr<campaign_gate> gate;
    std::unique_ptr<campaign_runner> runner;  // null: never started (cancelled before)
    std::thread thread;
    bool in_config = true;
    bool from_api = false;
    std::string problem;  // guarded by mutex_
  };
  entry& add_locked(const config::campaign_config& c);
  void start_runner_locked(entry& e);
  void retire_runner(entry& e);  // stops and joins; mutex_ not held
  campaign_status status_locked(const entry& e) const;
  void publish_ack(const config::campaign_config& c);  // into acks_
  bool persist_locked(std::string& error);

  campaign_context context_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<entry>, std::less<>> entries_;
  std::map<std::string, campaign_state> saved_;  // as in the state file
  std::vector<config::campaign_config> created_;  // through the API
  // The campaigns' auto_ack texts, apart from mutex_ (held across file
  // writes): the dispatcher's io thread reads them for each reply.
  mutable std::mutex acks_mutex_;
  std::map<std::string, std::string, std::less<>> acks_;
  std::atomic<int> failures_{0};
  bool stopped_ = false;
  bool applied_ = false;  // the first apply() was done
};

}  // namespace engine
