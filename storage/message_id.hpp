// Keys for SMSC message ids, so that a delivery receipt finds the part
// whose submit_sm_resp gave the id although SMSCs write the same id in
// different forms: decimal in the resp and hex in the receipt (or the
// other way round), with leading zeros, in upper or lower case.
//
// A key is "#" + the id's value as 8 big-endian octets when the id is a
// number that fits 64 bits, else "$" + the id in lower case without
// leading zeros (ids longer than 64 bits, UUID-like ids). The two forms
// never collide. Pure functions; any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace storage {

// How an SMSC writes message ids (a per-SMSC setting, one for its resps and
// one for its receipts).
enum class id_format : std::uint8_t {
  automatic,  // decimal if all digits, else hex if all hex digits, else a string
  decimal,
  hex,
  string,  // compare as strings only (still case- and leading-zero-insensitive)
};

// The key under which a part is indexed, from the id of its
// submit_sm_resp. Empty for an empty id.
std::string resp_id_key(std::string_view id, id_format resp_format);

// The keys a receipt's id may have been indexed under, most likely first:
// with `automatic`, an all-digit id is tried as decimal, then as hex; an id
// with the letters a-f only as hex; anything else as a string.
struct receipt_keys {
  std::array<std::string, 3> keys;
  std::size_t count = 0;
  const std::string* begin() const noexcept { return keys.data(); }
  const std::string* end() const noexcept { return keys.data() + count; }
};
receipt_keys receipt_id_keys(std::string_view id, id_format receipt_format);

}  // namespace storage
