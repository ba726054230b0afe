// smppd's configuration: the YAML file read into plain structs, validated
// as a whole. Every problem found is reported, each naming the file, line
// and column, the key's path ("smscs[1].window") and what was expected;
// nothing is applied from a file with errors.
//
// Secrets (bind passwords) come from "${ENV_VAR}" references, which work
// in any string value, or from a sibling "<key>_file" naming a file whose
// content (one trailing newline dropped) is the value. A secret's value is
// never part of an error message, and the secret type prints as "***".
//
// The only place yaml-cpp appears; knows nothing of the other folders but
// logging (for the names of its levels and components).
// Pure functions of their input (and of the environment and the files a
// config names); any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "logging/logger.hpp"

namespace config {

// A value that must never be printed: no stream operator shows it.
class secret {
 public:
  secret() = default;
  explicit secret(std::string v) : value_(std::move(v)) {}
  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  friend std::ostream& operator<<(std::ostream& os, const secret&) { return os << "***"; }
  bool operator==(const secret&) const = default;

 private:
  std::string value_;
};

struct endpoint {
  std::string host;  // as written; IPv6 without brackets
  std::uint16_t port = 0;
  bool operator==(const endpoint&) const = default;
};

enum class sync_mode : std::uint8_t { always, interval, never };
enum class in_doubt_policy : std::uint8_t { mark_unknown, resend };

struct node_config {
  std::filesystem::path data_dir = "/var/lib/smppd";
  sync_mode sync = sync_mode::interval;
  std::chrono::milliseconds sync_interval{10};  // with sync: every_<duration>
  in_doubt_policy in_doubt = in_doubt_policy::mark_unknown;
  std::chrono::seconds retention{std::chrono::hours(24 * 90)};  // terminal messages kept this long
  std::chrono::seconds orphan_receipts{std::chrono::hours(24)};  // unclaimed receipts kept this long
  // The message log's memory: its memtables together (most of the
  // daemon's size) and its block cache, in MiB.
  std::size_t log_memtables_mib = 96;
  std::size_t log_cache_mib = 16;
  bool operator==(const node_config&) const = default;
};

// Temporary failures (ESME_RTHROTTLED, ESME_RSYSERR, ...) and, with
// in_doubt: resend, parts in doubt are sent again: after first_delay,
// then each time twice as long, at most max_delay apart, until a part has
// had `attempts` submits (or its validity ends first).
struct retry_config {
  std::uint32_t attempts = 5;
  std::chrono::milliseconds first_delay{std::chrono::seconds(2)};
  std::chrono::milliseconds max_delay{std::chrono::minutes(5)};
  bool operator==(const retry_config&) const = default;
};

struct api_config {
  endpoint listen{"127.0.0.1", 8080};
  std::filesystem::path tokens_file;  // empty: no tokens (loopback only)
  std::size_t max_batch = 1000;       // messages per POST /v1/messages
  std::size_t max_body_bytes = 1 << 20;
};

struct metrics_config {
  endpoint listen{"127.0.0.1", 9464};
};

enum class bind_mode : std::uint8_t { transceiver, tx_rx, transmitter };
enum class long_message_mode : std::uint8_t { udh, udh16, sar, payload };
enum class gsm7_layout : std::uint8_t { unpacked, packed };
enum class receipt_id_format : std::uint8_t { automatic, decimal, hex, string };
enum class dc0_meaning : std::uint8_t { gsm7, latin1, ascii };

struct tls_config {
  bool enabled = false;
  bool verify = true;
  std::string ca_file;
  std::string server_name;
  bool operator==(const tls_config&) const = default;
};

struct smsc_config {
  std::string name;
  std::string host;
  std::uint16_t port = 2775;
  std::string system_id;
  secret password;
  std::string system_type;
  std::uint8_t addr_ton = 0, addr_npi = 0;
  std::string address_range;
  bind_mode bind = bind_mode::transceiver;
  unsigned binds = 1;
  unsigned window = 64;
  double tps = 0;  // submits per second over all binds; 0: no limit of ours
  std::chrono::seconds enquire_link{30};
  std::chrono::milliseconds response_timeout{10000};
  std::chrono::milliseconds reconnect_initial{1000};
  std::chrono::milliseconds reconnect_max{60000};
  std::chrono::seconds already_bound_wait{60};
  long_message_mode long_messages = long_message_mode::udh;
  gsm7_layout gsm7_packing = gsm7_layout::unpacked;
  dc0_meaning data_coding_0 = dc0_meaning::gsm7;
  receipt_id_format receipt_ids = receipt_id_format::automatic;
  tls_config tls;
  bool operator==(const smsc_config&) const = default;
};

struct operator_route {
  std::string smsc;
  unsigned weight = 1;
  bool operator==(const operator_route&) const = default;
};

struct operator_config {
  std::string name;
  std::vector<std::string> prefixes;  // E.164 with '+': "+3706"
  std::vector<operator_route> smscs;
  double tps = 0;  // 0: no limit of ours
  bool operator==(const operator_config&) const = default;
};

struct numbering_config {
  std::string default_country_code;  // digits, for numbers written without one
  std::string trunk_prefix = "0";    // what national numbers start with ("8" in Lithuania)
  // Recipients' time zones by E.164 prefix ("+1212" -> America/New_York),
  // on top of smppd's own table; the longest prefix wins.
  std::vector<std::pair<std::string, std::string>> time_zones;
  std::string default_time_zone = "UTC";  // for numbers no prefix places
};

// Send windows name a zone or this word: each recipient's own zone.
inline constexpr std::string_view recipient_zone = "recipient";

struct send_window {
  std::chrono::minutes start{0};
  std::chrono::minutes end{24 * 60};
  std::string timezone{recipient_zone};  // an IANA name, or "recipient"
  // With timezone: recipient, for numbers no prefix places; "" means
  // numbering.default_time_zone.
  std::string fallback_timezone;
  bool operator==(const send_window&) const = default;
};

enum class campaign_start : std::uint8_t { automatic, manual };

// Who agreed to receive a campaign: a recipient is sent to only when a
// source names them (either is enough when both are set).
struct consent_rule {
  // A column of the recipients file: yes, y, true, 1 or x (any case) is
  // consent; anything else, empty included, is not.
  std::string column;
  // A file of numbers that opted in, one per line (any form the numbering
  // settings read; '#' starts a comment).
  std::filesystem::path list;
  bool operator==(const consent_rule&) const = default;
};

struct campaign_config {
  std::string id;
  campaign_start start = campaign_start::automatic;  // manual: waits for a start command
  std::filesystem::path recipients;  // CSV with a header row
  std::string from;
  std::string text;  // a template: {{field}} or {{field|default}}
  std::optional<send_window> window;
  double tps = 0;
  bool receipts = true;
  std::chrono::seconds validity{0};  // 0: the SMSC's default
  // Each message opens a conversation: sent from a two_way.reply_numbers
  // number with a reference code ("#REF" in the text places it), so that
  // replies and YES/NO answers are tied to it.
  bool expects_reply = false;
  std::optional<consent_rule> consent;  // set: only recipients with consent are sent to
  // Sent once (per two_way.auto_ack.period) to a customer whose reply is
  // matched to a conversation of this campaign; "": the number's or the
  // general text (two_way.auto_ack).
  std::string auto_ack;
  // Each message not delivered this long after it was queued raises
  // undelivered_by_deadline for the webhooks that ask (0: no deadline).
  std::chrono::milliseconds deliver_within{0};
  bool operator==(const campaign_config&) const = default;
};

// Two-way messaging: customers' keywords and what is answered, per
// language ("en", "ru", "lt", ...). A language configured replaces that
// language's defaults whole; the others keep theirs.
struct keyword_set {
  std::vector<std::string> opt_out;  // STOP: the number goes on the suppression list
  std::vector<std::string> opt_in;   // START: off it again
  std::vector<std::string> help;     // HELP: answered with help_text
  std::vector<std::string> yes;      // answers to a question: a structured "yes" on the conversation
  std::vector<std::string> no;
  std::string opt_out_text;          // the one confirmation of an opt-out
  std::string opt_in_text;
  std::string help_text;
  bool operator==(const keyword_set&) const = default;
};

// Where two-way events go (README "Two-way messaging"): a team tool's
// incoming webhook (Slack, Teams) or any receiver of signed JSON.
enum class webhook_format : std::uint8_t { slack, teams, json };
// reply, opt_out, opt_in: two-way events (the default list). delivered,
// failed (another final state), undelivered_by_deadline (a message's
// deliver_within passed first): sent only to webhooks that list them.
enum class webhook_event : std::uint8_t { reply, opt_out, opt_in, delivered, failed, undelivered_by_deadline };
struct webhook_config {
  std::string name;
  std::string url;      // http:// or https://host[:port]/path
  std::string ca_file;  // https: the CAs to trust ("": the system's)
  webhook_format format = webhook_format::json;
  secret signing_secret;  // json only: HMAC-SHA256 key; empty: unsigned
  std::vector<webhook_event> events{webhook_event::reply, webhook_event::opt_out, webhook_event::opt_in};
  // Only replies in conversations of these campaigns, and only these
  // campaigns' message events ("api": messages sent through the API);
  // empty: all. Opt-outs and opt-ins concern every campaign: never
  // filtered.
  std::vector<std::string> campaigns;
  bool operator==(const webhook_config&) const = default;
};

// Auto-acknowledgement of replies people write ("Thanks, we got your
// message; an agent will reply within 15 minutes"). The text is the
// matched conversation's campaign's (campaign_config::auto_ack), else the
// one for the number the customer wrote to, else `text`; none: no
// acknowledgement. Never for keywords, answers to a question, or what
// looks like an automatic reply (README "Two-way messaging").
struct auto_ack_config {
  std::string text;
  // By our number as written in the file (compared by its digits, a
  // leading "00" dropped, like every two-way number).
  std::map<std::string, std::string> numbers;
  std::chrono::milliseconds period{std::chrono::hours(24)};  // at most one per customer this long
  // No acknowledgement to a reply this soon after we sent the customer an
  // acknowledgement or a keyword's answer (another machine answering ours).
  std::chrono::milliseconds loop_guard{std::chrono::seconds(60)};
  bool operator==(const auto_ack_config&) const = default;
};

struct two_way_config {
  std::map<std::string, keyword_set> languages;  // defaults: en, ru, lt
  // A concatenated reply whose parts have not all come by then is kept
  // with what arrived.
  std::chrono::milliseconds reassembly_timeout{std::chrono::minutes(5)};
  // The same content from the same customer to the same number within
  // this long is the SMSC delivering it again: stored once.
  std::chrono::milliseconds redelivery_window{std::chrono::minutes(10)};
  // Senders for messages that expect replies: a customer gets each open
  // conversation from a different one, so the number they answer names it.
  std::vector<std::string> reply_numbers;
  // A conversation matches replies this long after its message.
  std::chrono::milliseconds conversation_window{std::chrono::hours(72)};
  std::vector<webhook_config> webhooks;
  // A failed delivery is tried again after base, 2*base, 4*base, ...
  // (at most max apart); after `attempts` tries it is a dead letter.
  std::chrono::milliseconds webhook_retry_base{std::chrono::seconds(1)};
  std::chrono::milliseconds webhook_retry_max{std::chrono::minutes(5)};
  int webhook_attempts = 10;
  auto_ack_config auto_ack;
  // Replies, conversations (by their last activity), opt-out entries of
  // customers who opted in again and webhook dead letters older than
  // this are removed; 0 keeps them. Left out: node.retention. Opt-out
  // entries of customers opted out are kept for ever.
  std::chrono::seconds reply_retention{std::chrono::hours(24 * 90)};
  bool operator==(const two_way_config&) const = default;
};
two_way_config default_two_way();

struct settings {
  node_config node;
  api_config api;
  metrics_config metrics;
  // logging: { level: info, components: { smsc: debug, api: warn } };
  // a level or component name not known is an error.
  logging::levels log_levels;
  std::vector<smsc_config> smscs;
  std::vector<operator_config> operators;
  std::string default_operator;
  numbering_config numbering;
  retry_config retry;
  std::vector<campaign_config> campaigns;
  two_way_config two_way = default_two_way();

  const smsc_config* smsc(std::string_view name) const noexcept;
  const operator_config* find_operator(std::string_view name) const noexcept;
};

struct config_error {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem has no place in the file
  int column = 0;  // 1-based
  std::string key;      // "smscs[0].port"; "" for the document
  std::string message;  // what is wrong and what was expected
  // "smppd.yaml:12:9: smscs[0].port: expected a port number 1-65535, got \"http\""
  std::string to_string() const;
};

struct load_result {
  std::optional<settings> value;    // set only when errors is empty
  std::vector<config_error> errors;
};

// Reads and validates a configuration file. Relative paths inside it
// (recipients, *_file, data_dir) are taken relative to the file's folder.
load_result load_file(const std::filesystem::path& file);

// One campaign alone (YAML or JSON, as under `campaigns:`), for campaigns
// created through the API; errors as for a file.
struct campaign_result {
  std::optional<campaign_config> value;
  std::vector<config_error> errors;
};
campaign_result load_campaign(std::string_view text, std::string_view name, const std::filesystem::path& base_dir);
// The same for YAML text; `name` stands for the file in errors and
// `base_dir` resolves relative paths.
load_result load_text(std::string_view yaml, std::string_view name,
                      const std::filesystem::path& base_dir = ".");

// "24h", "30s", "1500ms", "5m", "7d" (one number, one unit).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

std::string_view name(bind_mode m) noexcept;
std::string_view name(sync_mode m) noexcept;
std::string_view name(in_doubt_policy p) noexcept;

}  // namespace config
