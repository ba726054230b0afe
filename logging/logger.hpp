// smppd's log: one logfmt line per event on stderr (systemd's journal
// takes stderr), e.g.
//
//   ts=2026-12-07T01:02:03.456Z level=info component=smsc smsc=opa-1 bind=2 type=transceiver msg="bound"
//
// Use:
//
//   namespace lg = logging;
//   lg::info(lg::component::smsc, "bound", {{"smsc", name}, {"bind", index}});
//   lg::warn(lg::component::dispatch, "rate lowered", {{"smsc", name}, {"rate", 120.5}});
//
// An fprintf(stderr, "smppd: campaign %s: row %llu not recorded: %s\n", ...)
// becomes lg::error(component::campaign, "row not recorded", {{"campaign",
// id}, {"row", row}, {"error", ec}}): a short fixed message, the ids as
// fields, so that lines can be searched and counted by field.
//
// - Levels, most to least severe: error, warn, info, debug. Each
//   component has its level (set_levels; the configuration's `logging`
//   section and --log-level); an event below it costs one relaxed atomic
//   load and nothing else: nothing is formatted. Fields are taken by view,
//   so building them costs next to nothing either (bench/logger_bench: a
//   debug call with six fields while debug is off, 10 ns; formatting the
//   line, 0.65 us; formatting and writing it, 3 us). When a value is
//   expensive to make (a std::string built for the log), ask enabled() first.
// - Field values: strings, integers, floating point, bool and
//   std::error_code (written as its message). Values are quoted when they
//   need it (empty, spaces, '=', '"', '\', control characters) with \" \\ \n
//   \r \t and \u00XX escapes; longer than max_value_size they are cut
//   (ending in "..."). Keys are written as given: use short snake_case
//   literals. The message goes last, always quoted.
// - Secrets never go into a field: config::secret does not convert to a
//   field value, and nothing here reads the configuration.
// - Threads: every function may be called from any thread. A line is
//   formatted in the caller's thread and written under a lock with one
//   write() (more only if the kernel takes part of it): lines never
//   interleave.
//
// Ids worth a field: smsc (the account name), bind (its index in the
// pool), operator, campaign, message (the message id), part, command_status
// (the ESME_* name), error (why something failed).
#pragma once

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace logging {

enum class level : std::uint8_t { error = 0, warn = 1, info = 2, debug = 3 };

enum class component : std::uint8_t {
  main,      // start, stop, signals, systemd
  config,    // reading and reloading the configuration
  smsc,      // binds: connect, bind, unbind, reconnect
  dispatch,  // routing, throttling, submits and their outcomes, receipts
  campaign,  // campaign runners and their control (start, pause, ...)
  api,       // the HTTP API
  storage,   // the message log and recovery
  metrics,   // the metrics endpoint
  replies,   // two-way: customers' replies, keywords, opt-outs, conversations
};
inline constexpr std::size_t component_count = 9;

std::string_view name(level l) noexcept;
std::string_view name(component c) noexcept;
std::optional<level> parse_level(std::string_view s) noexcept;
std::optional<component> parse_component(std::string_view s) noexcept;
// "error, warn, info, debug" and "main, config, ...": for error messages.
std::string_view level_names() noexcept;
std::string_view component_names() noexcept;

// The levels in force: `base` for every component without its own.
struct levels {
  level base = level::info;
  std::array<std::optional<level>, component_count> by_component{};
  bool operator==(const levels&) const = default;
};
void set_levels(const levels& l) noexcept;
levels current_levels() noexcept;
bool enabled(component c, level l) noexcept;

// One field: a key and a value, both viewed (they must outlive the call).
class field {
 public:
  enum class kind : std::uint8_t { text, signed_int, unsigned_int, real, boolean, error_code };
  field(std::string_view key, std::string_view v) noexcept : key_(key), kind_(kind::text), text_(v) {}
  field(std::string_view key, const char* v) noexcept : field(key, std::string_view(v ? v : "")) {}
  field(std::string_view key, const std::string& v) noexcept : field(key, std::string_view(v)) {}
  field(std::string_view key, bool v) noexcept : key_(key), kind_(kind::boolean), u_(v) {}
  template <std::signed_integral I>
  field(std::string_view key, I v) noexcept : key_(key), kind_(kind::signed_int), i_(v) {}
  template <std::unsigned_integral U>
    requires(!std::same_as<U, bool>)
  field(std::string_view key, U v) noexcept : key_(key), kind_(kind::unsigned_int), u_(v) {}
  field(std::string_view key, double v) noexcept : key_(key), kind_(kind::real), d_(v) {}
  field(std::string_view key, std::error_code v) noexcept : key_(key), kind_(kind::error_code), ec_(v) {}

  std::string_view key() const noexcept { return key_; }
  // Appends the value as written in a line (quoted and escaped if needed).
  void append_value(std::string& out) const;

 private:
  std::string_view key_;
  kind kind_;
  std::string_view text_;
  union {
    std::int64_t i_ = 0;
    std::uint64_t u_;
    double d_;
  };
  std::error_code ec_;
};

using fields = std::initializer_list<field>;

// Writes one line when `c` logs at `l`.
void write(component c, level l, std::string_view msg, fields f = {});
inline void error(component c, std::string_view msg, fields f = {}) { write(c, level::error, msg, f); }
inline void warn(component c, std::string_view msg, fields f = {}) { write(c, level::warn, msg, f); }
inline void info(component c, std::string_view msg, fields f = {}) { write(c, level::info, msg, f); }
inline void debug(component c, std::string_view msg, fields f = {}) { write(c, level::debug, msg, f); }

// ---- for tests and for tools ----------------------------------------

inline constexpr std::size_t max_value_size = 2048;

// The line write() would write at `at` (with its newline), whatever the levels.
std::string format(component c, level l, std::string_view msg, fields f,
                   std::chrono::system_clock::time_point at);
// Appends one value in logfmt form: bare when it can be, else quoted and escaped.
void append_quoted(std::string& out, std::string_view value);
// Where lines go: a file descriptor (2, stderr, unless changed).
void set_output(int fd) noexcept;

}  // namespace logging
