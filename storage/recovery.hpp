// Recovery on start: what to do with every message that was in flight when
// smppd stopped, found through the open index (never a scan of the log),
// and where each campaign continues.
//
// Each part of an open message is classified:
//   queued, retrying -> back to dispatch (to_dispatch);
//   submitting       -> "in doubt": written to a socket (or about to be),
//                       no resp. The SMSC may or may not have it. Policy:
//                       mark_unknown (default): the part becomes unknown;
//                         it is not sent again, and a receipt that comes
//                         later settles it, by its id if it has one or by
//                         the fallback key (reconciler.hpp);
//                       resend: the part becomes retrying and goes back to
//                         dispatch; if the SMSC had it, the customer gets
//                         the SMS twice.
//   accepted         -> waiting for its receipt, unless its validity has
//                       passed (valid_until_us, or submit + receipt_wait
//                       when the message has none): then it becomes
//                       unknown. Not expired: no receipt said so, the SMSC
//                       may well have delivered it, and unknown (unlike
//                       expired) can still be settled by a late receipt.
// The changes go through the log (cause::recovery) and are durable when
// recover() returns.
//
// Threads: call once at startup, before dispatch and the reconciler start,
// from the thread that owns startup; it blocks on the log's durability.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "storage/message_log.hpp"

namespace storage {

enum class in_doubt_policy : std::uint8_t { mark_unknown, resend };

struct recovery_options {
  in_doubt_policy in_doubt = in_doubt_policy::mark_unknown;
  // How long an accepted part without a validity period waits for its
  // receipt (SMSCs commonly keep messages 48 hours).
  std::chrono::seconds receipt_wait = std::chrono::hours(48);
  std::int64_t now_us = 0;  // 0: the system clock
};

struct recovery_report {
  std::uint64_t open_messages = 0;
  std::vector<part_ref> to_dispatch;   // queued and retrying parts (and in-doubt ones with resend)
  std::uint64_t queued_parts = 0;      // queued or retrying
  std::uint64_t in_doubt_parts = 0;    // submitting: handled by the policy
  std::uint64_t resent_parts = 0;      // in doubt, policy resend
  std::uint64_t marked_unknown = 0;    // in doubt, policy mark_unknown
  std::uint64_t awaiting_receipt = 0;  // accepted, within validity
  std::uint64_t overdue_unknown = 0;   // accepted, past validity: now unknown
  std::map<std::string, campaign_cursor> cursors;  // where each campaign continues
};

// Classifies and settles the open messages. Fails with the log's errors
// (io_error, corrupt_record, closed); what was done before a failure stays
// done and a second run finds the rest.
recovery_report recover(message_log& log, const recovery_options& options, std::error_code& ec);

}  // namespace storage
