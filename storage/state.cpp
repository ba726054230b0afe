#include "storage/state.hpp"

#include <array>

namespace storage {

namespace {

using enum state;

constexpr std::array<std::string_view, state_count> names = {
    "queued",  "submitting", "accepted", "retrying", "delivered",  "undeliverable", "expired",
    "rejected", "deleted",   "unknown",  "failed",   "suppressed", "cancelled"};

// legal[from][to]: built once from the rules below, so the rules read as
// sentences rather than as a 13x13 grid of booleans.
constexpr auto build_table() {
  std::array<std::array<bool, state_count>, state_count> t{};
  auto allow = [&](state from, state to) {
    t[static_cast<std::size_t>(from)][static_cast<std::size_t>(to)] = true;
  };
  // A queued part is submitted, or never sent at all.
  for (state to : {submitting, suppressed, cancelled, failed}) allow(queued, to);
  // A submitted part gets its resp (accepted, retrying, failed), or is in
  // doubt and settled by policy (retrying for `resend`, unknown for
  // `mark_unknown`) or straight by its receipt.
  for (state to : {accepted, retrying, failed, delivered, undeliverable, expired, rejected,
                   deleted, unknown})
    allow(submitting, to);
  // A retrying part goes out again, runs out of attempts or validity, or
  // is stopped.
  for (state to : {submitting, failed, suppressed, cancelled}) allow(retrying, to);
  // An accepted part is settled by its receipt (or, past its validity with
  // no receipt, becomes unknown).
  for (state to : {delivered, undeliverable, expired, rejected, deleted, unknown})
    allow(accepted, to);
  // A late receipt settles a part whose outcome was unknown.
  for (state to : {delivered, undeliverable, expired, rejected, deleted}) allow(unknown, to);
  return t;
}

constexpr auto legal = build_table();

// Severity of final outcomes for derive_message_state (higher wins).
constexpr int severity(state s) noexcept {
  switch (s) {
    case failed: return 8;
    case rejected: return 7;
    case undeliverable: return 6;
    case expired: return 5;
    case deleted: return 4;
    case unknown: return 3;
    case cancelled: return 2;
    case suppressed: return 1;
    default: return 0;
  }
}

// Progress of in-flight states (lower is less advanced).
constexpr int progress(state s) noexcept {
  switch (s) {
    case queued: return 0;
    case retrying: return 1;
    case submitting: return 2;
    case accepted: return 3;
    default: return 4;
  }
}

}  // namespace

std::string_view name(state s) noexcept {
  const auto i = static_cast<std::size_t>(s);
  return i < names.size() ? names[i] : std::string_view("invalid");
}

bool is_terminal(state s) noexcept {
  return s != queued && s != submitting && s != accepted && s != retrying;
}

transition check_transition(state from, state to) noexcept {
  if (from == to) return transition::unchanged;
  const auto f = static_cast<std::size_t>(from), t = static_cast<std::size_t>(to);
  if (f >= state_count || t >= state_count) return transition::illegal;
  return legal[f][t] ? transition::applied : transition::illegal;
}

state derive_message_state(std::span<const state> parts) noexcept {
  if (parts.empty()) return queued;
  bool in_flight = false;
  state least = accepted, worst = delivered;
  for (state p : parts) {
    if (!is_terminal(p)) {
      if (!in_flight || progress(p) < progress(least)) least = p;
      in_flight = true;
    } else if (severity(p) > severity(worst)) {
      worst = p;
    }
  }
  return in_flight ? least : worst;
}

}  // namespace storage
