// Which time zone a recipient is in, for send windows kept in the
// recipient's local time: smppd's own table of E.164 country codes (and a
// few longer prefixes) to IANA zones, the configuration's prefixes on top
// (numbering.time_zones), the longest prefix winning.
//
// The table places a number only where its prefix says the zone for sure:
// a country or territory that keeps one official clock. A code shared by
// places with different clocks is left out and its numbers fall back (to
// the window's fallback_timezone or numbering.default_time_zone): North
// America's +1 (its single-zone Caribbean and Pacific members are listed
// by area code), Russia and Kazakhstan's +7, Brazil, Mexico, Australia,
// Indonesia, Chile, Ecuador, Spain (the Canary Islands), Portugal (the
// Azores), New Zealand (the Chatham Islands), and the others named in
// recipient_zone.cpp. A mobile number says nothing of where its owner is
// now (roaming, a number kept after a move): the zone is the number's home.
//
// Zones are read from tzdata once per process and kept for its life, so
// pointers to them stay valid across reloads. Every function and const
// member may be called from any thread.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/time_zone.hpp"

namespace engine {

// The zone by IANA name (read once, kept); null when the system has no
// such zone.
const time_zone* cached_zone(std::string_view name);

struct builtin_zone {
  std::string_view prefix;  // "+370"
  std::string_view zone;    // "Europe/Vilnius"
};
std::span<const builtin_zone> builtin_zones();

class zone_table {
 public:
  // smppd's table with `overrides` (prefix, zone name) on top and the zone
  // for numbers nothing places. Names the system lacks are skipped (the
  // configuration checked its own; `missing` lists them).
  zone_table(const std::vector<std::pair<std::string, std::string>>& overrides, std::string_view default_zone,
             std::vector<std::string>* missing = nullptr);

  // The zone of an E.164 number ("+37061234567") by its longest listed
  // prefix; null when none places it.
  const time_zone* find(std::string_view e164) const;
  const time_zone* default_zone() const noexcept { return default_; }

 private:
  std::map<std::string, const time_zone*, std::less<>> by_prefix_;
  std::size_t longest_ = 0;
  const time_zone* default_ = nullptr;
};

// A campaign's send window, its zones resolved once: either one zone for
// everyone or each recipient's own (with a fallback).
class window_rule {
 public:
  // `zone` is an IANA name or "recipient"; `fallback` ("" for the table's
  // default) applies to recipients the table cannot place. nullopt, with
  // `error`, when a named zone does not load.
  static std::optional<window_rule> make(int start_minute, int end_minute, std::string_view zone,
                                         std::string_view fallback, std::string& error);
  send_hours for_recipient(std::string_view e164, const zone_table& zones) const;

 private:
  std::int16_t start_ = 0, end_ = 0;
  const time_zone* fixed_ = nullptr;     // one zone for all; null: the recipient's
  const time_zone* fallback_ = nullptr;  // null: the table's default
};

}  // namespace engine
