// A campaign's control state as the pipeline sees it: the campaign's
// runner and the dispatcher read it for every message (one relaxed load);
// the campaign manager changes it (any thread) and then tells both.
//
//   waiting   configured with `start: manual`, not started yet
//   running
//   paused    no rows are read; its messages already queued are held
//   cancelled no rows are read; its messages not yet sent are cancelled
//
// A gate lives as long as the daemon (messages point at it).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace engine {

enum class campaign_state : std::uint8_t { waiting, running, paused, cancelled };

std::string_view name(campaign_state s) noexcept;
std::optional<campaign_state> parse_campaign_state(std::string_view s) noexcept;

struct campaign_gate {
  explicit campaign_gate(std::string campaign_id, campaign_state initial)
      : id(std::move(campaign_id)), state(initial) {}
  const std::string id;
  std::atomic<campaign_state> state;

  campaign_state get() const noexcept { return state.load(std::memory_order_acquire); }
  // Its messages must wait (not started, or paused).
  bool holds() const noexcept {
    const auto s = get();
    return s == campaign_state::waiting || s == campaign_state::paused;
  }
  bool cancelled() const noexcept { return get() == campaign_state::cancelled; }
};

}  // namespace engine
