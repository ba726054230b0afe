#include "engine/campaigns.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "engine/log_report.hpp"
#include "logging/logger.hpp"
#include "logging/thread_name.hpp"

namespace engine {

namespace {
// How much lower than the daemon's the campaign readers' priority is (nice).
constexpr int campaign_reader_nice = 5;
}  // namespace

namespace fs = std::filesystem;
namespace lg = logging;
using lg::component;

std::string_view name(campaign_state s) noexcept {
  switch (s) {
    case campaign_state::waiting: return "waiting";
    case campaign_state::running: return "running";
    case campaign_state::paused: return "paused";
    case campaign_state::cancelled: return "cancelled";
  }
  return "?";
}

std::optional<campaign_state> parse_campaign_state(std::string_view s) noexcept {
  for (auto st : {campaign_state::waiting, campaign_state::running, campaign_state::paused, campaign_state::cancelled})
    if (name(st) == s) return st;
  return std::nullopt;
}

std::optional<campaign_action> parse_campaign_action(std::string_view s) noexcept {
  if (s == "start") return campaign_action::start;
  if (s == "pause") return campaign_action::pause;
  if (s == "resume") return campaign_action::resume;
  if (s == "cancel") return campaign_action::cancel;
  return std::nullopt;
}

bool load_campaign_states(const fs::path& file, std::map<std::string, campaign_state>& out, std::string& error) {
  out.clear();
  std::ifstream in(file);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return true;
    error = file.string() + ": cannot be read";
    return false;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const auto space = line.find(' ');
    const auto st = parse_campaign_state(line.substr(0, space));
    if (space == std::string::npos || !st || space + 1 == line.size()) {
      error = file.string() + ":" + std::to_string(n) + ": expected \"STATE CAMPAIGN-ID\", got \"" + line + "\"";
      return false;
    }
    out[line.substr(space + 1)] = *st;
  }
  return true;
}

bool write_file_atomically(const fs::path& file, std::string_view text, std::string& error) {
  const fs::path tmp = file.string() + ".tmp";
  auto fail = [&](const char* what) {
    error = std::string(what) + " " + tmp.string() + ": " + std::strerror(errno);
    return false;
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create");
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) return fail("cannot write");
  if (::rename(tmp.c_str(), file.c_str()) != 0) return fail("cannot rename");
  // The rename itself must survive a crash too.
  if (const int dir = ::open(file.parent_path().empty() ? "." : file.parent_path().c_str(), O_RDONLY | O_CLOEXEC);
      dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return true;
}

bool save_campaign_states(const fs::path& file, const std::map<std::string, campaign_state>& states,
                          std::string& error) {
  std::string text;
  for (const auto& [id, st] : states) text += std::string(name(st)) + " " + id + "\n";
  return write_file_atomically(file, text, error);
}

fs::path campaign_manager::state_file(const fs::path& data_dir) { return data_dir / "campaigns.state"; }
fs::path campaign_manager::created_dir(const fs::path& data_dir) { return data_dir / "campaigns"; }

campaign_manager::campaign_manager(campaign_context context) : context_(std::move(context)) {
  std::string error;
  if (!load_campaign_states(state_file(context_.data_dir), saved_, error)) throw std::runtime_error(error);
  // Campaigns created through the API before this start.
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(created_dir(context_.data_dir), ec))
    if (f.path().extension() == ".json") files.push_back(f.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto r = config::load_campaign(text, f.string(), context_.data_dir);
    if (!r.value) {
      for (const auto& e : r.errors)
        lg::error(component::campaign, "campaign created through the API not run: " + e.message,
                  {{"file", e.file}, {"line", e.line}, {"column", e.column}, {"key", e.key}});
      continue;
    }
    created_.push_back(std::move(*r.value));
  }
}

campaign_manager::~campaign_manager() { stop(); }

campaign_manager::entry& campaign_manager::add_locked(const config::campaign_config& c) {
  auto e = std::make_unique<entry>();
  e->config = c;
  publish_ack(c);
  campaign_state st = c.start == config::campaign_start::manual ? campaign_state::waiting : campaign_state::running;
  if (auto it = saved_.find(c.id); it != saved_.end()) st = it->second;
  e->gate = std::make_unique<campaign_gate>(c.id, st);
  auto& ref = *e;
  entries_[c.id] = std::move(e);
  return ref;
}

void campaign_manager::start_runner_locked(entry& e) {
  if (e.gate->cancelled() || stopped_) return;
  campaign_setup cs;
  cs.campaign = e.config;
  cs.prepare = context_.prepare->get();
  cs.prepare_from = context_.prepare;
  cs.rejections_file = rejections_file(context_.data_dir, e.config.id);
  cs.gate = e.gate.get();
  cs.conversations = context_.conversations;
  e.runner = std::make_unique<campaign_runner>(std::move(cs), *context_.log, *context_.dispatch,
                                               *context_.next_message_id);
  e.problem.clear();
  lg::info(component::campaign, e.gate->get() == campaign_state::running ? "campaign started" : "campaign loaded",
           {{"campaign", e.config.id}, {"state", name(e.gate->get())}, {"tps", e.config.tps}, {"from_api", e.from_api}});
  e.thread = std::thread([this, &e, r = e.runner.get(), gate = e.gate.get()] {
    // Reading a campaign is bulk work: when the cores are busy, the
    // notifications' path (API, log writer, dispatcher) runs first. (Linux
    // keeps a nice value per thread; raising one's own needs no privilege.
    // Failing, the reader runs at the daemon's priority.)
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), campaign_reader_nice);
    auto why = r->run();
    const auto& c = r->counts();
    if (why.empty()) {
      const bool finished = !r->stopped() && !gate->cancelled();
      lg::write(component::campaign, finished ? lg::level::info : lg::level::debug,
                finished ? "campaign finished reading" : "campaign stopped reading",
                {{"campaign", r->id()}, {"rows", c.rows.load()}, {"accepted", c.accepted.load()},
                 {"rejected", c.rejected.load()}, {"duplicates", c.duplicates.load()},
                 {"duplicate_lookups", c.duplicate_lookups.load()}, {"skipped", c.skipped.load()},
                 {"no_consent", c.no_consent.load()}});
      return;
    }
    lg::error(component::campaign, "campaign cannot run", {{"campaign", r->id()}, {"error", why}});
    failures_.fetch_add(1);
    std::lock_guard lock(mutex_);
    e.problem = std::move(why);
  });
  logging::name_thread(e.thread, "cmp:" + e.config.id);
}

void campaign_manager::retire_runner(entry& e) {
  if (e.runner) e.runner->stop();
  if (e.thread.joinable()) e.thread.join();
}

std::vector<std::string> campaign_manager::apply(const std::vector<config::campaign_config>& configured) {
  std::vector<std::string> notes;
  std::vector<entry*> restart;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return notes;
    auto campaigns = configured;
    for (const auto& c : created_) {
      const bool clash = std::any_of(configured.begin(), configured.end(), [&](const auto& x) { return x.id == c.id; });
      if (clash) notes.push_back("campaign " + c.id + ": configured; the one created through the API is not run");
      else campaigns.push_back(c);
    }
    std::map<std::string, bool, std::less<>> listed;
    for (const auto& c : campaigns) {
      listed[c.id] = true;
      auto it = entries_.find(c.id);
      if (it != entries_.end() && !it->second->runner && !it->second->in_config && !it->second->gate->cancelled()) {
        // Known only by its saved state so far (recovery asked for its gate).
        it->second->config = c;
        publish_ack(c);
        it->second->in_config = true;
        it->second->from_api = std::any_of(created_.begin(), created_.end(), [&](const auto& x) { return x.id == c.id; });
        start_runner_locked(*it->second);
        continue;
      }
      if (it == entries_.end()) {
        auto& e = add_locked(c);
        e.from_api = std::any_of(created_.begin(), created_.end(), [&](const auto& x) { return x.id == c.id; });
        start_runner_locked(e);
        if (applied_) notes.push_back("campaign " + c.id + ": added, " + std::string(name(e.gate->get())));
        continue;
      }
      entry& e = *it->second;
      e.in_config = true;
      if (e.config == c) continue;
      if (e.config.tps != c.tps) {
        e.config.tps = c.tps;
        if (e.runner) e.runner->set_tps(c.tps);
        notes.push_back("campaign " + c.id + ": tps now " + std::to_string(c.tps));
      }
      if (e.config.auto_ack != c.auto_ack) {
        // Read when a reply comes: nothing to restart.
        e.config.auto_ack = c.auto_ack;
        publish_ack(c);
        notes.push_back("campaign " + c.id + ": auto_ack changed");
      }
      if (e.config == c) continue;
      if (e.gate->get() == campaign_state::waiting) {
        e.config = c;
        restart.push_back(&e);
        notes.push_back("campaign " + c.id + ": not started yet; takes the new settings");
      } else {
        notes.push_back("campaign " + c.id + ": is " + std::string(name(e.gate->get())) +
                        "; changes other than tps are ignored (cancel it and add a new campaign instead)");
      }
    }
    for (auto& [id, e] : entries_)
      if (e->in_config && !listed.count(id)) {
        e->in_config = false;
        if (e->runner) e->runner->stop();
        notes.push_back("campaign " + id + ": no longer configured; stops reading its file");
      }
    applied_ = true;
  }
  for (entry* e : restart) {
    retire_runner(*e);
    std::lock_guard lock(mutex_);
    start_runner_locked(*e);
  }
  return notes;
}

bool campaign_manager::persist_locked(std::string& error) {
  auto states = saved_;
  for (const auto& [id, e] : entries_) states[id] = e->gate->get();
  if (!save_campaign_states(state_file(context_.data_dir), states, error)) return false;
  saved_ = std::move(states);
  return true;
}

control_outcome campaign_manager::control(std::string_view id, campaign_action action) {
  control_outcome out;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    out.result = control_outcome::kind::not_found;
    out.message = "no campaign " + std::string(id);
    return out;
  }
  entry& e = *it->second;
  const campaign_state from = e.gate->get();
  std::optional<campaign_state> to;
  switch (action) {
    case campaign_action::start:
      if (from == campaign_state::waiting) to = campaign_state::running;
      break;
    case campaign_action::pause:
      if (from == campaign_state::running || from == campaign_state::waiting) to = campaign_state::paused;
      break;
    case campaign_action::resume:
      if (from == campaign_state::paused) to = campaign_state::running;
      break;
    case campaign_action::cancel:
      if (from != campaign_state::cancelled) to = campaign_state::cancelled;
      break;
  }
  const bool already = (action == campaign_action::start && from == campaign_state::running) ||
                       (action == campaign_action::pause && from == campaign_state::paused) ||
                       (action == campaign_action::resume && from == campaign_state::running) ||
                       (action == campaign_action::cancel && from == campaign_state::cancelled);
  if (already) {
    out.result = control_outcome::kind::unchanged;
    out.status = status_locked(e);
    return out;
  }
  if (!to) {
    static constexpr const char* verbs[] = {"started", "paused", "resumed", "cancelled"};
    out.result = control_outcome::kind::conflict;
    out.message = "campaign " + e.config.id + " is " + std::string(name(from)) + "; it cannot be " +
                  verbs[static_cast<int>(action)];
    return out;
  }
  e.gate->state.store(*to, std::memory_order_release);
  std::string error;
  if (!persist_locked(error)) {
    // Not durable: not done. The gate goes back as it was.
    e.gate->state.store(from, std::memory_order_release);
    out.result = control_outcome::kind::failed;
    out.message = "campaign " + e.config.id + " unchanged: " + error;
    lg::error(component::campaign, "campaign control not saved; unchanged",
              {{"campaign", e.config.id}, {"to", name(*to)}, {"error", error}});
    return out;
  }
  static constexpr const char* done[] = {"campaign started", "campaign paused", "campaign resumed",
                                         "campaign cancelled"};
  lg::info(component::campaign, done[static_cast<int>(action)],
           {{"campaign", e.config.id}, {"from", name(from)}, {"to", name(*to)}});
  context_.dispatch->campaign_changed(e.gate.get());
  out.status = status_locked(e);
  return out;
}

control_outcome campaign_manager::create(std::string_view definition) {
  control_outcome out;
  auto r = config::load_campaign(definition, "request", context_.data_dir);
  if (!r.value) {
    out.result = control_outcome::kind::invalid;
    for (const auto& e : r.errors) out.message += (out.message.empty() ? "" : "; ") + e.key + ": " + e.message;
    return out;
  }
  const auto& c = *r.value;
  std::lock_guard lock(mutex_);
  if (stopped_ || entries_.count(c.id) || saved_.count(c.id)) {
    out.result = control_outcome::kind::conflict;
    out.message = stopped_ ? "smppd is stopping" : "campaign " + c.id + " exists already (ids are never reused)";
    return out;
  }
  std::string error;
  std::error_code ec;
  fs::create_directories(created_dir(context_.data_dir), ec);
  if (!write_file_atomically(created_dir(context_.data_dir) / (c.id + ".json"), definition, error)) {
    out.result = control_outcome::kind::failed;
    out.message = "campaign " + c.id + " not created: " + error;
    return out;
  }
  created_.push_back(c);
  lg::info(component::campaign, "campaign created through the API", {{"campaign", c.id}});
  auto& e = add_locked(c);
  e.from_api = true;
  saved_[c.id] = e.gate->get();  // the id is taken for good, even after a cancel
  (void)persist_locked(error);
  start_runner_locked(e);
  out.status = status_locked(e);
  return out;
}

campaign_status campaign_manager::status_locked(const entry& e) const {
  campaign_status s;
  s.id = e.config.id;
  s.state = e.gate->get();
  s.in_config = e.in_config;
  s.from_api = e.from_api;
  s.problem = e.problem;
  s.tps = e.config.tps;
  if (e.runner) {
    const auto& c = e.runner->counts();
    s.reading_done = e.runner->finished_reading();
    const double size = static_cast<double>(c.file_bytes.load()), read = static_cast<double>(c.bytes_read.load());
    s.progress = s.reading_done ? 1.0 : size > 0 ? std::min(1.0, read / size) : 0.0;
    if (s.state == campaign_state::running && !s.reading_done) {
      s.rate = c.rate.load();
      // Rows left, estimated from the octets left at the rows-per-octet so far.
      if (s.rate > 0 && read > 0) {
        const double rows_left = (size - read) * static_cast<double>(c.rows.load()) / read;
        s.eta_s = rows_left / s.rate;
      }
    }
    s.rows = c.rows.load();
    s.accepted = c.accepted.load();
    s.rejected = c.rejected.load();
    s.duplicates = c.duplicates.load();
    s.skipped = c.skipped.load();
    s.no_consent = c.no_consent.load();
  } else {
    s.reading_done = true;
  }
  return s;
}

std::vector<campaign_status> campaign_manager::list() const {
  std::lock_guard lock(mutex_);
  std::vector<campaign_status> out;
  for (const auto& [id, e] : entries_) out.push_back(status_locked(*e));
  return out;
}

std::optional<campaign_status> campaign_manager::find(std::string_view id) const {
  std::optional<campaign_status> s;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    s = status_locked(*it->second);
  }
  std::error_code ec;
  auto counts = context_.log->campaign_states(s->id, ec);
  if (!ec) s->by_state = counts;
  return s;
}

std::string campaign_manager::auto_ack(std::string_view id) const {
  std::lock_guard lock(acks_mutex_);
  auto it = acks_.find(id);
  return it == acks_.end() ? std::string() : it->second;
}

void campaign_manager::publish_ack(const config::campaign_config& c) {
  std::lock_guard lock(acks_mutex_);
  if (c.auto_ack.empty())
    acks_.erase(c.id);
  else
    acks_[c.id] = c.auto_ack;
}

const campaign_gate* campaign_manager::gate(std::string_view id) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(id); it != entries_.end()) return it->second->gate.get();
  // Not applied yet, or of an earlier configuration: its messages obey its
  // saved state, and it can be paused or cancelled like the others.
  config::campaign_config c;
  c.id = std::string(id);
  auto& e = add_locked(c);
  e.in_config = false;
  return e.gate.get();
}

bool campaign_manager::all_read() const {
  std::lock_guard lock(mutex_);
  for (const auto& [id, e] : entries_)
    if (e->runner && e->gate->get() == campaign_state::running && !e->runner->finished_reading()) return false;
  return true;
}

void campaign_manager::stop() {
  std::vector<entry*> all;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (auto& [id, e] : entries_) all.push_back(e.get());
  }
  for (entry* e : all) retire_runner(*e);
}

}  // namespace engine
