#include "engine/campaign_runner.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "engine/csv_reader.hpp"
#include "engine/duplicate_check.hpp"
#include "engine/message_template.hpp"
#include "logging/logger.hpp"

namespace engine {

namespace {

std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string csv_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string_view trimmed(std::string_view s) noexcept {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

consent_check::consent_check(const config::consent_rule& rule, const numbering_plan& numbering) : rule_(rule) {
  if (rule_.list.empty()) return;
  std::ifstream in(rule_.list);
  if (!in) {
    error_ = rule_.list.string() + ": cannot be read";
    return;
  }
  std::string line;
  for (std::uint64_t n = 1; std::getline(in, line); ++n) {
    const std::string_view entry = trimmed(std::string_view(line).substr(0, line.find('#')));
    if (entry.empty()) continue;
    auto number = normalise_number(entry, numbering);
    if (!number.ok()) {
      if (bad_lines_++ == 0) first_bad_ = n;
      continue;
    }
    listed_.insert(std::move(number.e164));
  }
  if (in.bad()) error_ = rule_.list.string() + ": read error";
}

bool consent_check::bind(const std::vector<std::string>& header) {
  if (rule_.column.empty()) return true;
  auto it = std::find(header.begin(), header.end(), rule_.column);
  if (it == header.end()) {
    error_ = "no \"" + rule_.column + "\" column (consent.column)";
    return false;
  }
  column_ = static_cast<std::size_t>(it - header.begin());
  return true;
}

bool consent_check::is_yes(std::string_view field) noexcept {
  field = trimmed(field);
  // Compared without case and without a copy: this runs for every row.
  auto is = [field](std::string_view word) {
    return field.size() == word.size() && std::equal(field.begin(), field.end(), word.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == b;
           });
  };
  return is("yes") || is("y") || is("true") || is("1") || is("x");
}

bool consent_check::allows(const std::vector<std::string>& row, const std::string& e164) const {
  if (column_ && *column_ < row.size() && is_yes(row[*column_])) return true;
  return listed_.count(e164) > 0;
}

campaign_runner::campaign_runner(campaign_setup setup, storage::message_log& log, dispatcher& dispatch,
                                 std::atomic<std::uint64_t>& next_message_id)
    : setup_(std::move(setup)),
      log_(log),
      dispatch_(dispatch),
      next_id_(next_message_id),
      pace_(setup_.campaign.tps, std::max(1.0, setup_.campaign.tps / 10), token_bucket::clock::now()) {}

void campaign_runner::reject(std::uint64_t row, const std::string& reason, std::string_view recipient,
                             storage::state st, storage::cause why) {
  counts_.rejected.fetch_add(1, std::memory_order_relaxed);
  if (rejections_) std::fprintf(rejections_, "%llu,%s\n", static_cast<unsigned long long>(row), csv_quote(reason).c_str());
  // The row is recorded as a message that never went out (failed for a
  // bad row, suppressed for a duplicate): the campaign's counts show it,
  // and its cursor moves over it, so a restart does not read it again.
  storage::message_record r;
  r.id = next_id_.fetch_add(1) + 1;
  r.origin = storage::origin::campaign;
  r.campaign = setup_.campaign.id;
  r.row = row - 1;  // data rows count from 1 in the log
  r.recipient = std::string(recipient);
  r.sender = setup_.campaign.from;
  r.queued_us = wall_us();
  r.st = st;
  r.parts.resize(1);
  r.parts[0].st = st;
  r.parts[0].settled_by = why;
  std::error_code ec;
  for (;;) {
    (void)log_.append(std::move(r), ec);
    if (ec != storage::storage_errc::backlog_full) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (ec)
    logging::error(logging::component::campaign, "rejected row not recorded in the message log",
                   {{"campaign", setup_.campaign.id}, {"row", row}, {"error", ec}});
}

bool campaign_runner::wait_for_gate() {
  const campaign_gate* g = setup_.gate;
  if (!g) return !stop_.load();
  while (!stop_.load() && g->holds()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return !stop_.load() && !g->cancelled();
}

bool campaign_runner::hand_over(bool all) {
  while (pending_front_ < pending_.size()) {
    auto& u = pending_[pending_front_];
    if (log_.durable_ticket() < u.ticket) {
      if (!all && pending_.size() - pending_front_ < setup_.max_unconfirmed) break;
      log_.wait_durable(u.ticket);
      continue;
    }
    if (const double tps = new_tps_.exchange(-1); tps >= 0)
      pace_ = token_bucket(tps, std::max(1.0, tps / 10), token_bucket::clock::now());
    // A cancelled campaign's messages go straight to the dispatcher, which cancels them.
    if (!pace_.unlimited() && !(setup_.gate && setup_.gate->cancelled())) {
      // The campaign's own rate (its parts per second), on top of the
      // operator's and the SMSC's.
      const double parts = static_cast<double>(u.message->text.parts.size());
      for (;;) {
        const auto now = token_bucket::clock::now();
        if (pace_.try_take(parts, now)) break;
        if (stop_.load()) return false;
        std::this_thread::sleep_until(std::min(pace_.available_at(parts, now), now + std::chrono::milliseconds(100)));
      }
    }
    while (!dispatch_.enqueue(std::move(u.message))) {
      // The lane is full: the dispatcher is the bottleneck; wait for it.
      if (stop_.load()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ++pending_front_;
    // The rate: messages handed over per second, over about a second, smoothed.
    ++handed_;
    const auto now = std::chrono::steady_clock::now();
    if (const double dt = std::chrono::duration<double>(now - rate_since_).count(); dt >= 1.0) {
      const double r = dt > 10 ? 0 : static_cast<double>(handed_) / dt;
      counts_.rate.store(counts_.rate.load() * 0.5 + r * 0.5);
      handed_ = 0;
      rate_since_ = now;
    }
  }
  if (pending_front_ == pending_.size()) {
    pending_.clear();
    pending_front_ = 0;
  }
  return !stop_.load();
}

std::string campaign_runner::run() {
  // Whatever way run() ends, the campaign is done reading (--once waits for it).
  struct mark_done {
    std::atomic<bool>& done;
    ~mark_done() { done.store(true); }
  } on_exit{done_};
  const auto& c = setup_.campaign;
  csv_reader csv(c.recipients);
  if (!csv.ok()) return csv.error();
  {
    std::error_code size_ec;
    const auto size = std::filesystem::file_size(c.recipients, size_ec);
    counts_.file_bytes.store(size_ec ? 0 : size);
  }
  // A recipient per 13 octets at least ("+37060000000" and a newline).
  duplicate_check duplicates(c.id, log_, std::max<std::uint64_t>(counts_.file_bytes.load() / 13, 1));
  rate_since_ = std::chrono::steady_clock::now();
  auto number_column = std::find(csv.header().begin(), csv.header().end(), "msisdn");
  if (number_column == csv.header().end())
    return c.recipients.string() + ": row 1: no \"msisdn\" column (the recipients' numbers)";
  const std::size_t msisdn = static_cast<std::size_t>(number_column - csv.header().begin());
  std::string error;
  auto tmpl = message_template::compile(c.text, error);
  if (!tmpl || !tmpl->bind(csv.header(), error)) return "campaign " + c.id + ": text: " + error;
  if (c.window) {
    window_ = window_rule::make(static_cast<int>(c.window->start.count()), static_cast<int>(c.window->end.count()),
                                c.window->timezone, c.window->fallback_timezone, error);
    if (!window_) return "campaign " + c.id + ": send_window: " + error;
  }
  std::optional<consent_check> consent;
  if (c.consent) {
    consent.emplace(*c.consent, setup_.prepare.numbering);
    if (!consent->error().empty() || !consent->bind(csv.header()))
      return "campaign " + c.id + ": consent: " + consent->error();
    if (consent->bad_lines())
      logging::warn(logging::component::campaign, "consent list lines that are not numbers were skipped",
                    {{"campaign", c.id}, {"file", c.consent->list.string()}, {"lines", consent->bad_lines()},
                     {"first_line", consent->first_bad_line()}});
  }
  if (c.expects_reply && (!setup_.conversations || !setup_.conversations->has_pool()))
    return "campaign " + c.id + ": expects_reply needs two_way.reply_numbers (the numbers replies come back to)";
  if (!setup_.rejections_file.empty()) {
    std::filesystem::create_directories(setup_.rejections_file.parent_path());
    rejections_ = std::fopen(setup_.rejections_file.c_str(), "a");
  }

  // Rows already in the log (a restart): skip them, but remember their numbers.
  std::error_code ec;
  std::uint64_t cursor = 0;
  std::set<std::uint64_t> above;
  auto cursors = log_.campaign_cursors(ec);
  if (auto it = cursors.find(c.id); it != cursors.end()) {
    cursor = it->second.row;
    above.insert(it->second.rows_above.begin(), it->second.rows_above.end());
  }

  std::vector<std::string> row;
  std::string text;
  const std::int64_t validity_us = c.validity.count() * 1'000'000;
  for (;;) {
    if (!wait_for_gate()) break;
    const auto st = csv.next(row);
    counts_.bytes_read.store(csv.bytes_consumed(), std::memory_order_relaxed);
    if (st == csv_reader::status::end) break;
    if (st == csv_reader::status::io_error) {
      error = c.recipients.string() + ": read error";
      break;
    }
    const std::uint64_t row_no = csv.row_number();
    // The log counts data rows from 1 (spreadsheet row 2).
    const bool done_before = row_no - 1 <= cursor || above.count(row_no - 1);
    if (st == csv_reader::status::bad_row) {
      if (!done_before) {
        counts_.rows.fetch_add(1, std::memory_order_relaxed);
        reject(row_no, csv.problem(), row.empty() ? std::string_view() : std::string_view(row[0]),
               storage::state::failed);
      }
      continue;
    }
    counts_.rows.fetch_add(1, std::memory_order_relaxed);
    if (done_before) {
      if (auto number = normalise_number(row[msisdn], setup_.prepare.numbering); number.ok())
        duplicates.recorded(number.e164);
      counts_.skipped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    std::string problem;
    if (!tmpl->render(row, text, problem)) {
      reject(row_no, problem, row[msisdn], storage::state::failed);
      continue;
    }
    if (const auto* src = setup_.prepare_from; src && src->generation() != prepare_generation_) {
      prepare_generation_ = src->generation();
      setup_.prepare = src->get();
    }
    message_request req;
    req.to = row[msisdn];
    req.from = c.from;
    req.text = text;
    conversation_book::opening opening;
    if (c.expects_reply) {
      if (auto number = normalise_number(row[msisdn], setup_.prepare.numbering); number.ok()) {
        opening = setup_.conversations->pick(number.e164);
        req.from = opening.number;
        conversation_book::carry_code(req.text, opening.code);
      }
    }
    req.priority = lane::campaign;
    req.receipts = c.receipts;
    req.validity = c.validity;
    req.deliver_within = c.deliver_within;
    req.origin = storage::origin::campaign;
    req.campaign = c.id;
    req.row = row_no - 1;
    const std::uint64_t id = next_id_.fetch_add(1) + 1;
    prepared_message prepared;
    if (auto why = prepare_message(setup_.prepare, req, id, wall_us(), prepared)) {
      reject(row_no, why.message, row[msisdn], storage::state::failed);
      continue;
    }
    if (consent && !consent->allows(row, prepared.record.recipient)) {
      counts_.no_consent.fetch_add(1, std::memory_order_relaxed);
      reject(row_no, "no consent from " + prepared.record.recipient, prepared.record.recipient,
             storage::state::suppressed, storage::cause::no_consent);
      continue;
    }
    const bool repeat = duplicates.seen_before(prepared.record.recipient);
    counts_.duplicate_lookups.store(duplicates.log_lookups(), std::memory_order_relaxed);
    if (repeat) {
      counts_.duplicates.fetch_add(1, std::memory_order_relaxed);
      reject(row_no, "duplicate recipient " + prepared.record.recipient, prepared.record.recipient,
             storage::state::suppressed, storage::cause::duplicate);
      continue;
    }
    // Stopping: this row is not made a message now (the next start reads
    // it again), so nothing new reaches the dispatcher while it drains.
    if (stop_.load()) break;
    prepared.record.queued_us = prepared.message->queued_us = wall_us();
    if (prepared.record.valid_until_us) prepared.record.valid_until_us = prepared.record.queued_us + validity_us;
    if (prepared.record.deliver_by_us)
      prepared.record.deliver_by_us = prepared.record.queued_us + std::chrono::microseconds(c.deliver_within).count();
    if (window_ && setup_.prepare.zones)
      set_window(prepared, window_->for_recipient(prepared.record.recipient, *setup_.prepare.zones));
    std::uint64_t ticket = 0;
    // The record goes to the log (moved: it is left as it was only when the
    // log refuses it); a conversation needs its recipient and id after.
    const std::uint64_t message_id = prepared.record.id;
    std::string recipient = c.expects_reply ? prepared.record.recipient : std::string();
    for (;;) {
      ticket = log_.append(std::move(prepared.record), ec);
      if (ec != storage::storage_errc::backlog_full) break;
      hand_over(false);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (ec) {
      error = "message log refused row " + std::to_string(row_no) + ": " + ec.message();
      break;
    }
    duplicates.appended(ticket);
    if (c.expects_reply && !opening.number.empty()) {
      std::uint64_t opened = 0;
      for (;;) {
        setup_.conversations->open(recipient, opening, message_id, c.id, &opened, ec);
        if (ec != storage::storage_errc::backlog_full) break;
        hand_over(false);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (ec)  // the message still goes; its replies match by recency
        logging::warn(logging::component::campaign, "conversation not opened",
                      {{"campaign", c.id}, {"row", row_no}, {"error", ec}});
      else
        ticket = std::max(ticket, opened);
      ec.clear();
    }
    auto m = std::move(prepared.message);
    m->gate = setup_.gate;
    counts_.accepted.fetch_add(1, std::memory_order_relaxed);
    pending_.push_back(unconfirmed{ticket, std::move(m)});
    if (!hand_over(false)) break;
  }
  hand_over(true);
  if (rejections_) std::fclose(rejections_);
  rejections_ = nullptr;
  return error;
}

}  // namespace engine
