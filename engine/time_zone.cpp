#include "engine/time_zone.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

namespace engine {

namespace {

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t year_of(std::int64_t unix_seconds) {
  std::int64_t z = (unix_seconds >= 0 ? unix_seconds : unix_seconds - 86399) / 86400 + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// The local-time instant (seconds since the epoch, as if local were UTC)
// at which `r` fires in year `y`.
std::int64_t rule_local_seconds(const posix_tz::rule& r, std::int64_t y) {
  std::int64_t day;
  if (r.kind == 'M') {
    const std::int64_t first = days_from_civil(y, static_cast<unsigned>(r.month), 1);
    const int wday_first = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
    int d = 1 + ((r.day - wday_first) % 7 + 7) % 7 + (r.week - 1) * 7;
    static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = month_days[r.month - 1] + (r.month == 2 && leap(y));
    while (d > dim) d -= 7;  // week 5 means the last
    day = first + d - 1;
  } else if (r.kind == 'J') {  // 1..365, February 29 never counted
    int n = r.julian;
    if (leap(y) && n >= 60) ++n;
    day = days_from_civil(y, 1, 1) + n - 1;
  } else {  // 0..365, February 29 counted
    day = days_from_civil(y, 1, 1) + r.julian;
  }
  return day * 86400 + r.time;
}

class spec_reader {
 public:
  explicit spec_reader(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  bool take(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  bool name() {  // "EET" or "<+03>"
    if (take('<')) {
      while (!done() && peek() != '>') ++i_;
      return take('>');
    }
    std::size_t start = i_;
    while (!done() && std::isalpha(static_cast<unsigned char>(peek()))) ++i_;
    return i_ - start >= 3;
  }
  std::optional<int> number() {
    std::size_t start = i_;
    int v = 0;
    while (!done() && std::isdigit(static_cast<unsigned char>(peek()))) v = v * 10 + (s_[i_++] - '0');
    if (i_ == start) return std::nullopt;
    return v;
  }
  // [+-]hh[:mm[:ss]] in seconds.
  std::optional<std::int32_t> hms() {
    int sign = 1;
    if (take('-')) sign = -1;
    else take('+');
    auto h = number();
    if (!h) return std::nullopt;
    std::int32_t v = *h * 3600;
    if (take(':')) {
      auto m = number();
      if (!m) return std::nullopt;
      v += *m * 60;
      if (take(':')) {
        auto sec = number();
        if (!sec) return std::nullopt;
        v += *sec;
      }
    }
    return sign * v;
  }
  std::optional<posix_tz::rule> rule() {
    posix_tz::rule r;
    if (take('M')) {
      auto m = number();
      if (!m || !take('.')) return std::nullopt;
      auto w = number();
      if (!w || !take('.')) return std::nullopt;
      auto d = number();
      if (!d || *m < 1 || *m > 12 || *w < 1 || *w > 5 || *d > 6) return std::nullopt;
      r.kind = 'M', r.month = *m, r.week = *w, r.day = *d;
    } else if (take('J')) {
      auto n = number();
      if (!n || *n < 1 || *n > 365) return std::nullopt;
      r.kind = 'J', r.julian = *n;
    } else {
      auto n = number();
      if (!n || *n > 365) return std::nullopt;
      r.kind = 'n', r.julian = *n;
    }
    if (take('/')) {
      auto t = hms();
      if (!t) return std::nullopt;
      r.time = *t;
    }
    return r;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

std::int64_t read_be(std::string_view b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  if (bytes == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

}  // namespace

std::optional<posix_tz> posix_tz::parse(std::string_view spec) {
  spec_reader r(spec);
  posix_tz tz;
  if (!r.name()) return std::nullopt;
  auto std_off = r.hms();
  if (!std_off) return std::nullopt;
  tz.std_offset = -*std_off;  // POSIX counts west of UTC as positive
  if (r.done()) return tz;
  if (!r.name()) return std::nullopt;
  tz.dst_offset = tz.std_offset + 3600;
  if (r.peek() != ',' && !r.done()) {
    auto d = r.hms();
    if (!d) return std::nullopt;
    tz.dst_offset = -*d;
  }
  if (!r.take(',')) return std::nullopt;  // a DST name needs its rules
  auto s = r.rule();
  if (!s || !r.take(',')) return std::nullopt;
  auto e = r.rule();
  if (!e || !r.done()) return std::nullopt;
  tz.start = *s;
  tz.end = *e;
  return tz;
}

std::int32_t posix_tz::offset_at(std::int64_t t) const {
  if (!dst_offset) return std_offset;
  const std::int64_t y = year_of(t + std_offset);
  // Start is given in standard local time, end in daylight local time.
  const std::int64_t start_utc = rule_local_seconds(start, y) - std_offset;
  const std::int64_t end_utc = rule_local_seconds(end, y) - *dst_offset;
  const bool in_dst = start_utc < end_utc ? (t >= start_utc && t < end_utc) : (t >= start_utc || t < end_utc);
  return in_dst ? *dst_offset : std_offset;
}

std::optional<std::int64_t> posix_tz::next_change(std::int64_t t) const {
  if (!dst_offset) return std::nullopt;
  std::optional<std::int64_t> best;
  const std::int64_t y = year_of(t + std_offset);
  for (std::int64_t year = y - 1; year <= y + 1; ++year)
    for (const std::int64_t at : {rule_local_seconds(start, year) - std_offset, rule_local_seconds(end, year) - *dst_offset})
      if (at > t && (!best || at < *best)) best = at;
  return best;
}

std::optional<time_zone> time_zone::from_tzif(std::string_view b) {
  auto header_ok = [&](std::size_t at) { return b.size() >= at + 44 && b.substr(at, 4) == "TZif"; };
  if (!header_ok(0)) return std::nullopt;
  auto counts = [&](std::size_t at, std::int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = read_be(b, at + 20 + 4 * i, 4);
  };
  std::int64_t c[6];
  counts(0, c);
  const char version = b[4];
  int time_size = 4;
  std::size_t at = 44;
  auto block_size = [&](const std::int64_t* k, int ts) {
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    return static_cast<std::size_t>(k[3] * ts + k[3] + k[4] * 6 + k[5] + k[2] * (ts + 4) + k[1] + k[0]);
  };
  if (version >= '2') {
    at += block_size(c, 4);
    if (!header_ok(at)) return std::nullopt;
    counts(at, c);
    at += 44;
    time_size = 8;
  }
  for (auto v : c)
    if (v < 0 || v > 100000) return std::nullopt;
  if (b.size() < at + block_size(c, time_size)) return std::nullopt;
  const std::int64_t timecnt = c[3], typecnt = c[4];
  if (typecnt == 0) return std::nullopt;
  time_zone z;
  const std::size_t times_at = at, idx_at = at + timecnt * time_size, types_at = idx_at + timecnt;
  auto type_offset = [&](std::size_t i) { return static_cast<std::int32_t>(read_be(b, types_at + 6 * i, 4)); };
  for (std::int64_t i = 0; i < timecnt; ++i) {
    const auto type = static_cast<unsigned char>(b[idx_at + i]);
    if (type >= typecnt) return std::nullopt;
    z.transitions_.push_back(read_be(b, times_at + i * time_size, time_size));
    z.offsets_after_.push_back(type_offset(type));
  }
  z.initial_offset_ = type_offset(0);
  if (version >= '2') {
    std::size_t footer = at + block_size(c, time_size);
    if (footer < b.size() && b[footer] == '\n') {
      auto end = b.find('\n', footer + 1);
      if (end != std::string_view::npos && end > footer + 1) z.footer_ = posix_tz::parse(b.substr(footer + 1, end - footer - 1));
    }
  }
  return z;
}

std::optional<time_zone> time_zone::load(std::string_view name, const std::filesystem::path& root) {
  if (name.empty() || name.find("..") != std::string_view::npos || name.front() == '/') return std::nullopt;
  std::ifstream in(root / std::string(name), std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto z = from_tzif(bytes);
  if (z) z->name_ = std::string(name);
  return z;
}

std::int32_t time_zone::offset_at(std::int64_t t) const {
  if (transitions_.empty() || t < transitions_.front()) {
    if (transitions_.empty() && footer_) return footer_->offset_at(t);
    return initial_offset_;
  }
  if (t >= transitions_.back() && footer_) return footer_->offset_at(t);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  return offsets_after_[static_cast<std::size_t>(it - transitions_.begin()) - 1];
}

std::optional<std::int64_t> time_zone::next_change(std::int64_t t) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it != transitions_.end()) return *it;
  if (footer_) return footer_->next_change(t);
  return std::nullopt;
}

int time_zone::minute_of_day(std::chrono::system_clock::time_point t) const {
  const std::int64_t s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  const std::int64_t local = s + offset_at(s);
  return static_cast<int>(((local % 86400) + 86400) % 86400 / 60);
}

std::int64_t opens_at(const send_hours& h, std::int64_t t) {
  if (h.start == h.end || !h.zone) return t;
  // Offsets are constant between changes, so there local time runs with
  // the clock and the window can only open at its start; at a change the
  // local time jumps and may land inside. A window opens within a day
  // plus the changes in between; the bound only guards against a zone
  // that switches every few minutes.
  std::int64_t from = t;
  for (int segment = 0; segment < 32; ++segment) {
    const std::int64_t local = from + h.zone->offset_at(from);
    const std::int64_t second_of_day = ((local % 86400) + 86400) % 86400;
    if (in_window(static_cast<int>(second_of_day / 60), h.start, h.end)) return from;
    const std::int64_t to_start = ((h.start * 60 - second_of_day) % 86400 + 86400) % 86400;
    const auto change = h.zone->next_change(from);
    if (!change || from + to_start < *change) return from + to_start;
    from = *change;
  }
  return from;
}

}  // namespace engine
