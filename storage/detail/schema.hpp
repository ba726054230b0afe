// The layout of the message log's RocksDB database: column families, key
// and value forms, shared by the writer (message_log), the reconciler and
// the reader (log_reader). Inside storage/ only. Pure functions; any thread.
//
//   column family  key                                         value
//   messages       id (8 BE)                                   record (record.hpp)
//   open           id                                          "" while a part is in flight
//                  "watermark"                                 id (8 BE): every message up to
//                                                              it that is open has its entry
//                                                              (newer ones get theirs once open
//                                                              for a while: message_log.hpp)
//   smsc_ids       smsc NUL id key (message_id.hpp)            id + part (8 + 2 BE)
//   recipients     address NUL queued_us (8 BE) id (8 BE)      ""
//   idempotency    idempotency key                             id (8 BE)
//   in_doubt       smsc NUL address NUL submitted_us id part   ""   (unknown parts
//                                                                    that never got a resp)
//   stats          'c' campaign | 's' smsc                     stats (below)
//   campaigns      campaign                                    cursor (below)
//   orphans        parked_us (8 BE) seq (8 BE)                 parked receipt (below)
//   replies        'r' id (8 BE)                               reply record (reply_store.hpp)
//                  'c' address NUL received_us (8 BE) id       ""  (a customer's replies)
//   inbound        'p' received_us (8 BE) seq (8 BE)           a received part waiting for
//                                                              the rest of its message
//                  's' smsc NUL part content                   received_us (8 BE): parts
//                                                              seen lately (redeliveries)
//   suppression    address                                     opt-out entry (reply_store.hpp)
//   deadlines      deliver_by_us (8 BE) id (8 BE)              ""  (messages with a delivery
//                                                              deadline, not delivered yet)
//
// replies, inbound and suppression came with two-way messaging, deadlines
// with message events: a database written by an older smppd lacks them
// until it is opened for writing (the writer creates them; the reader
// opens those present).
//
// Addresses are keyed by their digits only, without a leading "00", so
// that "+37060012345", "0037060012345" and "37060012345" (what a receipt
// or a reply carries with TON international) are one key.
//
// Ids grow with time (the engine numbers messages in the order it accepts
// them), so a range of ids is a range of time; retention deletes runs of
// old records with DeleteRange.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "storage/latency_histogram.hpp"
#include "storage/message_id.hpp"
#include "storage/record.hpp"
#include "storage/reply_store.hpp"
#include "storage/state.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Status;
}  // namespace rocksdb

namespace storage::detail {

enum cf : std::size_t {
  cf_default = 0,
  cf_messages,
  cf_open,
  cf_smsc_ids,
  cf_recipients,
  cf_idempotency,
  cf_in_doubt,
  cf_stats,
  cf_campaigns,
  cf_orphans,
  cf_replies,
  cf_inbound,
  cf_suppression,
  cf_deadlines,
  cf_count
};
// "default" is RocksDB's kDefaultColumnFamilyName, which must exist.
inline constexpr std::array<const char*, cf_count> cf_names = {
    "default",     "messages", "open",  "smsc_ids",  "recipients",
    "idempotency", "in_doubt", "stats", "campaigns", "orphans",
    "replies",     "inbound",  "suppression", "deadlines"};

// An open database and its column families (owned by whoever opened it).
// A reader of a database an older smppd wrote has null handles for the
// families that did not exist yet.
struct db_handles {
  rocksdb::DB* db = nullptr;
  std::array<rocksdb::ColumnFamilyHandle*, cf_count> cfs{};
};

std::error_code to_error(const rocksdb::Status& s) noexcept;

std::string id_key(std::uint64_t id);
std::string smsc_index_key(std::string_view smsc, std::string_view id_key);
std::string part_value(std::uint64_t id, std::uint16_t part);
bool read_part_value(std::string_view v, std::uint64_t& id, std::uint16_t& part) noexcept;

// The open column family's one key that is not an id (9 octets).
inline constexpr std::string_view open_watermark_key = "watermark";

std::string deadline_key(std::int64_t deliver_by_us, std::uint64_t id);

// Digits only, leading "00" dropped; empty when there are no digits.
std::string address_key(std::string_view address);
std::string recipient_prefix(std::string_view address_key);
std::string recipient_key(std::string_view address_key, std::int64_t queued_us, std::uint64_t id);
std::string in_doubt_prefix(std::string_view smsc, std::string_view address_key);
std::string in_doubt_key(std::string_view smsc, std::string_view address_key,
                         std::int64_t submitted_us, std::uint64_t id, std::uint16_t part);
// The key a part was indexed under in smsc_ids, or empty if it has none.
std::string part_smsc_key(const part_record& p);

// A part that never got a resp and whose outcome is unknown: written to
// the SMSC (or maybe not) before a crash or a resp timeout.
inline bool in_doubt(const part_record& p) noexcept {
  return p.st == state::unknown && p.resp_us == 0 && !p.smsc.empty();
}

// Per campaign (message states) or per SMSC account (part states).
struct stats {
  std::array<std::int64_t, state_count> counts{};
  std::uint64_t removed = 0;          // messages deleted by retention (still counted above)
  std::uint64_t orphans_expired = 0;  // receipts nobody claimed in time (SMSC stats)
  std::int64_t in_doubt = 0;          // parts in doubt now (SMSC stats)
  // Campaign stats: suppressed messages by the cause of their first
  // suppressed part (send window, validity, duplicate).
  std::array<std::uint64_t, cause_count> suppressed_by{};
  latency_histogram submit_to_resp;
  latency_histogram submit_to_receipt;
};
inline constexpr char stats_campaign = 'c';
inline constexpr char stats_smsc = 's';
std::string stats_key(char kind, std::string_view name);
void encode_stats(const stats& s, std::string& out);
[[nodiscard]] bool decode_stats(std::string_view in, stats& s);

struct cursor_value {
  std::uint64_t row = 0;                // every row <= row is in the log
  std::vector<std::uint64_t> above;     // rows > row + 1 already in the log, ascending
};
void encode_cursor(const cursor_value& c, std::string& out);
[[nodiscard]] bool decode_cursor(std::string_view in, cursor_value& c);

// A receipt no part has claimed yet.
struct parked_receipt {
  std::string smsc;
  std::string receipt_id;
  id_format receipt_format = id_format::automatic;
  state st = state::delivered;
  std::uint32_t error_code = 0;
  std::int64_t done_us = 0, submit_us = 0, parked_us = 0;
  std::string destination;
  std::string text_prefix;
};
std::string orphan_key(std::int64_t parked_us, std::uint64_t seq);
void encode_parked(const parked_receipt& p, std::string& out);
[[nodiscard]] bool decode_parked(std::string_view in, parked_receipt& p);

// Reads shared by the writer's owner and the reader. Failures come back
// as storage_errc (not_found, io_error, corrupt_record).
std::optional<message_record> get_record(const db_handles& h, std::uint64_t id,
                                         std::error_code& ec);
std::optional<std::uint64_t> get_idempotent(const db_handles& h, std::string_view key,
                                            std::error_code& ec);
std::vector<std::uint64_t> messages_to(const db_handles& h, std::string_view recipient,
                                       std::int64_t since_us, std::int64_t until_us,
                                       std::size_t limit, std::error_code& ec);
// Replies (reply_store.hpp); a database without the family has none.
std::optional<reply_record> get_reply(const db_handles& h, std::uint64_t id, std::error_code& ec);
std::vector<reply_record> replies_from(const db_handles& h, std::string_view customer, std::size_t limit,
                                       std::error_code& ec);
// Missing stats read as empty.
stats get_stats(const db_handles& h, char kind, std::string_view name, std::error_code& ec);

}  // namespace storage::detail
