#include "storage/recovery.hpp"


namespace storage {

namespace {

// Queues the updates, waiting for the writer while it applies
// back-pressure (recovery runs alone, so this cannot starve anyone).
std::uint64_t queue_all(message_log& log, std::vector<part_update>& updates, std::error_code& ec) {
  std::uint64_t last = 0;
  for (;;) {
    last = log.update(updates, ec);
    if (ec != storage_errc::backlog_full) break;
    log.wait_durable(log.durable_ticket() + 1);
  }
  updates.clear();
  return last;
}

}  // namespace

recovery_report recover(message_log& log, const recovery_options& options, std::error_code& ec) {
  recovery_report report;
  const std::int64_t now =
      options.now_us != 0
          ? options.now_us
          : std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  const std::int64_t wait_us =
      std::chrono::duration_cast<std::chrono::microseconds>(options.receipt_wait).count();
  const std::vector<std::uint64_t> open = log.open_message_ids(ec);
  if (ec) return report;
  report.open_messages = open.size();
  std::vector<part_update> updates;
  std::uint64_t last = 0;
  auto settle = [&](std::uint64_t id, std::size_t part, state to) {
    part_update u;
    u.message_id = id;
    u.part = static_cast<std::uint16_t>(part);
    u.to = to;
    u.at_us = now;
    u.cause = cause::recovery;
    updates.push_back(std::move(u));
  };
  for (std::uint64_t id : open) {
    const auto r = log.get(id, ec);
    if (ec == storage_errc::not_found) {
      ec.clear();
      continue;
    }
    if (ec) return report;
    for (std::size_t i = 0; i < r->parts.size(); ++i) {
      const part_record& p = r->parts[i];
      const part_ref ref{id, static_cast<std::uint16_t>(i)};
      switch (p.st) {
        case state::queued:
        case state::retrying:
          ++report.queued_parts;
          report.to_dispatch.push_back(ref);
          break;
        case state::submitting:
          ++report.in_doubt_parts;
          if (options.in_doubt == in_doubt_policy::resend) {
            settle(id, i, state::retrying);
            ++report.resent_parts;
            report.to_dispatch.push_back(ref);
          } else {
            settle(id, i, state::unknown);
            ++report.marked_unknown;
          }
          break;
        case state::accepted: {
          const std::int64_t deadline =
              r->valid_until_us != 0 ? r->valid_until_us : p.submitted_us + wait_us;
          if (now > deadline) {
            settle(id, i, state::unknown);
            ++report.overdue_unknown;
          } else {
            ++report.awaiting_receipt;
          }
          break;
        }
        default:
          break;
      }
    }
    if (updates.size() >= 4096) {
      last = queue_all(log, updates, ec);
      if (ec) return report;
    }
  }
  if (!updates.empty()) {
    last = queue_all(log, updates, ec);
    if (ec) return report;
  }
  if (last != 0) log.wait_durable(last);
  report.cursors = log.campaign_cursors(ec);
  return report;
}

}  // namespace storage
