// SMPP 3.4 PDUs as plain values: the header, one struct per command, and
// every standard TLV of section 5.3.2 as a typed optional field.
//
// Strings and octet strings are std::string_view. A decoded PDU's views
// point into the buffer it was decoded from and live as long as that
// buffer; a PDU built for encoding points wherever its author likes. No
// member owns heap memory, so a PDU can be decoded, inspected and dropped
// without an allocation. Values, no threads: share as you would an int.
//
// Field names are the specification's, so the spec can be grepped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "smpp/command_status.hpp"

namespace smpp {

// Section 5.1.2.1.
enum class command_id : std::uint32_t {
  generic_nack = 0x80000000,
  bind_receiver = 0x00000001,
  bind_receiver_resp = 0x80000001,
  bind_transmitter = 0x00000002,
  bind_transmitter_resp = 0x80000002,
  query_sm = 0x00000003,
  query_sm_resp = 0x80000003,
  submit_sm = 0x00000004,
  submit_sm_resp = 0x80000004,
  deliver_sm = 0x00000005,
  deliver_sm_resp = 0x80000005,
  unbind = 0x00000006,
  unbind_resp = 0x80000006,
  replace_sm = 0x00000007,
  replace_sm_resp = 0x80000007,
  cancel_sm = 0x00000008,
  cancel_sm_resp = 0x80000008,
  bind_transceiver = 0x00000009,
  bind_transceiver_resp = 0x80000009,
  outbind = 0x0000000B,
  enquire_link = 0x00000015,
  enquire_link_resp = 0x80000015,
  submit_multi = 0x00000021,
  submit_multi_resp = 0x80000021,
  alert_notification = 0x00000102,
  data_sm = 0x00000103,
  data_sm_resp = 0x80000103,
};

std::string_view name(command_id id) noexcept;  // "submit_sm"; "" if unknown
constexpr bool is_response(command_id id) noexcept {
  return (static_cast<std::uint32_t>(id) & 0x80000000u) != 0;
}

inline constexpr std::size_t header_size = 16;

struct pdu_header {
  std::uint32_t command_length = 0;
  std::uint32_t command_id = 0;  // raw: may name no known command
  std::uint32_t command_status = 0;
  std::uint32_t sequence_number = 0;
  bool operator==(const pdu_header&) const = default;
};

// ---- TLVs (section 5.3) -------------------------------------------------

namespace tlv_kind {
using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using cstr = std::string_view;  // C-Octet String; the view excludes the NUL
using oct = std::string_view;   // Octet String
struct flag {                   // zero-length TLV: its presence is the value
  bool operator==(const flag&) const = default;
};
}  // namespace tlv_kind

// X(name, tag, kind, min_length, max_length): lengths of the value in
// octets as on the wire (a cstr's includes its NUL). Section 5.3.2.
// Integers are encoded at max_length and accepted at any length in range:
// source_telematics_id is 2 octets in the specification but 1 in some
// stacks. message_payload's upper bound is the TLV length field's.
#define SMPP_STANDARD_TLVS(X)                            \
  X(dest_addr_subunit, 0x0005, u8, 1, 1)                 \
  X(dest_network_type, 0x0006, u8, 1, 1)                 \
  X(dest_bearer_type, 0x0007, u8, 1, 1)                  \
  X(dest_telematics_id, 0x0008, u16, 2, 2)               \
  X(source_addr_subunit, 0x000D, u8, 1, 1)               \
  X(source_network_type, 0x000E, u8, 1, 1)               \
  X(source_bearer_type, 0x000F, u8, 1, 1)                \
  X(source_telematics_id, 0x0010, u16, 1, 2)             \
  X(qos_time_to_live, 0x0017, u32, 4, 4)                 \
  X(payload_type, 0x0019, u8, 1, 1)                      \
  X(additional_status_info_text, 0x001D, cstr, 1, 256)   \
  X(receipted_message_id, 0x001E, cstr, 1, 65)           \
  X(ms_msg_wait_facilities, 0x0030, u8, 1, 1)            \
  X(privacy_indicator, 0x0201, u8, 1, 1)                 \
  X(source_subaddress, 0x0202, oct, 2, 23)               \
  X(dest_subaddress, 0x0203, oct, 2, 23)                 \
  X(user_message_reference, 0x0204, u16, 2, 2)           \
  X(user_response_code, 0x0205, u8, 1, 1)                \
  X(source_port, 0x020A, u16, 2, 2)                      \
  X(destination_port, 0x020B, u16, 2, 2)                 \
  X(sar_msg_ref_num, 0x020C, u16, 2, 2)                  \
  X(language_indicator, 0x020D, u8, 1, 1)                \
  X(sar_total_segments, 0x020E, u8, 1, 1)                \
  X(sar_segment_seqnum, 0x020F, u8, 1, 1)                \
  X(sc_interface_version, 0x0210, u8, 1, 1)             \
  X(callback_num_pres_ind, 0x0302, u8, 1, 1)            \
  X(callback_num_atag, 0x0303, oct, 0, 65)               \
  X(number_of_messages, 0x0304, u8, 1, 1)               \
  X(callback_num, 0x0381, oct, 4, 19)                    \
  X(dpf_result, 0x0420, u8, 1, 1)                        \
  X(set_dpf, 0x0421, u8, 1, 1)                           \
  X(ms_availability_status, 0x0422, u8, 1, 1)            \
  X(network_error_code, 0x0423, oct, 3, 3)               \
  X(message_payload, 0x0424, oct, 0, 65535)              \
  X(delivery_failure_reason, 0x0425, u8, 1, 1)           \
  X(more_messages_to_send, 0x0426, u8, 1, 1)             \
  X(message_state, 0x0427, u8, 1, 1)                     \
  X(ussd_service_op, 0x0501, u8, 1, 1)                   \
  X(display_time, 0x1201, u8, 1, 1)                      \
  X(sms_signal, 0x1203, u16, 2, 2)                       \
  X(ms_validity, 0x1204, u8, 1, 1)                       \
  X(alert_on_message_delivery, 0x130C, flag, 0, 0)       \
  X(its_reply_type, 0x1380, u8, 1, 1)                    \
  X(its_session_info, 0x1383, oct, 2, 2)

// A TLV the specification does not define (vendor tags 0x1400-0x3FFF and
// anything else): kept as it came and re-encoded unchanged.
struct raw_tlv {
  std::uint16_t tag = 0;
  std::string_view value;
  bool operator==(const raw_tlv&) const = default;
};

// Fixed capacity: a PDU carrying more unknown TLVs than this is refused
// with ESME_RINVOPTPARSTREAM rather than growing a heap buffer.
inline constexpr std::size_t max_unknown_tlvs = 16;

class unknown_tlvs {
 public:
  bool push_back(raw_tlv t) noexcept {
    if (size_ == items_.size()) return false;
    items_[size_++] = t;
    return true;
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const raw_tlv* begin() const noexcept { return items_.data(); }
  const raw_tlv* end() const noexcept { return items_.data() + size_; }
  const raw_tlv& operator[](std::size_t i) const noexcept { return items_[i]; }
  bool operator==(const unknown_tlvs& o) const noexcept {
    if (size_ != o.size_) return false;
    for (std::size_t i = 0; i < size_; ++i)
      if (!(items_[i] == o.items_[i])) return false;
    return true;
  }

 private:
  std::array<raw_tlv, max_unknown_tlvs> items_{};
  std::size_t size_ = 0;
};

struct tlv_set {
#define SMPP_TLV_FIELD(name, tag, kind, lo, hi) std::optional<tlv_kind::kind> name;
  SMPP_STANDARD_TLVS(SMPP_TLV_FIELD)
#undef SMPP_TLV_FIELD
  unknown_tlvs unknown;
  bool operator==(const tlv_set&) const = default;
};

// ---- Lists inside submit_multi and submit_multi_resp ---------------------

// One dest_address of submit_multi (section 5.2.25): an SME address
// (dest_flag 1) or a distribution list name (dest_flag 2, in `address`).
struct dest_address {
  std::uint8_t dest_flag = 1;
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string_view address;  // destination_addr or dl_name
  bool operator==(const dest_address&) const = default;
};

// One unsuccess_sme of submit_multi_resp (section 4.5.2).
struct unsuccess_sme {
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string_view destination_addr;
  std::uint32_t error_status_code = 0;
  bool operator==(const unsuccess_sme&) const = default;
};

namespace detail {
// Parse one element at `p` (already validated by the decoder); returns the
// octets it took.
std::size_t read_list_element(const std::uint8_t* p, dest_address& out) noexcept;
std::size_t read_list_element(const std::uint8_t* p, unsuccess_sme& out) noexcept;
}  // namespace detail

// A list that is either a span of values (built for encoding) or a view of
// validated wire bytes (after decoding), walked without allocating.
template <class T>
class wire_list {
 public:
  wire_list() = default;
  wire_list(std::span<const T> items) noexcept : items_(items), count_(items.size()) {}
  static wire_list from_wire(std::string_view raw, std::size_t count) noexcept {
    wire_list l;
    l.raw_ = raw;
    l.count_ = count;
    l.wire_ = true;
    return l;
  }
  std::size_t size() const noexcept { return count_; }
  template <class F>
  void for_each(F&& f) const {
    if (!wire_) {
      for (const T& t : items_) f(t);
      return;
    }
    auto* p = reinterpret_cast<const std::uint8_t*>(raw_.data());
    for (std::size_t i = 0; i < count_; ++i) {
      T t;
      p += detail::read_list_element(p, t);
      f(t);
    }
  }
  bool operator==(const wire_list& o) const {
    if (count_ != o.count_ || count_ > 255) return false;
    std::array<T, 255> mine{}, theirs{};  // both lists hold at most 255
    std::size_t n = 0, m = 0;
    for_each([&](const T& t) { mine[n++] = t; });
    o.for_each([&](const T& t) { theirs[m++] = t; });
    for (std::size_t i = 0; i < n; ++i)
      if (!(mine[i] == theirs[i])) return false;
    return true;
  }

 private:
  std::span<const T> items_;
  std::string_view raw_;
  std::size_t count_ = 0;
  bool wire_ = false;
};

// ---- Bodies (section 4) --------------------------------------------------

struct empty_body {
  bool operator==(const empty_body&) const = default;
};

struct bind_body {  // 4.1.1, 4.1.3, 4.1.5
  std::string_view system_id;
  std::string_view password;
  std::string_view system_type;
  std::uint8_t interface_version = 0x34;
  std::uint8_t addr_ton = 0;
  std::uint8_t addr_npi = 0;
  std::string_view address_range;
  bool operator==(const bind_body&) const = default;
};

struct bind_resp_body {  // 4.1.2, 4.1.4, 4.1.6
  std::string_view system_id;
  tlv_set tlvs;  // sc_interface_version
  bool operator==(const bind_resp_body&) const = default;
};

struct outbind_body {  // 4.1.7
  std::string_view system_id;
  std::string_view password;
  bool operator==(const outbind_body&) const = default;
};

// submit_sm (4.4.1) and deliver_sm (4.6.1) share one layout.
struct sm_body {
  std::string_view service_type;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string_view source_addr;
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string_view destination_addr;
  std::uint8_t esm_class = 0;
  std::uint8_t protocol_id = 0;
  std::uint8_t priority_flag = 0;
  std::string_view schedule_delivery_time;
  std::string_view validity_period;
  std::uint8_t registered_delivery = 0;
  std::uint8_t replace_if_present_flag = 0;
  std::uint8_t data_coding = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string_view short_message;  // sm_length is its size
  tlv_set tlvs;
  bool operator==(const sm_body&) const = default;
};

// submit_sm_resp (4.4.2), deliver_sm_resp (4.6.2).
struct message_id_body {
  std::string_view message_id;
  bool operator==(const message_id_body&) const = default;
};

struct submit_multi_body {  // 4.5.1
  std::string_view service_type;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string_view source_addr;
  wire_list<dest_address> dest_addresses;  // number_of_dests is its size
  std::uint8_t esm_class = 0;
  std::uint8_t protocol_id = 0;
  std::uint8_t priority_flag = 0;
  std::string_view schedule_delivery_time;
  std::string_view validity_period;
  std::uint8_t registered_delivery = 0;
  std::uint8_t replace_if_present_flag = 0;
  std::uint8_t data_coding = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string_view short_message;
  tlv_set tlvs;
  bool operator==(const submit_multi_body&) const = default;
};

struct submit_multi_resp_body {  // 4.5.2
  std::string_view message_id;
  wire_list<unsuccess_sme> unsuccess_smes;  // no_unsuccess is its size
  bool operator==(const submit_multi_resp_body&) const = default;
};

struct data_sm_body {  // 4.7.1
  std::string_view service_type;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string_view source_addr;
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string_view destination_addr;
  std::uint8_t esm_class = 0;
  std::uint8_t registered_delivery = 0;
  std::uint8_t data_coding = 0;
  tlv_set tlvs;
  bool operator==(const data_sm_body&) const = default;
};

struct data_sm_resp_body {  // 4.7.2
  std::string_view message_id;
  tlv_set tlvs;
  bool operator==(const data_sm_resp_body&) const = default;
};

struct query_sm_body {  // 4.8.1
  std::string_view message_id;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string_view source_addr;
  bool operator==(const query_sm_body&) const = default;
};

struct query_sm_resp_body {  // 4.8.2
  std::string_view message_id;
  std::string_view final_date;
  std::uint8_t message_state = 0;
  std::uint8_t error_code = 0;
  bool operator==(const query_sm_resp_body&) const = default;
};

struct cancel_sm_body {  // 4.9.1
  std::string_view service_type;
  std::string_view message_id;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string_view source_addr;
  std::uint8_t dest_addr_ton = 0;
  std::uint8_t dest_addr_npi = 0;
  std::string_view destination_addr;
  bool operator==(const cancel_sm_body&) const = default;
};

struct replace_sm_body {  // 4.10.1
  std::string_view message_id;
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string_view source_addr;
  std::string_view schedule_delivery_time;
  std::string_view validity_period;
  std::uint8_t registered_delivery = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string_view short_message;
  bool operator==(const replace_sm_body&) const = default;
};

struct alert_notification_body {  // 4.12.1
  std::uint8_t source_addr_ton = 0;
  std::uint8_t source_addr_npi = 0;
  std::string_view source_addr;
  std::uint8_t esme_addr_ton = 0;
  std::uint8_t esme_addr_npi = 0;
  std::string_view esme_addr;
  tlv_set tlvs;  // ms_availability_status
  bool operator==(const alert_notification_body&) const = default;
};

// A body tagged with its command_id: distinct types for PDUs that share a
// layout (the three binds, submit_sm and deliver_sm, ...).
template <command_id Id, class Body>
struct pdu_of : Body {
  using body_type = Body;
  static constexpr smpp::command_id id = Id;
  bool operator==(const pdu_of&) const = default;
};

using generic_nack = pdu_of<command_id::generic_nack, empty_body>;
using bind_receiver = pdu_of<command_id::bind_receiver, bind_body>;
using bind_receiver_resp = pdu_of<command_id::bind_receiver_resp, bind_resp_body>;
using bind_transmitter = pdu_of<command_id::bind_transmitter, bind_body>;
using bind_transmitter_resp = pdu_of<command_id::bind_transmitter_resp, bind_resp_body>;
using bind_transceiver = pdu_of<command_id::bind_transceiver, bind_body>;
using bind_transceiver_resp = pdu_of<command_id::bind_transceiver_resp, bind_resp_body>;
using outbind = pdu_of<command_id::outbind, outbind_body>;
using unbind = pdu_of<command_id::unbind, empty_body>;
using unbind_resp = pdu_of<command_id::unbind_resp, empty_body>;
using enquire_link = pdu_of<command_id::enquire_link, empty_body>;
using enquire_link_resp = pdu_of<command_id::enquire_link_resp, empty_body>;
using submit_sm = pdu_of<command_id::submit_sm, sm_body>;
using submit_sm_resp = pdu_of<command_id::submit_sm_resp, message_id_body>;
using deliver_sm = pdu_of<command_id::deliver_sm, sm_body>;
using deliver_sm_resp = pdu_of<command_id::deliver_sm_resp, message_id_body>;
using submit_multi = pdu_of<command_id::submit_multi, submit_multi_body>;
using submit_multi_resp = pdu_of<command_id::submit_multi_resp, submit_multi_resp_body>;
using data_sm = pdu_of<command_id::data_sm, data_sm_body>;
using data_sm_resp = pdu_of<command_id::data_sm_resp, data_sm_resp_body>;
using query_sm = pdu_of<command_id::query_sm, query_sm_body>;
using query_sm_resp = pdu_of<command_id::query_sm_resp, query_sm_resp_body>;
using cancel_sm = pdu_of<command_id::cancel_sm, cancel_sm_body>;
using cancel_sm_resp = pdu_of<command_id::cancel_sm_resp, empty_body>;
using replace_sm = pdu_of<command_id::replace_sm, replace_sm_body>;
using replace_sm_resp = pdu_of<command_id::replace_sm_resp, empty_body>;
using alert_notification = pdu_of<command_id::alert_notification, alert_notification_body>;

using pdu_body =
    std::variant<generic_nack, bind_receiver, bind_receiver_resp, bind_transmitter,
                 bind_transmitter_resp, bind_transceiver, bind_transceiver_resp, outbind, unbind,
                 unbind_resp, enquire_link, enquire_link_resp, submit_sm, submit_sm_resp,
                 deliver_sm, deliver_sm_resp, submit_multi, submit_multi_resp, data_sm,
                 data_sm_resp, query_sm, query_sm_resp, cancel_sm, cancel_sm_resp, replace_sm,
                 replace_sm_resp, alert_notification>;

struct pdu {
  std::uint32_t command_status = 0;
  std::uint32_t sequence_number = 0;
  pdu_body body;

  smpp::command_id id() const noexcept {
    return std::visit([](const auto& b) { return std::decay_t<decltype(b)>::id; }, body);
  }
  template <class T>
  T* get() noexcept { return std::get_if<T>(&body); }
  template <class T>
  const T* get() const noexcept { return std::get_if<T>(&body); }
  bool operator==(const pdu&) const = default;
};

}  // namespace smpp
