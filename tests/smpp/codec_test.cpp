// Tests of the SMPP 3.4 wire codec (smpp/codec.hpp): golden vectors for every PDU of
// pdu_body run both ways, decode error rows (every cut, lying lengths, out-of-range fields),
// framing with next_frame, encoding errors, round trips, and the command_status table.
//
// Every golden vector is hex written by hand from the field tables of the SMPP 3.4
// specification, section 4 (PDU bodies) and section 5.3.2 (TLVs): never output of the codec.
// TLVs appear in the order the codec writes them (SMPP_STANDARD_TLVS, unknown tags last) so
// the encode direction can compare byte for byte.
#include "smpp/codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "smpp/command_status.hpp"
#include "smpp/pdu.hpp"
#include "tests/support/hex.hpp"

// Expected PDUs are written with designated initializers naming only the fields that differ
// from their defaults. GCC 12 warns about every member such an initializer leaves to its default
// member initializer (clang does not); in these tables that is the point, not a mistake.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace {

using smppd::test::from_hex;
using smppd::test::repeat;
using smppd::test::to_hex;

using namespace std::literals;
using smpp::codec_errc;
using smpp::command_id;
using smpp::command_status;
using smpp::make_pdu;
using smpp::pdu;

// ---- helpers --------------------------------------------------------------



// Rewrites command_length to the buffer's size, keeping the framing consistent after a cut or
// an appended field.
void fix_command_length(std::vector<std::uint8_t>& b) {
  const auto n = static_cast<std::uint32_t>(b.size());
  b[0] = static_cast<std::uint8_t>(n >> 24);
  b[1] = static_cast<std::uint8_t>(n >> 16);
  b[2] = static_cast<std::uint8_t>(n >> 8);
  b[3] = static_cast<std::uint8_t>(n);
}

// The PDU's bytes as the codec writes them, or empty when it refuses to.
std::vector<std::uint8_t> encode_to_vector(const pdu& p) {
  std::vector<std::uint8_t> out(smpp::encoded_size(p));
  const smpp::encode_result r = smpp::encode(p, out);
  if (!r) return {};
  out.resize(r.size);
  return out;
}

// A pdu for failure messages: command, header values and wire bytes.
std::string describe(const pdu& p) {
  return std::string(smpp::name(p.id())) + " status=" + std::to_string(p.command_status) +
         " seq=" + std::to_string(p.sequence_number) + " bytes=[" +
         to_hex(encode_to_vector(p)) + "]";
}

smpp::unknown_tlvs unknowns(std::initializer_list<smpp::raw_tlv> tlvs) {
  smpp::unknown_tlvs u;
  for (const smpp::raw_tlv& t : tlvs) EXPECT_TRUE(u.push_back(t));
  return u;
}

template <class T>
smpp::wire_list<T> list_of(std::span<const T> items) {
  return smpp::wire_list<T>(items);
}

// ---- golden vectors -------------------------------------------------------

const smpp::dest_address multi_dests[] = {
    {.dest_flag = 1, .dest_addr_ton = 1, .dest_addr_npi = 1, .address = "447700900456"},
    {.dest_flag = 1, .dest_addr_ton = 1, .dest_addr_npi = 1, .address = "447700900789"},
    {.dest_flag = 2, .address = "friends"},
};

const smpp::unsuccess_sme multi_failures[] = {
    {.dest_addr_ton = 1, .dest_addr_npi = 1, .destination_addr = "447700900789",
     .error_status_code = static_cast<std::uint32_t>(command_status::ESME_RINVDSTADR)},
    {.dest_addr_ton = 2, .dest_addr_npi = 1, .destination_addr = "7700900999",
     .error_status_code = static_cast<std::uint32_t>(command_status::ESME_RMSGQFUL)},
};

constexpr std::string_view receipt_text =
    "id:0A1B2C3D4E sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 "
    "stat:DELIVRD err:000 text:Hello from smppd";

struct golden_row {
  const char* name;
  pdu value;
  const char* hex;
};

// One row per vector; its name is the one-line note of what the vector holds.
const std::vector<golden_row>& golden() {
  static const std::vector<golden_row> rows = {
      {"generic_nack answering an unknown command_id",
       make_pdu(7, smpp::generic_nack{}, command_status::ESME_RINVCMDID),
       "00000010 80000000 00000003 00000007"},  // header: 16, generic_nack, RINVCMDID, seq 7

      {"bind_receiver with an address_range",
       make_pdu(2, smpp::bind_receiver{{.system_id = "smppclient1", .password = "secret",
                                        .addr_ton = 1, .addr_npi = 1,
                                        .address_range = "^447700"}}),
       "0000002F 00000001 00000000 00000002"  // header: 47, bind_receiver, seq 2
       "736D7070636C69656E743100"             // system_id "smppclient1"
       "73656372657400"                       // password "secret"
       "00"                                   // system_type ""
       "34 01 01"                             // interface_version 3.4, addr_ton, addr_npi
       "5E34343737303000"},                   // address_range "^447700"

      {"bind_receiver_resp naming the SMSC smsc-01",
       make_pdu(2, smpp::bind_receiver_resp{{.system_id = "smsc-01"}}),
       "00000018 80000001 00000000 00000002"  // header: 24, bind_receiver_resp, seq 2
       "736D73632D303100"},                   // system_id "smsc-01"

      {"bind_transmitter of smppclient1, no system_type or address_range",
       make_pdu(1, smpp::bind_transmitter{{.system_id = "smppclient1", .password = "secret"}}),
       "00000028 00000002 00000000 00000001"  // header: 40, bind_transmitter, seq 1
       "736D7070636C69656E743100"             // system_id "smppclient1"
       "73656372657400"                       // password "secret"
       "00"                                   // system_type ""
       "34 00 00"                             // interface_version 3.4, addr_ton, addr_npi
       "00"},                                 // address_range ""

      {"bind_transmitter_resp naming the SMSC",
       make_pdu(1, smpp::bind_transmitter_resp{{.system_id = "SMSC"}}),
       "00000015 80000002 00000000 00000001"  // header: 21, bind_transmitter_resp, seq 1
       "534D534300"},                         // system_id "SMSC"

      {"bind_transceiver with a system_type",
       make_pdu(3, smpp::bind_transceiver{{.system_id = "smppclient1", .password = "secret",
                                           .system_type = "SMPP", .addr_ton = 1,
                                           .addr_npi = 1}}),
       "0000002C 00000009 00000000 00000003"  // header: 44, bind_transceiver, seq 3
       "736D7070636C69656E743100"             // system_id "smppclient1"
       "73656372657400"                       // password "secret"
       "534D505000"                           // system_type "SMPP"
       "34 01 01"                             // interface_version 3.4, addr_ton, addr_npi
       "00"},                                 // address_range ""

      {"bind_transceiver_resp with sc_interface_version",
       make_pdu(3, smpp::bind_transceiver_resp{{.system_id = "SMSC",
                                                .tlvs = {.sc_interface_version = 0x34}}}),
       "0000001A 80000009 00000000 00000003"  // header: 26, bind_transceiver_resp, seq 3
       "534D534300"                           // system_id "SMSC"
       "0210 0001 34"},                       // sc_interface_version 3.4

      {"outbind from the SMSC with a password",
       make_pdu(4, smpp::outbind{{.system_id = "SMSC", .password = "secret"}}),
       "0000001C 0000000B 00000000 00000004"  // header: 28, outbind, seq 4
       "534D534300"                           // system_id "SMSC"
       "73656372657400"},                     // password "secret"

      {"unbind, header only", make_pdu(5, smpp::unbind{}),
       "00000010 00000006 00000000 00000005"},  // header only: 16, unbind, seq 5

      {"unbind_resp, header only", make_pdu(5, smpp::unbind_resp{}),
       "00000010 80000006 00000000 00000005"},  // header only: 16, unbind_resp, seq 5

      {"enquire_link, header only", make_pdu(6, smpp::enquire_link{}),
       "00000010 00000015 00000000 00000006"},  // header only: 16, enquire_link, seq 6

      {"enquire_link_resp, header only", make_pdu(6, smpp::enquire_link_resp{}),
       "00000010 80000015 00000000 00000006"},  // header only: 16, enquire_link_resp, seq 6

      {"submit_sm, segment 1 of 2 by sar_* TLVs, relative validity_period",
       make_pdu(8, smpp::submit_sm{{.source_addr_ton = 1, .source_addr_npi = 1,
                                    .source_addr = "447700900123", .dest_addr_ton = 1,
                                    .dest_addr_npi = 1, .destination_addr = "447700900456",
                                    .validity_period = "000001000000000R",
                                    .registered_delivery = 1,
                                    .short_message = "Hello from smppd",
                                    .tlvs = {.sar_msg_ref_num = 0x1234,
                                             .sar_total_segments = 2,
                                             .sar_segment_seqnum = 1}}}),
       "00000069 00000004 00000000 00000008"  // header: 105, submit_sm, seq 8
       "00"                                   // service_type ""
       "01 01 34343737303039303031323300"     // source ton/npi, source_addr "447700900123"
       "01 01 34343737303039303034353600"     // dest ton/npi, destination_addr "447700900456"
       "00 00 00"                             // esm_class, protocol_id, priority_flag
       "00"                                   // schedule_delivery_time ""
       "3030303030313030303030303030305200"   // validity_period "000001000000000R" (1 day)
       "01 00 00 00"  // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
       "10 48656C6C6F2066726F6D20736D707064"  // sm_length 16, "Hello from smppd"
       "020C 0002 1234"                       // sar_msg_ref_num 0x1234
       "020E 0001 02"                         // sar_total_segments 2
       "020F 0001 01"},                       // sar_segment_seqnum 1

      {"submit_sm with message_payload and a vendor TLV 0x1400",
       make_pdu(9, smpp::submit_sm{{.service_type = "CMT", .source_addr_ton = 5,
                                    .source_addr = "MyShop", .dest_addr_ton = 1,
                                    .dest_addr_npi = 1, .destination_addr = "447700900123",
                                    .tlvs = {.message_payload = "Hello via message_payload",
                                             .unknown = unknowns({{0x1400, "\xCA\xFE"}})}}}),
       "00000059 00000004 00000000 00000009"  // header: 89, submit_sm, seq 9
       "434D5400"                             // service_type "CMT"
       "05 00 4D7953686F7000"                 // source ton 5 (alphanumeric), npi 0, "MyShop"
       "01 01 34343737303039303031323300"     // dest ton/npi, destination_addr "447700900123"
       "00 00 00"                             // esm_class, protocol_id, priority_flag
       "00"                                   // schedule_delivery_time ""
       "00"                                   // validity_period ""
       "00 00 00 00"  // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
       "00"                                   // sm_length 0: the text is in message_payload
       "0424 0019 48656C6C6F20766961206D6573736167655F7061796C6F6164"  // message_payload (25)
       "1400 0002 CAFE"},                     // vendor TLV 0x1400, kept as it came

      {"submit_sm_resp carrying the SMSC message_id",
       make_pdu(8, smpp::submit_sm_resp{{.message_id = "0A1B2C3D4E"}}),
       "0000001B 80000004 00000000 00000008"  // header: 27, submit_sm_resp, seq 8
       "3041314232433344344500"},             // message_id "0A1B2C3D4E"

      {"submit_sm_resp with ESME_RTHROTTLED and no body",
       make_pdu(9, smpp::submit_sm_resp{}, command_status::ESME_RTHROTTLED),
       "00000010 80000004 00000058 00000009"},  // header only: 16, submit_sm_resp, RTHROTTLED

      {"deliver_sm delivery receipt with receipted_message_id and message_state",
       make_pdu(10, smpp::deliver_sm{{.source_addr_ton = 1, .source_addr_npi = 1,
                                      .source_addr = "447700900456", .dest_addr_ton = 1,
                                      .dest_addr_npi = 1, .destination_addr = "447700900123",
                                      .esm_class = 0x04, .short_message = receipt_text,
                                      .tlvs = {.receipted_message_id = "0A1B2C3D4E",
                                               .message_state = 2}}}),
       "000000C3 00000005 00000000 0000000A"  // header: 195, deliver_sm, seq 10
       "00"                                   // service_type ""
       "01 01 34343737303039303034353600"     // source ton/npi, source_addr "447700900456"
       "01 01 34343737303039303031323300"     // dest ton/npi, destination_addr "447700900123"
       "04 00 00"                             // esm_class 0x04 (SMSC receipt), pid, priority
       "00"                                   // schedule_delivery_time ""
       "00"                                   // validity_period ""
       "00 00 00 00"  // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
       "76"                                   // sm_length 118
       "69643A30413142324333443445 20"        // "id:0A1B2C3D4E "
       "7375623A303031 20"                    // "sub:001 "
       "646C7672643A303031 20"                // "dlvrd:001 "
       "7375626D697420646174653A32343031313531323330 20"  // "submit date:2401151230 "
       "646F6E6520646174653A32343031313531323331 20"      // "done date:2401151231 "
       "737461743A44454C49565244 20"          // "stat:DELIVRD "
       "6572723A303030 20"                    // "err:000 "
       "746578743A48656C6C6F2066726F6D20736D707064"       // "text:Hello from smppd"
       "001E 000B 3041314232433344344500"     // receipted_message_id "0A1B2C3D4E"
       "0427 0001 02"},                       // message_state 2 (DELIVERED)

      {"deliver_sm_resp with its unused message_id empty",
       make_pdu(10, smpp::deliver_sm_resp{}),
       "00000011 80000005 00000000 0000000A"  // header: 17, deliver_sm_resp, seq 10
       "00"},                                 // message_id "" (unused, 4.6.2)

      {"submit_multi to two SME addresses and a distribution list",
       make_pdu(11, smpp::submit_multi{{.source_addr_ton = 1, .source_addr_npi = 1,
                                        .source_addr = "447700900123",
                                        .dest_addresses = list_of<smpp::dest_address>(
                                            multi_dests),
                                        .registered_delivery = 1,
                                        .short_message = "Meet at 8"}}),
       "0000005D 00000021 00000000 0000000B"  // header: 93, submit_multi, seq 11
       "00"                                   // service_type ""
       "01 01 34343737303039303031323300"     // source ton/npi, source_addr "447700900123"
       "03"                                   // number_of_dests 3
       "01 01 01 34343737303039303034353600"  // dest_flag 1 (SME), ton, npi, "447700900456"
       "01 01 01 34343737303039303037383900"  // dest_flag 1 (SME), ton, npi, "447700900789"
       "02 667269656E647300"                  // dest_flag 2 (list), dl_name "friends"
       "00 00 00"                             // esm_class, protocol_id, priority_flag
       "00"                                   // schedule_delivery_time ""
       "00"                                   // validity_period ""
       "01 00 00 00"  // registered_delivery, replace_if_present, data_coding, sm_default_msg_id
       "09 4D6565742061742038"},              // sm_length 9, "Meet at 8"

      {"submit_multi_resp with two unsuccess_smes",
       make_pdu(11, smpp::submit_multi_resp{{.message_id = "0A1B2C3D4F",
                                             .unsuccess_smes = list_of<smpp::unsuccess_sme>(
                                                 multi_failures)}}),
       "00000040 80000021 00000000 0000000B"  // header: 64, submit_multi_resp, seq 11
       "3041314232433344344600"               // message_id "0A1B2C3D4F"
       "02"                                   // no_unsuccess 2
       "01 01 34343737303039303037383900 0000000B"  // "447700900789": ESME_RINVDSTADR
       "02 01 3737303039303039393900 00000014"},    // national "7700900999": ESME_RMSGQFUL

      {"data_sm with WAP ports, qos_time_to_live and message_payload",
       make_pdu(12, smpp::data_sm{{.service_type = "WAP", .source_addr_ton = 1,
                                   .source_addr_npi = 1, .source_addr = "447700900123",
                                   .dest_addr_ton = 1, .dest_addr_npi = 1,
                                   .destination_addr = "447700900456",
                                   .registered_delivery = 1, .data_coding = 0x04,
                                   .tlvs = {.qos_time_to_live = 86400, .source_port = 9200,
                                            .destination_port = 2948,
                                            .message_payload = "ping"}}}),
       "00000051 00000103 00000000 0000000C"  // header: 81, data_sm, seq 12
       "57415000"                             // service_type "WAP"
       "01 01 34343737303039303031323300"     // source ton/npi, source_addr "447700900123"
       "01 01 34343737303039303034353600"     // dest ton/npi, destination_addr "447700900456"
       "00 01 04"                             // esm_class, registered_delivery, data_coding
       "0017 0004 00015180"                   // qos_time_to_live 86400 s
       "020A 0002 23F0"                       // source_port 9200
       "020B 0002 0B84"                       // destination_port 2948 (WAP push)
       "0424 0004 70696E67"},                 // message_payload "ping"

      {"data_sm_resp with additional_status_info_text and dpf_result",
       make_pdu(12, smpp::data_sm_resp{{.message_id = "0A1B2C3D50",
                                        .tlvs = {.additional_status_info_text = "queued",
                                                 .dpf_result = 0}}}),
       "0000002B 80000103 00000000 0000000C"  // header: 43, data_sm_resp, seq 12
       "3041314232433344353000"               // message_id "0A1B2C3D50"
       "001D 0007 71756575656400"             // additional_status_info_text "queued"
       "0420 0001 00"},                       // dpf_result 0

      {"query_sm for message 0A1B2C3D4E",
       make_pdu(13, smpp::query_sm{{.message_id = "0A1B2C3D4E", .source_addr_ton = 1,
                                    .source_addr_npi = 1, .source_addr = "447700900123"}}),
       "0000002A 00000003 00000000 0000000D"  // header: 42, query_sm, seq 13
       "3041314232433344344500"               // message_id "0A1B2C3D4E"
       "01 01 34343737303039303031323300"},   // source ton/npi, source_addr "447700900123"

      {"query_sm_resp with an absolute final_date",
       make_pdu(13, smpp::query_sm_resp{{.message_id = "0A1B2C3D4E",
                                         .final_date = "240115123100004+",
                                         .message_state = 2}}),
       "0000002E 80000003 00000000 0000000D"  // header: 46, query_sm_resp, seq 13
       "3041314232433344344500"               // message_id "0A1B2C3D4E"
       "3234303131353132333130303030342B00"   // final_date "240115123100004+"
       "02 00"},                              // message_state DELIVERED, error_code 0

      {"cancel_sm of one message by message_id and addresses",
       make_pdu(14, smpp::cancel_sm{{.message_id = "0A1B2C3D4E", .source_addr_ton = 1,
                                     .source_addr_npi = 1, .source_addr = "447700900123",
                                     .dest_addr_ton = 1, .dest_addr_npi = 1,
                                     .destination_addr = "447700900456"}}),
       "0000003A 00000008 00000000 0000000E"  // header: 58, cancel_sm, seq 14
       "00"                                   // service_type ""
       "3041314232433344344500"               // message_id "0A1B2C3D4E"
       "01 01 34343737303039303031323300"     // source ton/npi, source_addr "447700900123"
       "01 01 34343737303039303034353600"},   // dest ton/npi, destination_addr "447700900456"

      {"cancel_sm_resp, header only", make_pdu(14, smpp::cancel_sm_resp{}),
       "00000010 80000008 00000000 0000000E"},  // header only: 16, cancel_sm_resp, seq 14

      {"replace_sm with an absolute schedule_delivery_time",
       make_pdu(15, smpp::replace_sm{{.message_id = "0A1B2C3D4E", .source_addr_ton = 1,
                                      .source_addr_npi = 1, .source_addr = "447700900123",
                                      .schedule_delivery_time = "240116090000000+",
                                      .registered_delivery = 1,
                                      .short_message = "Updated text"}}),
       "0000004B 00000007 00000000 0000000F"  // header: 75, replace_sm, seq 15
       "3041314232433344344500"               // message_id "0A1B2C3D4E"
       "01 01 34343737303039303031323300"     // source ton/npi, source_addr "447700900123"
       "3234303131363039303030303030302B00"   // schedule_delivery_time "240116090000000+"
       "00"                                   // validity_period ""
       "01 00"                                // registered_delivery, sm_default_msg_id
       "0C 557064617465642074657874"},        // sm_length 12, "Updated text"

      {"replace_sm_resp, header only", make_pdu(15, smpp::replace_sm_resp{}),
       "00000010 80000007 00000000 0000000F"},  // header only: 16, replace_sm_resp, seq 15

      {"alert_notification with ms_availability_status",
       make_pdu(16, smpp::alert_notification{{.source_addr_ton = 1, .source_addr_npi = 1,
                                              .source_addr = "447700900456",
                                              .esme_addr_ton = 1, .esme_addr_npi = 1,
                                              .esme_addr = "447700900123",
                                              .tlvs = {.ms_availability_status = 0}}}),
       "00000033 00000102 00000000 00000010"  // header: 51, alert_notification, seq 16
       "01 01 34343737303039303034353600"     // source ton/npi, source_addr "447700900456"
       "01 01 34343737303039303031323300"     // esme ton/npi, esme_addr "447700900123"
       "0422 0001 00"},                       // ms_availability_status 0 (available)
  };
  return rows;
}

const golden_row& golden_named(std::string_view name) {
  for (const golden_row& row : golden())
    if (row.name == name) return row;
  ADD_FAILURE() << "no golden row " << name;
  return golden().front();
}

TEST(codec, golden_vectors_cover_every_pdu_type) {
  std::set<std::size_t> seen;
  for (const golden_row& row : golden()) seen.insert(row.value.body.index());
  EXPECT_EQ(seen.size(), std::variant_size_v<smpp::pdu_body>);
}

TEST(codec, decodes_every_golden_vector) {
  for (const golden_row& row : golden()) {
    SCOPED_TRACE(row.name);
    const std::vector<std::uint8_t> bytes = from_hex(row.hex);
    pdu out;
    const smpp::decode_result r = smpp::decode(bytes, out);
    ASSERT_TRUE(r) << r.ec.message() << " at " << r.field << " offset " << r.offset;
    EXPECT_EQ(r.header.command_length, bytes.size());
    EXPECT_EQ(r.header.command_id, static_cast<std::uint32_t>(row.value.id()));
    EXPECT_EQ(r.header.sequence_number, row.value.sequence_number);
    EXPECT_TRUE(out == row.value) << "decoded:  " << describe(out)
                                  << "\nexpected: " << describe(row.value);
  }
}

TEST(codec, encodes_every_golden_vector) {
  for (const golden_row& row : golden()) {
    SCOPED_TRACE(row.name);
    const std::vector<std::uint8_t> expected = from_hex(row.hex);
    std::vector<std::uint8_t> out(expected.size() + 8, 0xAA);
    const smpp::encode_result r = smpp::encode(row.value, out);
    ASSERT_TRUE(r) << r.ec.message() << " at " << r.field;
    EXPECT_EQ(r.size, expected.size());
    out.resize(r.size);
    EXPECT_EQ(to_hex(out), to_hex(expected));
  }
}

TEST(codec, sizes_every_golden_vector) {
  for (const golden_row& row : golden()) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(smpp::encoded_size(row.value), from_hex(row.hex).size());
  }
}

// SMPP 3.4 4.4.2: "The submit_sm_resp PDU Body is not returned if the command_status field
// contains a non-zero value" (likewise bind_*_resp, 4.1.2, 4.1.4, 4.1.6).
TEST(codec, encodes_an_error_resp_without_a_body) {
  const golden_row& row = golden_named("submit_sm_resp with ESME_RTHROTTLED and no body");
  const std::vector<std::uint8_t> expected = from_hex(row.hex);
  EXPECT_EQ(smpp::encoded_size(row.value), expected.size());
  EXPECT_EQ(to_hex(encode_to_vector(row.value)), to_hex(expected));
}

TEST(codec, round_trips_every_golden_vector) {
  for (const golden_row& row : golden()) {
    SCOPED_TRACE(row.name);
    const std::vector<std::uint8_t> bytes = encode_to_vector(row.value);
    ASSERT_FALSE(bytes.empty());
    pdu out;
    const smpp::decode_result r = smpp::decode(bytes, out);
    ASSERT_TRUE(r) << r.ec.message() << " at " << r.field;
    EXPECT_TRUE(out == row.value) << "decoded:  " << describe(out)
                                  << "\nexpected: " << describe(row.value);
  }
}

// ---- decode errors --------------------------------------------------------

struct error_row {
  const char* name;
  const char* hex;
  codec_errc errc;
  command_status status;
  const char* field;                  // decode_result::field
  std::optional<std::size_t> offset;  // decode_result::offset, when checked
  std::optional<command_id> nack;     // nack_command_for(), when checked
};

// Most rows are the minimal submit_sm below with one field changed (the comment says which):
//   0000003E 00000004 00000000 00000020  header: 62, submit_sm, seq 32
//   00                                   service_type "" (offset 16)
//   01 01 34343737303039303031323300     source ton/npi, source_addr (19) "447700900123"
//   01 01 34343737303039303034353600     dest ton/npi, destination_addr (34) "447700900456"
//   00 00 00 00 00                       esm_class .. priority_flag, schedule (50), validity (51)
//   01 00 00 00                          registered_delivery .. sm_default_msg_id
//   05 48656C6C6F                        sm_length (56) 5, "Hello"
const std::vector<error_row>& error_rows() {
  static const std::vector<error_row> rows = {
      {"command_length 15 in a PDU of 16 octets",
       "0000000F 00000015 00000000 00000001",  // command_length below the header's own size
       codec_errc::bad_command_length, command_status::ESME_RINVCMDLEN, "", std::nullopt,
       std::nullopt},

      {"fewer octets than a header", "0000000C 00000015 00000000",  // 12 octets
       codec_errc::bad_command_length, command_status::ESME_RINVCMDLEN, "", std::nullopt,
       command_id::generic_nack},

      {"unknown command_id 0x00000099",
       "00000010 00000099 00000000 0000002A",  // header: 16, no such command, seq 42
       codec_errc::unknown_command_id, command_status::ESME_RINVCMDID, "", std::nullopt,
       command_id::generic_nack},

      {"enquire_link with four trailing octets",
       "00000014 00000015 00000000 00000009"  // header: 20, enquire_link, seq 9
       "00000000",                            // nothing may follow the header
       codec_errc::trailing_bytes, command_status::ESME_RINVCMDLEN, "", 16,
       command_id::enquire_link_resp},

      {"query_sm followed by a TLV, which 4.8.1 does not allow",
       "0000002F 00000003 00000000 0000000D"  // header: 47, query_sm, seq 13
       "3041314232433344344500"               // message_id "0A1B2C3D4E"
       "01 01 34343737303039303031323300"     // source ton/npi, source_addr "447700900123"
       "0427 0001 02",                        // message_state TLV
       codec_errc::trailing_bytes, command_status::ESME_RINVCMDLEN, "", 42,
       command_id::query_sm_resp},

      {"submit_sm_resp with status 0 and a message_id without NUL",
       "0000001A 80000004 00000000 00000008"  // header: 26, submit_sm_resp, seq 8
       "30413142324333443445",                // message_id "0A1B2C3D4E" missing its NUL
       codec_errc::truncated, command_status::ESME_RINVCMDLEN, "message_id", 16,
       command_id::generic_nack},

      {"bind_transmitter_resp with status 0 and no body",
       "00000010 80000002 00000000 00000001",  // a body is required when the status is 0
       codec_errc::truncated, command_status::ESME_RINVCMDLEN, "system_id", 16,
       command_id::generic_nack},

      {"submit_sm with sm_length past the end",
       "0000003E 00000004 00000000 00000020"
       "00 01 01 34343737303039303031323300 01 01 34343737303039303034353600"
       "00 00 00 00 00 01 00 00 00"
       "06 48656C6C6F",  // sm_length 6, but 5 octets remain
       codec_errc::invalid_field, command_status::ESME_RINVMSGLEN, "sm_length", 56,
       command_id::submit_sm_resp},

      {"submit_sm with sm_length 255",
       "0000003E 00000004 00000000 00000020"
       "00 01 01 34343737303039303031323300 01 01 34343737303039303034353600"
       "00 00 00 00 00 01 00 00 00"
       "FF 48656C6C6F",  // sm_length 255: above 254 and past the end
       codec_errc::invalid_field, command_status::ESME_RINVMSGLEN, "sm_length", 56,
       command_id::submit_sm_resp},

      {"submit_sm with a TLV length past the end",
       "00000044 00000004 00000000 00000020"  // header: 68
       "00 01 01 34343737303039303031323300 01 01 34343737303039303034353600"
       "00 00 00 00 00 01 00 00 00 05 48656C6C6F"
       "020C 0005 1234",  // sar_msg_ref_num claiming 5 octets, 2 there
       codec_errc::invalid_tlv, command_status::ESME_RINVOPTPARSTREAM, "tlv", 62,
       command_id::submit_sm_resp},

      {"submit_sm with a TLV header cut to 3 octets",
       "00000041 00000004 00000000 00000020"  // header: 65
       "00 01 01 34343737303039303031323300 01 01 34343737303039303034353600"
       "00 00 00 00 00 01 00 00 00 05 48656C6C6F"
       "020C 00",  // tag and half a length
       codec_errc::invalid_tlv, command_status::ESME_RINVOPTPARSTREAM, "tlv", 62,
       command_id::submit_sm_resp},

      {"submit_sm with sar_msg_ref_num of length 1",
       "00000043 00000004 00000000 00000020"  // header: 67
       "00 01 01 34343737303039303031323300 01 01 34343737303039303034353600"
       "00 00 00 00 00 01 00 00 00 05 48656C6C6F"
       "020C 0001 12",  // sar_msg_ref_num is 2 octets (5.3.2.22)
       codec_errc::invalid_tlv, command_status::ESME_RINVPARLEN, "sar_msg_ref_num", 62,
       command_id::submit_sm_resp},

      {"submit_sm with a source_addr of 21 characters",
       "00000047 00000004 00000000 00000020"  // header: 71
       "00 01 01"
       "34343737303039303031323334353637383930313200"  // 21 digits: no NUL within 21 octets
       "01 01 34343737303039303034353600"
       "00 00 00 00 00 01 00 00 00 05 48656C6C6F",
       codec_errc::invalid_field, command_status::ESME_RINVSRCADR, "source_addr", 19,
       command_id::submit_sm_resp},

      {"submit_sm with a destination_addr of 21 characters",
       "00000047 00000004 00000000 00000020"  // header: 71
       "00 01 01 34343737303039303031323300 01 01"
       "34343737303039303034353637383930313233343500"  // 21 digits: no NUL within 21 octets
       "00 00 00 00 00 01 00 00 00 05 48656C6C6F",
       codec_errc::invalid_field, command_status::ESME_RINVDSTADR, "destination_addr", 34,
       command_id::submit_sm_resp},

      {"submit_sm with a schedule_delivery_time of 5 characters",
       "00000043 00000004 00000000 00000020"  // header: 67
       "00 01 01 34343737303039303031323300 01 01 34343737303039303034353600"
       "00 00 00"
       "323430313100"  // schedule_delivery_time "24011": neither empty nor 16 characters
       "00 01 00 00 00 05 48656C6C6F",
       codec_errc::invalid_field, command_status::ESME_RINVSCHED, "schedule_delivery_time", 50,
       command_id::submit_sm_resp},

      {"submit_sm with a validity_period of 15 characters",
       "0000004D 00000004 00000000 00000020"  // header: 77
       "00 01 01 34343737303039303031323300 01 01 34343737303039303034353600"
       "00 00 00 00"
       "30303030303130303030303030303000"  // validity_period "000001000000000" (no 'R')
       "01 00 00 00 05 48656C6C6F",
       codec_errc::invalid_field, command_status::ESME_RINVEXPIRY, "validity_period", 51,
       command_id::submit_sm_resp},

      {"bind_transmitter with a system_id of 16 characters",
       "0000002D 00000002 00000000 00000001"  // header: 45
       "736D7070636C69656E7431323334353600"   // "smppclient123456": no NUL within 16 octets
       "73656372657400 00 34 00 00 00",
       codec_errc::invalid_field, command_status::ESME_RINVSYSID, "system_id", 16,
       command_id::bind_transmitter_resp},

      {"bind_transmitter with a password of 9 characters",
       "0000002B 00000002 00000000 00000001"  // header: 43
       "736D7070636C69656E743100"
       "73656372657431323300"  // "secret123": no NUL within 9 octets
       "00 34 00 00 00",
       codec_errc::invalid_field, command_status::ESME_RINVPASWD, "password", 28,
       command_id::bind_transmitter_resp},

      {"submit_multi with number_of_dests 0",
       "0000002B 00000021 00000000 00000021"  // header: 43, submit_multi, seq 33
       "00 01 01 34343737303039303031323300"
       "00"  // number_of_dests 0
       "00 00 00 00 00 01 00 00 00 00",
       codec_errc::invalid_field, command_status::ESME_RINVNUMDESTS, "number_of_dests", 32,
       command_id::submit_multi_resp},

      {"submit_multi with dest_flag 3",
       "0000003B 00000021 00000000 00000021"  // header: 59, submit_multi, seq 33
       "00 01 01 34343737303039303031323300"
       "01"
       "03 01 01 34343737303039303034353600"  // dest_flag 3: neither SME (1) nor list (2)
       "00 00 00 00 00 01 00 00 00 00",
       codec_errc::invalid_field, command_status::ESME_RINVDESTFLAG, "dest_flag", 33,
       command_id::submit_multi_resp},

      {"deliver_sm with a receipted_message_id holding a NUL",
       "0000004D 00000005 00000000 00000020"  // header: 77, deliver_sm
       "00 01 01 34343737303039303031323300 01 01 34343737303039303034353600"
       "04 00 00 00 00 01 00 00 00 05 48656C6C6F"
       "001E 000B 3041314232 00 4333443400",  // "0A1B2\0C3D4\0"
       codec_errc::invalid_tlv, command_status::ESME_RINVOPTPARAMVAL, "receipted_message_id",
       62, command_id::deliver_sm_resp},
  };
  return rows;
}

TEST(codec, rejects_every_malformed_pdu) {
  for (const error_row& row : error_rows()) {
    SCOPED_TRACE(row.name);
    const std::vector<std::uint8_t> bytes = from_hex(row.hex);
    pdu out;
    const smpp::decode_result r = smpp::decode(bytes, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.ec, make_error_code(row.errc)) << r.ec.message();
    EXPECT_EQ(smpp::name(r.status), smpp::name(row.status));
    EXPECT_EQ(r.field, row.field);
    if (row.offset) {
      EXPECT_EQ(r.offset, *row.offset);
    }
    if (row.nack) {
      EXPECT_EQ(smpp::name(smpp::nack_command_for(r)), smpp::name(*row.nack));
    }
    if (bytes.size() >= smpp::header_size) {
      EXPECT_EQ(r.header.sequence_number, bytes[15]);  // every row's is below 256
    }
  }
}

TEST(codec, reports_the_header_of_an_unknown_command) {
  const std::vector<std::uint8_t> bytes = from_hex("00000010 00000099 00000000 0000002A");
  pdu out;
  const smpp::decode_result r = smpp::decode(bytes, out);
  EXPECT_EQ(r.ec, make_error_code(codec_errc::unknown_command_id));
  EXPECT_EQ(r.header.command_id, 0x99u);
  EXPECT_EQ(r.header.sequence_number, 42u);
  EXPECT_EQ(smpp::nack_command_for(r), command_id::generic_nack);
  EXPECT_FALSE(smpp::is_fatal(r));
}

TEST(codec, treats_only_a_lost_frame_as_fatal) {
  for (const error_row& row : error_rows()) {
    SCOPED_TRACE(row.name);
    pdu out;
    const smpp::decode_result r = smpp::decode(from_hex(row.hex), out);
    EXPECT_EQ(smpp::is_fatal(r), row.errc == codec_errc::bad_command_length);
  }
}

// What a cut at length L earns: L names the first missing octet, so the row holding L is the
// field the cut falls in. errc empty: the cut falls between TLVs and the PDU is valid.
struct cut_row {
  std::size_t first, last;
  std::optional<codec_errc> errc;
  command_status status;
  const char* field;
  std::size_t offset;
};

constexpr cut_row truncated_at(std::size_t first, std::size_t last, const char* field) {
  return {first, last, codec_errc::truncated, command_status::ESME_RINVCMDLEN, field, first};
}
constexpr cut_row tlv_cut(std::size_t first, std::size_t last, std::size_t tlv_start) {
  return {first, last, codec_errc::invalid_tlv, command_status::ESME_RINVOPTPARSTREAM, "tlv",
          tlv_start};
}
constexpr cut_row valid_at(std::size_t at) {
  return {at, at, std::nullopt, command_status::ESME_ROK, "", 0};
}

void check_every_cut(const golden_row& row, std::span<const cut_row> cuts, command_id nack) {
  const std::vector<std::uint8_t> full = from_hex(row.hex);
  for (std::size_t len = smpp::header_size; len < full.size(); ++len) {
    SCOPED_TRACE("cut at " + std::to_string(len));
    std::vector<std::uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    fix_command_length(cut);
    const auto expected = std::find_if(cuts.begin(), cuts.end(), [&](const cut_row& c) {
      return c.first <= len && len <= c.last;
    });
    ASSERT_NE(expected, cuts.end()) << "no cut row covers this length";
    pdu out;
    const smpp::decode_result r = smpp::decode(cut, out);
    EXPECT_EQ(r.header.sequence_number, row.value.sequence_number);
    if (!expected->errc) {
      EXPECT_TRUE(r) << r.ec.message() << " at " << r.field;
      continue;
    }
    ASSERT_FALSE(r);
    EXPECT_EQ(r.ec, make_error_code(*expected->errc)) << r.ec.message();
    EXPECT_EQ(smpp::name(r.status), smpp::name(expected->status));
    EXPECT_EQ(r.field, expected->field);
    EXPECT_EQ(r.offset, expected->offset);
    EXPECT_EQ(smpp::nack_command_for(r), nack);
  }
}

TEST(codec, rejects_every_cut_of_a_submit_sm) {
  static constexpr cut_row cuts[] = {
      truncated_at(16, 16, "service_type"),
      truncated_at(17, 17, "source_addr_ton"),
      truncated_at(18, 18, "source_addr_npi"),
      truncated_at(19, 31, "source_addr"),
      truncated_at(32, 32, "dest_addr_ton"),
      truncated_at(33, 33, "dest_addr_npi"),
      truncated_at(34, 46, "destination_addr"),
      truncated_at(47, 47, "esm_class"),
      truncated_at(48, 48, "protocol_id"),
      truncated_at(49, 49, "priority_flag"),
      truncated_at(50, 50, "schedule_delivery_time"),
      truncated_at(51, 67, "validity_period"),
      truncated_at(68, 68, "registered_delivery"),
      truncated_at(69, 69, "replace_if_present_flag"),
      truncated_at(70, 70, "data_coding"),
      truncated_at(71, 71, "sm_default_msg_id"),
      truncated_at(72, 72, "sm_length"),
      // sm_length 16 with fewer octets left: the length lies, not the frame.
      {73, 88, codec_errc::invalid_field, command_status::ESME_RINVMSGLEN, "sm_length", 72},
      valid_at(89),             // ends after short_message, without TLVs
      tlv_cut(90, 94, 89),      // inside sar_msg_ref_num
      valid_at(95),             // ends after sar_msg_ref_num
      tlv_cut(96, 99, 95),      // inside sar_total_segments
      valid_at(100),            // ends after sar_total_segments
      tlv_cut(101, 104, 100),   // inside sar_segment_seqnum
  };
  const golden_row& row =
      golden_named("submit_sm, segment 1 of 2 by sar_* TLVs, relative validity_period");
  check_every_cut(row, cuts, command_id::submit_sm_resp);
}

TEST(codec, rejects_every_cut_of_a_bind_transmitter) {
  static constexpr cut_row cuts[] = {
      truncated_at(16, 27, "system_id"),
      truncated_at(28, 34, "password"),
      truncated_at(35, 35, "system_type"),
      truncated_at(36, 36, "interface_version"),
      truncated_at(37, 37, "addr_ton"),
      truncated_at(38, 38, "addr_npi"),
      truncated_at(39, 39, "address_range"),
  };
  const golden_row& row =
      golden_named("bind_transmitter of smppclient1, no system_type or address_range");
  check_every_cut(row, cuts, command_id::bind_transmitter_resp);
}

TEST(codec, survives_every_cut_of_every_golden_vector) {
  for (const golden_row& row : golden()) {
    SCOPED_TRACE(row.name);
    const std::vector<std::uint8_t> full = from_hex(row.hex);
    for (std::size_t len = smpp::header_size; len < full.size(); ++len) {
      std::vector<std::uint8_t> cut(full.begin(),
                                    full.begin() + static_cast<std::ptrdiff_t>(len));
      fix_command_length(cut);
      pdu out;
      const smpp::decode_result r = smpp::decode(cut, out);
      EXPECT_EQ(r.header.sequence_number, row.value.sequence_number) << "cut at " << len;
      if (!r) {
        EXPECT_NE(smpp::name(r.status), "ESME_ROK") << "cut at " << len;
      }
    }
  }
}

// The minimal submit_sm of error_rows(), up to and including sm_length.
constexpr std::string_view submit_sm_up_to_sm_length =
    "0000003E 00000004 00000000 00000020"
    "00 01 01 34343737303039303031323300 01 01 34343737303039303034353600"
    "00 00 00 00 00 01 00 00 00";

TEST(codec, rejects_sm_length_255_even_when_the_octets_are_there) {
  std::vector<std::uint8_t> bytes = from_hex(submit_sm_up_to_sm_length);
  bytes.push_back(255);
  bytes.insert(bytes.end(), 255, 'x');
  fix_command_length(bytes);
  pdu out;
  const smpp::decode_result r = smpp::decode(bytes, out);
  EXPECT_EQ(r.ec, make_error_code(codec_errc::invalid_field));
  EXPECT_EQ(smpp::name(r.status), "ESME_RINVMSGLEN");
  EXPECT_EQ(r.field, "sm_length");
  EXPECT_EQ(r.offset, 56u);
}

TEST(codec, refuses_more_unknown_tlvs_than_it_can_hold) {
  std::vector<std::uint8_t> bytes = from_hex(submit_sm_up_to_sm_length);
  bytes.push_back(0);  // sm_length 0
  for (std::size_t i = 0; i < smpp::max_unknown_tlvs; ++i)
    bytes.insert(bytes.end(), {0x14, 0x00, 0x00, 0x00});  // vendor tag 0x1400, length 0
  fix_command_length(bytes);
  pdu out;
  const smpp::decode_result full = smpp::decode(bytes, out);
  ASSERT_TRUE(full) << full.ec.message();
  EXPECT_EQ(out.get<smpp::submit_sm>()->tlvs.unknown.size(), smpp::max_unknown_tlvs);

  const std::size_t one_more_at = bytes.size();
  bytes.insert(bytes.end(), {0x14, 0x01, 0x00, 0x00});
  fix_command_length(bytes);
  const smpp::decode_result r = smpp::decode(bytes, out);
  EXPECT_EQ(r.ec, make_error_code(codec_errc::too_many_tlvs));
  EXPECT_EQ(smpp::name(r.status), "ESME_RINVOPTPARSTREAM");
  EXPECT_EQ(r.offset, one_more_at);
  EXPECT_EQ(smpp::nack_command_for(r), command_id::submit_sm_resp);
}

// Several SMSCs send receipted_message_id without the NUL its C-Octet String type requires.
TEST(codec, accepts_a_receipted_message_id_without_its_nul) {
  const std::vector<std::uint8_t> bytes = from_hex(
      "0000004C 00000005 00000000 00000020"  // header: 76, deliver_sm
      "00 01 01 34343737303039303031323300 01 01 34343737303039303034353600"
      "04 00 00 00 00 01 00 00 00 05 48656C6C6F"
      "001E 000A 30413142324333443445");  // receipted_message_id "0A1B2C3D4E", no NUL
  pdu out;
  const smpp::decode_result r = smpp::decode(bytes, out);
  ASSERT_TRUE(r) << r.ec.message() << " at " << r.field;
  ASSERT_NE(out.get<smpp::deliver_sm>(), nullptr);
  EXPECT_EQ(out.get<smpp::deliver_sm>()->tlvs.receipted_message_id, "0A1B2C3D4E");
}

// ---- encoding errors ------------------------------------------------------

const std::string text_255(255, 'x');
const smpp::dest_address bad_dest_flag[] = {{.dest_flag = 3, .address = "447700900456"}};

struct encode_error_row {
  const char* name;
  pdu value;
  const char* field;
};

TEST(codec, refuses_to_encode_out_of_range_fields) {
  const encode_error_row rows[] = {
      {"source_addr of 21 characters",
       make_pdu(1, smpp::submit_sm{{.source_addr = "447700900123456789012",
                                    .destination_addr = "447700900456"}}),
       "source_addr"},
      {"short_message of 255 octets",
       make_pdu(1, smpp::submit_sm{{.destination_addr = "447700900456",
                                    .short_message = text_255}}),
       "short_message"},
      {"system_id of 16 characters",
       make_pdu(1, smpp::bind_transmitter{{.system_id = "smppclient123456"}}), "system_id"},
      {"password of 9 characters",
       make_pdu(1, smpp::bind_transmitter{{.system_id = "smppclient1",
                                           .password = "secret123"}}),
       "password"},
      {"schedule_delivery_time of 5 characters",
       make_pdu(1, smpp::submit_sm{{.destination_addr = "447700900456",
                                    .schedule_delivery_time = "24011"}}),
       "schedule_delivery_time"},
      {"message_id of 65 characters",
       make_pdu(1, smpp::submit_sm_resp{{.message_id = std::string_view(text_255).substr(0, 65)}}),
       "message_id"},
      {"submit_multi without destinations",
       make_pdu(1, smpp::submit_multi{{.source_addr = "447700900123"}}), "number_of_dests"},
      {"submit_multi with dest_flag 3",
       make_pdu(1, smpp::submit_multi{{.dest_addresses = list_of<smpp::dest_address>(
                                           bad_dest_flag)}}),
       "dest_flag"},
      {"receipted_message_id holding a NUL",
       make_pdu(1, smpp::deliver_sm{{.tlvs = {.receipted_message_id = "0A1B\0C3D"sv}}}),
       "receipted_message_id"},
  };
  for (const encode_error_row& row : rows) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(smpp::encoded_size(row.value), 0u);
    std::array<std::uint8_t, 512> out;
    out.fill(0xAA);
    const smpp::encode_result r = smpp::encode(row.value, out);
    EXPECT_EQ(r.ec, make_error_code(codec_errc::invalid_field));
    EXPECT_EQ(r.field, row.field);
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](std::uint8_t b) { return b == 0xAA; }));
  }
}

TEST(codec, refuses_a_buffer_one_octet_short) {
  const golden_row& row = golden_named("submit_sm_resp carrying the SMSC message_id");
  const std::size_t size = smpp::encoded_size(row.value);
  ASSERT_EQ(size, 27u);
  std::vector<std::uint8_t> out(size + 8, 0xAA);
  const smpp::encode_result r = smpp::encode(row.value, std::span(out).first(size - 1));
  EXPECT_EQ(r.ec, make_error_code(codec_errc::buffer_too_small));
  EXPECT_TRUE(std::all_of(out.begin() + static_cast<std::ptrdiff_t>(size - 1), out.end(),
                          [](std::uint8_t b) { return b == 0xAA; }));
}

TEST(codec, encodes_into_a_buffer_of_exactly_encoded_size) {
  const golden_row& row = golden_named("submit_sm_resp carrying the SMSC message_id");
  std::vector<std::uint8_t> out(smpp::encoded_size(row.value) + 8, 0xAA);
  const smpp::encode_result r = smpp::encode(row.value, std::span(out).first(out.size() - 8));
  ASSERT_TRUE(r) << r.ec.message();
  EXPECT_EQ(r.size, out.size() - 8);
  EXPECT_TRUE(std::all_of(out.end() - 8, out.end(), [](std::uint8_t b) { return b == 0xAA; }));
}

// ---- round trips ----------------------------------------------------------

void expect_round_trip(const pdu& value) {
  const std::vector<std::uint8_t> bytes = encode_to_vector(value);
  ASSERT_FALSE(bytes.empty()) << "refused to encode " << describe(value);
  ASSERT_EQ(bytes.size(), smpp::encoded_size(value));
  pdu out;
  const smpp::decode_result r = smpp::decode(bytes, out);
  ASSERT_TRUE(r) << r.ec.message() << " at " << r.field << " offset " << r.offset;
  EXPECT_TRUE(out == value) << "decoded:  " << describe(out)
                            << "\nexpected: " << describe(value);
}

TEST(codec, round_trips_strings_at_their_maximum_length) {
  // Every octet value but 0xFF and 0xFE: short_message is an Octet String, NULs included.
  static const std::string binary_254 = [] {
    std::string s;
    for (int i = 0; i < 254; ++i) s += static_cast<char>(i);
    return s;
  }();
  static const std::string digits_64(64, '7');
  static const std::string payload_65535(65535, 'p');
  static const std::vector<smpp::dest_address> dests_254(
      254, smpp::dest_address{.dest_flag = 1, .dest_addr_ton = 1, .dest_addr_npi = 1,
                              .address = "44770090012345678901"});
  const std::string_view d64 = digits_64;

  {
    SCOPED_TRACE("bind_transmitter");
    expect_round_trip(make_pdu(
        1, smpp::bind_transmitter{{.system_id = "smppclient12345", .password = "12345678",
                                   .system_type = "ABCDEFGHIJKL",
                                   .address_range = d64.substr(0, 40)}}));
  }
  {
    SCOPED_TRACE("submit_sm");
    expect_round_trip(make_pdu(
        2, smpp::submit_sm{{.service_type = "ABCDE",
                            .source_addr = "44770090012345678901",
                            .destination_addr = "44770090098765432109",
                            .schedule_delivery_time = "240116090000000+",
                            .validity_period = "000001000000000R",
                            .short_message = binary_254}}));
  }
  {
    SCOPED_TRACE("submit_sm_resp");
    expect_round_trip(make_pdu(3, smpp::submit_sm_resp{{.message_id = d64}}));
  }
  {
    SCOPED_TRACE("data_sm with a full message_payload");
    expect_round_trip(make_pdu(
        4, smpp::data_sm{{.source_addr = d64, .destination_addr = d64,
                          .tlvs = {.message_payload = payload_65535}}}));
  }
  {
    SCOPED_TRACE("submit_multi with 254 destinations");
    expect_round_trip(make_pdu(
        5, smpp::submit_multi{{.source_addr = "44770090012345678901",
                               .dest_addresses = list_of<smpp::dest_address>(dests_254),
                               .short_message = "hi"}}));
  }
}

TEST(codec, round_trips_a_pdu_with_every_tlv_set) {
  smpp::tlv_set all = {
      .dest_addr_subunit = 1,
      .dest_network_type = 1,
      .dest_bearer_type = 1,
      .dest_telematics_id = 0x0102,
      .source_addr_subunit = 2,
      .source_network_type = 1,
      .source_bearer_type = 1,
      .source_telematics_id = 0x0304,
      .qos_time_to_live = 86400,
      .payload_type = 1,
      .additional_status_info_text = "info",
      .receipted_message_id = "0A1B2C3D4E",
      .ms_msg_wait_facilities = 0x80,
      .privacy_indicator = 1,
      .source_subaddress = "\xA0\x01\x02",
      .dest_subaddress = "\xA0\x03\x04",
      .user_message_reference = 0xBEEF,
      .user_response_code = 7,
      .source_port = 9200,
      .destination_port = 2948,
      .sar_msg_ref_num = 0x1234,
      .language_indicator = 1,
      .sar_total_segments = 3,
      .sar_segment_seqnum = 2,
      .sc_interface_version = 0x34,
      .callback_num_pres_ind = 1,
      .callback_num_atag = "\0Call me"sv,
      .number_of_messages = 5,
      .callback_num = "\0\x01\x01" "447700900123"sv,
      .dpf_result = 1,
      .set_dpf = 1,
      .ms_availability_status = 2,
      .network_error_code = "\x03\0\x22"sv,
      .message_payload = "payload",
      .delivery_failure_reason = 1,
      .more_messages_to_send = 0,
      .message_state = 2,
      .ussd_service_op = 0x11,
      .display_time = 1,
      .sms_signal = 0x0101,
      .ms_validity = 0,
      .alert_on_message_delivery = smpp::tlv_kind::flag{},
      .its_reply_type = 1,
      .its_session_info = "\x01\0"sv,
  };
  static const std::string vendor_values = "0123456789ABCDEF";
  for (std::uint16_t i = 0; i < smpp::max_unknown_tlvs; ++i)
    ASSERT_TRUE(all.unknown.push_back(
        {static_cast<std::uint16_t>(0x1400 + i), std::string_view(vendor_values).substr(0, i)}));
  expect_round_trip(make_pdu(
      20, smpp::submit_sm{{.source_addr = "447700900123", .destination_addr = "447700900456",
                           .short_message = "", .tlvs = all}}));
  expect_round_trip(make_pdu(
      21, smpp::data_sm{{.source_addr = "447700900123", .destination_addr = "447700900456",
                         .tlvs = all}}));
}

// ---- framing --------------------------------------------------------------

TEST(framing, needs_more_for_every_prefix_of_a_pdu) {
  const std::vector<std::uint8_t> full =
      from_hex(golden_named("submit_sm with message_payload and a vendor TLV 0x1400").hex);
  for (std::size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE("prefix of " + std::to_string(n));
    const std::vector<std::uint8_t> prefix(full.begin(),
                                           full.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<std::uint8_t> buffer = prefix;
    const smpp::frame f = smpp::next_frame(buffer);
    EXPECT_EQ(f.status, smpp::frame::state::need_more);
    EXPECT_GT(f.length, n);
    if (n >= 4) {
      EXPECT_EQ(f.length, full.size());  // the length is judged as soon as it is in
    }
    EXPECT_EQ(buffer, prefix);
  }
  const smpp::frame f = smpp::next_frame(full);
  EXPECT_EQ(f.status, smpp::frame::state::complete);
  EXPECT_EQ(f.length, full.size());
}

TEST(framing, decodes_two_pdus_from_one_read) {
  std::vector<std::uint8_t> buffer = from_hex(golden_named("enquire_link, header only").hex);
  const std::vector<std::uint8_t> second =
      from_hex(golden_named("deliver_sm delivery receipt with receipted_message_id and "
                         "message_state").hex);
  buffer.insert(buffer.end(), second.begin(), second.end());
  buffer.insert(buffer.end(), {0x00, 0x00, 0x00});  // the start of a third PDU

  std::vector<pdu> decoded;
  std::span<const std::uint8_t> rest = buffer;
  for (;;) {
    const smpp::frame f = smpp::next_frame(rest);
    if (f.status != smpp::frame::state::complete) {
      EXPECT_EQ(f.status, smpp::frame::state::need_more);
      break;
    }
    pdu out;
    const smpp::decode_result r = smpp::decode(rest.first(f.length), out);
    ASSERT_TRUE(r) << r.ec.message() << " at " << r.field;
    decoded.push_back(out);
    rest = rest.subspan(f.length);
  }
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0].id(), command_id::enquire_link);
  EXPECT_EQ(decoded[0].sequence_number, 6u);
  EXPECT_EQ(decoded[1].id(), command_id::deliver_sm);
  EXPECT_EQ(decoded[1].sequence_number, 10u);
  EXPECT_EQ(decoded[1].get<smpp::deliver_sm>()->short_message, receipt_text);
  EXPECT_EQ(rest.size(), 3u);
}

TEST(framing, rejects_a_command_length_below_the_header) {
  for (std::uint8_t len : {0, 1, 15}) {
    SCOPED_TRACE("command_length " + std::to_string(len));
    const std::vector<std::uint8_t> buffer = {0, 0, 0, len};  // judged before the rest arrives
    const smpp::frame f = smpp::next_frame(buffer);
    EXPECT_EQ(f.status, smpp::frame::state::bad_length);
    EXPECT_EQ(f.length, len);
  }
}

TEST(framing, rejects_garbage_before_a_valid_pdu) {
  std::vector<std::uint8_t> buffer = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/',
                                      '1', '.', '1', '\r', '\n'};
  const std::vector<std::uint8_t> valid = from_hex(golden_named("enquire_link, header only").hex);
  buffer.insert(buffer.end(), valid.begin(), valid.end());
  const smpp::frame f = smpp::next_frame(buffer);
  EXPECT_EQ(f.status, smpp::frame::state::bad_length);  // 0x47455420 octets
  EXPECT_EQ(f.length, 0x47455420u);
}

TEST(framing, rejects_a_command_length_above_the_maximum) {
  const std::vector<std::uint8_t> len_2000 = from_hex("000007D0 00000004 00000000 00000001");
  EXPECT_EQ(smpp::next_frame(len_2000, 1024).status, smpp::frame::state::bad_length);
  EXPECT_EQ(smpp::next_frame(len_2000, 2000).status, smpp::frame::state::need_more);

  const std::vector<std::uint8_t> above_default = from_hex("00011171");  // 70001
  EXPECT_EQ(smpp::next_frame(above_default).status, smpp::frame::state::bad_length);
  const std::vector<std::uint8_t> at_default = from_hex("00011170");  // 70000
  EXPECT_EQ(smpp::next_frame(at_default).status, smpp::frame::state::need_more);
}

// ---- command_status -------------------------------------------------------

TEST(command_status, classifies_responses) {
  struct row {
    command_status status;
    smpp::status_class kind;
    bool slow_down;
  };
  using enum smpp::status_class;
  const row rows[] = {
      {command_status::ESME_ROK, success, false},
      {command_status::ESME_RTHROTTLED, temporary, true},
      {command_status::ESME_RMSGQFUL, temporary, false},
      {command_status::ESME_RSYSERR, temporary, false},
      {command_status::ESME_RINVDSTADR, permanent, false},
      {command_status::ESME_RINVSRCADR, permanent, false},
      {command_status::ESME_RINVMSGLEN, permanent, false},
      {static_cast<command_status>(0x400), temporary, false},  // vendor-specific, undefined
  };
  for (const row& r : rows) {
    SCOPED_TRACE("command_status " + std::to_string(static_cast<std::uint32_t>(r.status)));
    const smpp::status_verdict v = smpp::classify(r.status);
    EXPECT_EQ(v.kind, r.kind);
    EXPECT_EQ(v.slow_down, r.slow_down);
  }
}

TEST(command_status, names_the_values_the_specification_defines) {
  EXPECT_EQ(smpp::name(command_status::ESME_ROK), "ESME_ROK");
  EXPECT_EQ(smpp::name(command_status::ESME_RTHROTTLED), "ESME_RTHROTTLED");
  EXPECT_EQ(smpp::name(command_status::ESME_RINVOPTPARSTREAM), "ESME_RINVOPTPARSTREAM");
  EXPECT_EQ(smpp::name(static_cast<command_status>(0x400)), "");
  EXPECT_EQ(smpp::name(static_cast<command_status>(0x09)), "");  // reserved
}

}  // namespace
