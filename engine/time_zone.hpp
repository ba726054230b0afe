// Local time in a named time zone, for campaigns' send windows ("09:00 to
// 20:00 Europe/Vilnius"), read from the system's tzdata (TZif files,
// RFC 8536): the transition table, and the POSIX TZ rule of the file's
// footer for instants after the last transition ("slim" files stop
// listing transitions once a rule describes them).
//
// Loaded once per campaign; offset_at() is const and thread-safe.
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
};

class time_zone {
 public:
  // Reads /usr/share/zoneinfo/NAME (or `root`/NAME); nullopt if missing or malformed.
  static std::optional<time_zone> load(std::string_view name,
                                       const std::filesystem::path& root = "/usr/share/zoneinfo");
  static std::optional<time_zone> from_tzif(std::string_view bytes);

  // Seconds east of UTC at that instant.
  std::int32_t offset_at(std::int64_t unix_seconds) const;
  // Minutes since local midnight at that instant.
  int minute_of_day(std::chrono::system_clock::time_point t) const;

 private:
  std::vector<std::int64_t> transitions_;
  std::vector<std::int32_t> offsets_after_;  // offset in force from transitions_[i]
  std::int32_t initial_offset_ = 0;
  std::optional<posix_tz> footer_;
};

// Is `minute` (of the local day) inside [start, end)? A window whose end
// is before its start runs past midnight (22:00-06:00).
inline bool in_window(int minute, int start, int end) {
  if (start == end) return true;
  return start < end ? (minute >= start && minute < end) : (minute >= start || minute < end);
}

}  // namespace engine
