// The life of a message and of each of its parts in the message log, and
// the one table of legal transitions (DESIGN.md, "A message's life"):
//
//   queued -> submitting -> accepted -> delivered | undeliverable | expired
//                                       | rejected | deleted | unknown
//   side exits: retrying (temporary SMSC error, scheduled again),
//               failed (permanent error), suppressed (opted out, duplicate,
//               past its deadline), cancelled.
//
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace storage {

enum class state : std::uint8_t {
  queued = 0,
  submitting = 1,  // written to a socket, no resp yet ("in doubt" after a crash)
  accepted = 2,    // submit_sm_resp OK; waiting for the receipt
  retrying = 3,    // temporary failure; will be submitted again
  delivered = 4,
  undeliverable = 5,
  expired = 6,
  rejected = 7,
  deleted = 8,
  unknown = 9,     // the outcome cannot be known (a later receipt may still settle it)
  failed = 10,     // permanent error from the SMSC or on our side
  suppressed = 11, // never sent: opted out, duplicate, outside allowed hours past its deadline
  cancelled = 12,
};
inline constexpr std::size_t state_count = 13;

std::string_view name(state s) noexcept;

// No further transition is expected (unknown may still be refined by a
// late receipt, see check_transition).
bool is_terminal(state s) noexcept;

enum class transition : std::uint8_t {
  applied,    // a legal change
  unchanged,  // from == to: a duplicate event (a repeated resp or receipt), nothing to do
  illegal,    // must not be applied; count it and log both states
};

transition check_transition(state from, state to) noexcept;

// A message's state from its parts' states. While any part is in flight,
// the message is as far as its least advanced part (queued < retrying <
// submitting < accepted). Once all parts are final, it is delivered only
// if every part is; otherwise it takes the most severe outcome among its
// parts, in this order: failed, rejected, undeliverable, expired, deleted,
// unknown, cancelled, suppressed. (A text whose second half was never
// delivered is not delivered, and the reason shown is the worst one.)
state derive_message_state(std::span<const state> parts) noexcept;

}  // namespace storage
