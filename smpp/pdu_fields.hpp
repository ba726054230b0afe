// The field layout of every PDU body (SMPP 3.4 section 4), described once
// and walked by visitors: the codec's reader, sizer and writer, and any
// printer or logger of PDUs. A body's fields are visited in wire order:
//
//   v.u8(field, "name")                 Integer(1)
//   v.u32(field, "name")                Integer(4) (inside lists)
//   v.cstr(field, limit)                C-Octet String with its cstr_limit
//   v.time(field, limit)                C-Octet String of 0 or 16 characters
//   v.short_message(field)              sm_length + short_message
//   v.dest_addresses(list)              number_of_dests + dest_address list
//   v.unsuccess_smes(list)              no_unsuccess + unsuccess_sme list
//   v.tlvs(tlv_set)                     the optional TLVs
//   v.end()                             a body that takes no TLVs ends here
//
// `field` is a reference to the body's member (const when the body is).
// Header-only; pure; any thread.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <variant>

#include "smpp/command_status.hpp"
#include "smpp/pdu.hpp"

namespace smpp {

// Limits of one C-Octet String field: maximum size with its NUL, and the
// status that a value out of range earns.
struct cstr_limit {
  const char* name;
  std::size_t max;
  command_status status;
};

// Sizes of section 4. Address fields of data_sm and alert_notification
// are longer (65) than those of submit_sm (21).
inline constexpr cstr_limit field_system_id{"system_id", 16, command_status::ESME_RINVSYSID};
inline constexpr cstr_limit field_password{"password", 9, command_status::ESME_RINVPASWD};
inline constexpr cstr_limit field_system_type{"system_type", 13, command_status::ESME_RINVSYSTYP};
inline constexpr cstr_limit field_address_range{"address_range", 41, command_status::ESME_RBINDFAIL};
inline constexpr cstr_limit field_service_type{"service_type", 6, command_status::ESME_RINVSERTYP};
inline constexpr cstr_limit field_source_addr{"source_addr", 21, command_status::ESME_RINVSRCADR};
inline constexpr cstr_limit field_source_addr65{"source_addr", 65, command_status::ESME_RINVSRCADR};
inline constexpr cstr_limit field_destination_addr{"destination_addr", 21, command_status::ESME_RINVDSTADR};
inline constexpr cstr_limit field_destination_addr65{"destination_addr", 65, command_status::ESME_RINVDSTADR};
inline constexpr cstr_limit field_esme_addr{"esme_addr", 65, command_status::ESME_RINVDSTADR};
inline constexpr cstr_limit field_dl_name{"dl_name", 21, command_status::ESME_RINVDLNAME};
inline constexpr cstr_limit field_message_id{"message_id", 65, command_status::ESME_RINVMSGID};
// Absolute or relative time: empty, or exactly 16 characters (7.1.1).
inline constexpr cstr_limit field_schedule_delivery_time{"schedule_delivery_time", 17, command_status::ESME_RINVSCHED};
inline constexpr cstr_limit field_validity_period{"validity_period", 17, command_status::ESME_RINVEXPIRY};
inline constexpr cstr_limit field_final_date{"final_date", 17, command_status::ESME_RINVSCHED};


// How a TLV's value travels, to tell a C-Octet String from an Octet
// String (both are string_view in tlv_set).
enum class tlv_wire_kind : std::uint8_t { u8, u16, u32, cstr, oct, flag };

// Calls f(name, tag, kind, value) for every standard TLV present in `t`,
// in tag order, then f(name "", tag, oct, value) for each unknown one.
template <class F>
void for_each_tlv(const tlv_set& t, F&& f) {
#define SMPP_TLV_VISIT(name, tag, kind, lo, hi) \
  if (t.name) f(std::string_view(#name), std::uint16_t{tag}, tlv_wire_kind::kind, *t.name);
  SMPP_STANDARD_TLVS(SMPP_TLV_VISIT)
#undef SMPP_TLV_VISIT
  for (const raw_tlv& u : t.unknown) f(std::string_view(), u.tag, tlv_wire_kind::oct, u.value);
}

template <class B, class T>
concept body_of = std::same_as<std::remove_const_t<B>, T>;

template <class V, body_of<empty_body> B>
void visit_fields(V& v, B&) {
  v.end();
}

template <class V, body_of<bind_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.system_id, field_system_id);
  v.cstr(b.password, field_password);
  v.cstr(b.system_type, field_system_type);
  v.u8(b.interface_version, "interface_version");
  v.u8(b.addr_ton, "addr_ton");
  v.u8(b.addr_npi, "addr_npi");
  v.cstr(b.address_range, field_address_range);
  v.end();
}

template <class V, body_of<bind_resp_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.system_id, field_system_id);
  v.tlvs(b.tlvs);
}

template <class V, body_of<outbind_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.system_id, field_system_id);
  v.cstr(b.password, field_password);
  v.end();
}

template <class V, body_of<sm_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.service_type, field_service_type);
  v.u8(b.source_addr_ton, "source_addr_ton");
  v.u8(b.source_addr_npi, "source_addr_npi");
  v.cstr(b.source_addr, field_source_addr);
  v.u8(b.dest_addr_ton, "dest_addr_ton");
  v.u8(b.dest_addr_npi, "dest_addr_npi");
  v.cstr(b.destination_addr, field_destination_addr);
  v.u8(b.esm_class, "esm_class");
  v.u8(b.protocol_id, "protocol_id");
  v.u8(b.priority_flag, "priority_flag");
  v.time(b.schedule_delivery_time, field_schedule_delivery_time);
  v.time(b.validity_period, field_validity_period);
  v.u8(b.registered_delivery, "registered_delivery");
  v.u8(b.replace_if_present_flag, "replace_if_present_flag");
  v.u8(b.data_coding, "data_coding");
  v.u8(b.sm_default_msg_id, "sm_default_msg_id");
  v.short_message(b.short_message);
  v.tlvs(b.tlvs);
}

template <class V, body_of<message_id_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.message_id, field_message_id);
  v.end();
}

template <class V, body_of<submit_multi_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.service_type, field_service_type);
  v.u8(b.source_addr_ton, "source_addr_ton");
  v.u8(b.source_addr_npi, "source_addr_npi");
  v.cstr(b.source_addr, field_source_addr);
  v.dest_addresses(b.dest_addresses);
  v.u8(b.esm_class, "esm_class");
  v.u8(b.protocol_id, "protocol_id");
  v.u8(b.priority_flag, "priority_flag");
  v.time(b.schedule_delivery_time, field_schedule_delivery_time);
  v.time(b.validity_period, field_validity_period);
  v.u8(b.registered_delivery, "registered_delivery");
  v.u8(b.replace_if_present_flag, "replace_if_present_flag");
  v.u8(b.data_coding, "data_coding");
  v.u8(b.sm_default_msg_id, "sm_default_msg_id");
  v.short_message(b.short_message);
  v.tlvs(b.tlvs);
}

template <class V, body_of<submit_multi_resp_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.message_id, field_message_id);
  v.unsuccess_smes(b.unsuccess_smes);
  v.end();
}

template <class V, body_of<data_sm_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.service_type, field_service_type);
  v.u8(b.source_addr_ton, "source_addr_ton");
  v.u8(b.source_addr_npi, "source_addr_npi");
  v.cstr(b.source_addr, field_source_addr65);
  v.u8(b.dest_addr_ton, "dest_addr_ton");
  v.u8(b.dest_addr_npi, "dest_addr_npi");
  v.cstr(b.destination_addr, field_destination_addr65);
  v.u8(b.esm_class, "esm_class");
  v.u8(b.registered_delivery, "registered_delivery");
  v.u8(b.data_coding, "data_coding");
  v.tlvs(b.tlvs);
}

template <class V, body_of<data_sm_resp_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.message_id, field_message_id);
  v.tlvs(b.tlvs);
}

template <class V, body_of<query_sm_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.message_id, field_message_id);
  v.u8(b.source_addr_ton, "source_addr_ton");
  v.u8(b.source_addr_npi, "source_addr_npi");
  v.cstr(b.source_addr, field_source_addr);
  v.end();
}

template <class V, body_of<query_sm_resp_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.message_id, field_message_id);
  v.time(b.final_date, field_final_date);
  v.u8(b.message_state, "message_state");
  v.u8(b.error_code, "error_code");
  v.end();
}

template <class V, body_of<cancel_sm_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.service_type, field_service_type);
  v.cstr(b.message_id, field_message_id);
  v.u8(b.source_addr_ton, "source_addr_ton");
  v.u8(b.source_addr_npi, "source_addr_npi");
  v.cstr(b.source_addr, field_source_addr);
  v.u8(b.dest_addr_ton, "dest_addr_ton");
  v.u8(b.dest_addr_npi, "dest_addr_npi");
  v.cstr(b.destination_addr, field_destination_addr);
  v.end();
}

template <class V, body_of<replace_sm_body> B>
void visit_fields(V& v, B& b) {
  v.cstr(b.message_id, field_message_id);
  v.u8(b.source_addr_ton, "source_addr_ton");
  v.u8(b.source_addr_npi, "source_addr_npi");
  v.cstr(b.source_addr, field_source_addr);
  v.time(b.schedule_delivery_time, field_schedule_delivery_time);
  v.time(b.validity_period, field_validity_period);
  v.u8(b.registered_delivery, "registered_delivery");
  v.u8(b.sm_default_msg_id, "sm_default_msg_id");
  v.short_message(b.short_message);
  v.end();
}

template <class V, body_of<alert_notification_body> B>
void visit_fields(V& v, B& b) {
  v.u8(b.source_addr_ton, "source_addr_ton");
  v.u8(b.source_addr_npi, "source_addr_npi");
  v.cstr(b.source_addr, field_source_addr65);
  v.u8(b.esme_addr_ton, "esme_addr_ton");
  v.u8(b.esme_addr_npi, "esme_addr_npi");
  v.cstr(b.esme_addr, field_esme_addr);
  v.tlvs(b.tlvs);
}

// Visits the fields of whichever body `p` holds.
template <class V>
void visit_body(V& v, const pdu& p) {
  std::visit(
      [&](const auto& b) {
        visit_fields(v, static_cast<const typename std::decay_t<decltype(b)>::body_type&>(b));
      },
      p.body);
}

}  // namespace smpp
