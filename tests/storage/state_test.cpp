#include "storage/state.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using storage::check_transition;
using storage::derive_message_state;
using storage::state;
using storage::transition;
using enum storage::state;

struct transition_row {
  state from, to;
  transition expected;
};

// Every legal transition of DESIGN.md, and the illegal ones that matter
// most in the field (a receipt reviving a failed part, a resp after a
// receipt, a resent part going back to queued).
const std::vector<transition_row>& rows() {
  static const std::vector<transition_row> r = {
      {queued, submitting, transition::applied},
      {queued, suppressed, transition::applied},
      {queued, cancelled, transition::applied},
      {queued, failed, transition::applied},
      {submitting, accepted, transition::applied},
      {submitting, retrying, transition::applied},
      {submitting, failed, transition::applied},
      {submitting, unknown, transition::applied},
      {submitting, delivered, transition::applied},  // in doubt, settled by its receipt
      {retrying, submitting, transition::applied},
      {retrying, failed, transition::applied},
      {retrying, suppressed, transition::applied},
      {retrying, cancelled, transition::applied},
      {accepted, delivered, transition::applied},
      {accepted, undeliverable, transition::applied},
      {accepted, expired, transition::applied},
      {accepted, rejected, transition::applied},
      {accepted, deleted, transition::applied},
      {accepted, unknown, transition::applied},
      {unknown, delivered, transition::applied},  // a late receipt
      {delivered, delivered, transition::unchanged},  // a duplicate receipt
      {accepted, accepted, transition::unchanged},    // a repeated resp
      {queued, accepted, transition::illegal},
      {queued, delivered, transition::illegal},
      {accepted, submitting, transition::illegal},
      {accepted, queued, transition::illegal},
      {delivered, undeliverable, transition::illegal},
      {failed, delivered, transition::illegal},
      {failed, submitting, transition::illegal},
      {suppressed, submitting, transition::illegal},
      {cancelled, submitting, transition::illegal},
      {unknown, failed, transition::illegal},
      {retrying, accepted, transition::illegal},
  };
  return r;
}

TEST(state, applies_only_the_transitions_of_the_design) {
  for (const auto& r : rows()) {
    SCOPED_TRACE(std::string(name(r.from)) + " -> " + std::string(name(r.to)));
    EXPECT_EQ(check_transition(r.from, r.to), r.expected);
  }
}

TEST(state, never_leaves_a_final_state_except_unknown) {
  for (std::size_t f = 0; f < storage::state_count; ++f) {
    const auto from = static_cast<state>(f);
    if (!storage::is_terminal(from) || from == unknown) continue;
    for (std::size_t t = 0; t < storage::state_count; ++t) {
      const auto to = static_cast<state>(t);
      SCOPED_TRACE(std::string(name(from)) + " -> " + std::string(name(to)));
      EXPECT_NE(check_transition(from, to), transition::applied);
    }
  }
}

TEST(state, names_every_state) {
  for (std::size_t i = 0; i < storage::state_count; ++i)
    EXPECT_NE(name(static_cast<state>(i)), "invalid");
  EXPECT_EQ(name(static_cast<state>(200)), "invalid");
  EXPECT_EQ(check_transition(static_cast<state>(200), queued), transition::illegal);
}

struct derive_row {
  const char* note;
  std::vector<state> parts;
  state expected;
};

TEST(state, derives_a_message_state_from_its_parts) {
  const std::vector<derive_row> table = {
      {"one part", {delivered}, delivered},
      {"all parts delivered", {delivered, delivered, delivered}, delivered},
      {"one part still accepted", {delivered, accepted}, accepted},
      {"least advanced part in flight", {accepted, submitting, queued}, queued},
      {"retrying is behind submitting", {submitting, retrying}, retrying},
      {"a part undelivered", {delivered, undeliverable}, undeliverable},
      {"failed beats rejected", {rejected, failed, delivered}, failed},
      {"unknown part", {delivered, unknown}, unknown},
      {"expired beats deleted", {deleted, expired}, expired},
      {"whole message suppressed", {suppressed, suppressed}, suppressed},
      {"no parts yet", {}, queued},
  };
  for (const auto& r : table) {
    SCOPED_TRACE(r.note);
    EXPECT_EQ(derive_message_state(r.parts), r.expected);
  }
}

}  // namespace
