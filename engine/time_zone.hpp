// Local time in a named time zone, for send windows ("09:00 to 20:00 in
// the recipient's zone"), read from the system's tzdata (TZif files,
// RFC 8536): the transition table, and the POSIX TZ rule of the file's
// footer for instants after the last transition ("slim" files stop
// listing transitions once a rule describes them).
//
// Zones are loaded once and kept (recipient_zone.hpp); every const member
// is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engine {

// A POSIX TZ rule such as "EET-2EEST,M3.5.0/3,M10.5.0/4".
struct posix_tz {
  std::int32_t std_offset = 0;  // seconds east of UTC
  std::optional<std::int32_t> dst_offset;
  struct rule {  // Mm.w.d/time, Jn/time or n/time
    char kind = 'M';
    int month = 0, week = 0, day = 0;  // M form
    int julian = 0;                    // J and n forms
    std::int32_t time = 7200;          // seconds after local midnight
  };
  rule start, end;

  static std::optional<posix_tz> parse(std::string_view spec);
  std::int32_t offset_at(std::int64_t unix_seconds) const;
  // The first daylight-saving switch after that instant; none without DST.
  std::optional<std::int64_t> next_change(std::int64_t unix_seconds) const;
};

class time_zone {
 public:
  // Reads /usr/share/zoneinfo/NAME (or `root`/NAME); nullopt if missing or malformed.
  static std::optional<time_zone> load(std::string_view name,
                                       const std::filesystem::path& root = "/usr/share/zoneinfo");
  static std::optional<time_zone> from_tzif(std::string_view bytes);

  // The name it was loaded by ("" from bytes).
  const std::string& name() const noexcept { return name_; }
  // Seconds east of UTC at that instant.
  std::int32_t offset_at(std::int64_t unix_seconds) const;
  // Minutes since local midnight at that instant.
  int minute_of_day(std::chrono::system_clock::time_point t) const;
  // The first instant after `unix_seconds` at which the offset may change
  // (a listed transition or the footer's next switch); none when it never will.
  std::optional<std::int64_t> next_change(std::int64_t unix_seconds) const;

 private:
  std::vector<std::int64_t> transitions_;
  std::vector<std::int32_t> offsets_after_;  // offset in force from transitions_[i]
  std::int32_t initial_offset_ = 0;
  std::optional<posix_tz> footer_;
  std::string name_;
};

// Is `minute` (of the local day) inside [start, end)? A window whose end
// is before its start runs past midnight (22:00-06:00).
inline bool in_window(int minute, int start, int end) {
  if (start == end) return true;
  return start < end ? (minute >= start && minute < end) : (minute >= start || minute < end);
}

// A message's send window: [start, end) in minutes of the local day in
// `zone` (crossing midnight when end < start; start == end: always open).
struct send_hours {
  const time_zone* zone = nullptr;  // never null in a window that is set
  std::int16_t start = 0, end = 0;
  bool operator==(const send_hours&) const = default;
};

// The first instant at or after `unix_seconds` inside the window: the
// instant itself when inside. Local time follows the zone's offsets, so a
// start that a spring-forward skips opens the window at the switch, and
// an hour that autumn repeats counts twice.
std::int64_t opens_at(const send_hours& h, std::int64_t unix_seconds);

}  // namespace engine
