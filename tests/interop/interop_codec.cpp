// The codec's side of the interop checks against implementations we did
// not write (node-smpp, Wireshark's SMPP dissector). Line-oriented, so that
// a script in any language can drive it:
//
//   interop_codec encode   "<name> <hex>" for each PDU of the sample, as
//                          smpp::encode writes it
//   interop_codec sample   one JSON object per PDU of the sample: the values
//                          it was built from, in the shape `decode` prints
//   interop_codec decode   reads "<name> <hex>" lines, decodes each with
//                          smpp::decode and prints one JSON object per line;
//                          exits 1 if any line fails to decode
//
// The sample built here is the one source of the expected values: a peer
// check compares what the peer decodes from `encode` with `sample`, and
// what `decode` makes of the peer's encoding of `sample` with `sample`.
#include <cstdint>
#include <cstdio>
#include <deque>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "smpp/codec.hpp"
#include "smpp/pdu.hpp"
#include "smpp/pdu_fields.hpp"
#include "smpp/text.hpp"

namespace {

// ---- JSON output ---------------------------------------------------------

std::string hex_of(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0x0F];
  }
  return out;
}

// A wire string is shown octet by octet: each octet outside printable
// ASCII becomes the code point of the same value, so every octet survives
// the trip through JSON whatever it encodes. A UTF-8 text is kept as it is.
std::string json_string(std::string_view s, bool utf8 = false) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F || (c > 0x7F && !utf8)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

class json_object {
 public:
  void raw(std::string_view key, std::string_view value) {
    out_ += out_.empty() ? "{" : ",";
    out_ += json_string(key);
    out_ += ':';
    out_ += value;
  }
  void str(std::string_view key, std::string_view value) { raw(key, json_string(value)); }
  void utf8(std::string_view key, std::string_view value) { raw(key, json_string(value, true)); }
  void hex(std::string_view key, std::string_view value) { raw(key, json_string(hex_of(value))); }
  void num(std::string_view key, std::uint64_t value) { raw(key, std::to_string(value)); }
  std::string done() const { return out_.empty() ? "{}" : out_ + "}"; }

 private:
  std::string out_;
};

class json_array {
 public:
  void add(const json_object& e) {
    out_ += out_.empty() ? "[" : ",";
    out_ += e.done();
  }
  std::string done() const { return out_.empty() ? "[]" : out_ + "]"; }

 private:
  std::string out_;
};

// ---- PDU -> JSON ---------------------------------------------------------

void put_tlvs(json_object& j, const smpp::tlv_set& t) {
  json_array unknown;
  smpp::for_each_tlv(t, [&](std::string_view name, std::uint16_t tag, smpp::tlv_wire_kind kind,
                            const auto& v) {
    using V = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<V, smpp::tlv_kind::flag>) {
      j.raw(name, "true");
    } else if constexpr (std::is_same_v<V, std::string_view>) {
      if (name.empty()) {  // a TLV the specification does not define
        json_object e;
        e.num("tag", tag);
        e.hex("value", v);
        unknown.add(e);
      } else if (kind == smpp::tlv_wire_kind::cstr) {
        j.str(name, v);
      } else {
        j.hex(name, v);
      }
    } else {
      j.num(name, v);
    }
  });
  if (!t.unknown.empty()) j.raw("unknown_tlvs", unknown.done());
}

// Prints every field of a body, walking the codec's own field description.
struct json_fields {
  json_object& j;
  void u8(std::uint8_t v, const char* name) { j.num(name, v); }
  void u32(std::uint32_t v, const char* name) { j.num(name, v); }
  void cstr(std::string_view v, const smpp::cstr_limit& f) { j.str(f.name, v); }
  void time(std::string_view v, const smpp::cstr_limit& f) { j.str(f.name, v); }
  void short_message(std::string_view v) { j.hex("short_message", v); }
  void dest_addresses(const smpp::wire_list<smpp::dest_address>& l) {
    json_array list;
    l.for_each([&](const smpp::dest_address& d) {
      json_object e;
      e.num("dest_flag", d.dest_flag);
      if (d.dest_flag == 1) {
        e.num("dest_addr_ton", d.dest_addr_ton);
        e.num("dest_addr_npi", d.dest_addr_npi);
        e.str("destination_addr", d.address);
      } else {
        e.str("dl_name", d.address);
      }
      list.add(e);
    });
    j.raw("dest_addresses", list.done());
  }
  void unsuccess_smes(const smpp::wire_list<smpp::unsuccess_sme>& l) {
    json_array list;
    l.for_each([&](const smpp::unsuccess_sme& u) {
      json_object e;
      e.num("dest_addr_ton", u.dest_addr_ton);
      e.num("dest_addr_npi", u.dest_addr_npi);
      e.str("destination_addr", u.destination_addr);
      e.num("error_status_code", u.error_status_code);
      list.add(e);
    });
    j.raw("unsuccess_smes", list.done());
  }
  void tlvs(const smpp::tlv_set& t) { put_tlvs(j, t); }
  void end() {}
};

// `text` is the UTF-8 text the short_message (or message_payload) carries,
// for peers that decode text themselves; empty when the PDU carries none.
std::string pdu_json(std::string_view name, const smpp::pdu& p, std::string_view text = {}) {
  json_object j;
  j.str("name", name);
  j.str("command", smpp::name(p.id()));
  j.num("command_id", static_cast<std::uint32_t>(p.id()));
  j.num("command_status", p.command_status);
  j.num("sequence_number", p.sequence_number);
  json_fields fields{j};
  smpp::visit_body(fields, p);
  if (!text.empty()) j.utf8("text", text);
  return j.done();
}

// ---- The sample ----------------------------------------------------------

struct sample_pdu {
  std::string name;
  smpp::pdu pdu;
  std::string text;
};

// Owns every octet the sample's views point at; built in place and never
// moved, since the PDUs hold views and spans into it.
class sample_set {
 public:
  sample_set() { build(); }
  sample_set(const sample_set&) = delete;
  sample_set& operator=(const sample_set&) = delete;

  const std::vector<sample_pdu>& pdus() const { return pdus_; }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  std::string_view keep(std::string s) { return strings_.emplace_back(std::move(s)); }
  std::string_view keep(std::span<const std::uint8_t> s) {
    return keep(std::string(s.begin(), s.end()));
  }
  void add(std::string name, std::uint32_t seq, smpp::pdu_body body, std::string text = {},
           smpp::command_status status = smpp::command_status::ESME_ROK) {
    pdus_.push_back({std::move(name), smpp::make_pdu(seq, std::move(body), status),
                     std::move(text)});
  }
  // Encodes `text` with the project's text layer, so that the peers' own
  // text decoding is checked against it too.
  const smpp::encoded_text& encode(std::string_view text, const smpp::encode_options& o) {
    smpp::encoded_text& t = texts_.emplace_back();
    if (auto ec = smpp::encode_text(text, o, t))
      error_ += "encode_text(\"" + std::string(text) + "\"): " + ec.message() + "\n";
    return t;
  }
  // The characters of `text` that part `i` of `t` carries.
  std::string part_text(std::string_view text, const smpp::encoded_text& t, std::size_t i) {
    std::u32string chars;
    std::size_t bad = 0;
    if (smpp::utf8_decode(text, chars, bad)) return {};
    std::size_t from = 0;
    for (std::size_t k = 0; k < i; ++k) from += t.parts[k].characters;
    std::string out;
    for (std::size_t k = from; k < from + t.parts[i].characters && k < chars.size(); ++k)
      smpp::utf8_append(chars[k], out);
    return out;
  }
  void build();

  std::deque<std::string> strings_;
  std::deque<smpp::encoded_text> texts_;
  std::deque<std::vector<smpp::dest_address>> dest_lists_;
  std::deque<std::vector<smpp::unsuccess_sme>> unsuccess_lists_;
  std::vector<sample_pdu> pdus_;
  std::string error_;
};

void sample_set::build() {
  using enum smpp::command_status;
  constexpr std::string_view esme_msisdn = "447700900001";
  constexpr std::string_view handset = "447700900123";

  smpp::bind_transceiver bind;
  bind.system_id = "smppd";
  bind.password = "secret";
  bind.system_type = "interop";
  bind.interface_version = 0x34;
  bind.addr_ton = 1;
  bind.addr_npi = 1;
  bind.address_range = "^4477";
  add("bind_transceiver", 1, bind);

  smpp::bind_transceiver_resp bind_resp;
  bind_resp.system_id = "smsc-sim";
  bind_resp.tlvs.sc_interface_version = 0x34;
  add("bind_transceiver_resp", 1, bind_resp);

  {
    // Characters whose GSM 03.38 code differs from ASCII, and two from the
    // extension table (escape 0x1B).
    const std::string text = "Hello @ 10\xe2\x82\xac [ok]_";
    const auto& t = encode(text, {});
    smpp::submit_sm s;
    s.service_type = "CMT";
    s.source_addr_ton = 5;
    s.source_addr = "smppd";
    s.dest_addr_ton = 1;
    s.dest_addr_npi = 1;
    s.destination_addr = handset;
    s.priority_flag = 1;
    s.validity_period = "000001000000000R";
    s.registered_delivery = 1;
    s.data_coding = t.data_coding;
    if (!t.parts.empty()) s.short_message = keep(t.short_message(t.parts[0]));
    add("submit_sm_gsm", 2, s, text);
  }
  {
    const std::string text =
        "\xd0\xa1\xd1\x8a\xd0\xb5\xd1\x88\xd1\x8c \xd0\xb6\xd0\xb5 \xd0\xb5\xd1\x89\xd1\x91 "
        "\xd1\x8d\xd1\x82\xd0\xb8\xd1\x85 \xd0\xbc\xd1\x8f\xd0\xb3\xd0\xba\xd0\xb8\xd1\x85 "
        "\xd1\x84\xd1\x80\xd0\xb0\xd0\xbd\xd1\x86\xd1\x83\xd0\xb7\xd1\x81\xd0\xba\xd0\xb8\xd1\x85 "
        "\xd0\xb1\xd1\x83\xd0\xbb\xd0\xbe\xd0\xba, \xd0\xb4\xd0\xb0 \xd0\xb2\xd1\x8b\xd0\xbf"
        "\xd0\xb5\xd0\xb9 \xd0\xb6\xd0\xb5 \xd1\x87\xd0\xb0\xd1\x8e. \xe2\x9c\x93 "
        "\xd0\xa1\xd1\x8a\xd0\xb5\xd1\x88\xd1\x8c \xd0\xb6\xd0\xb5 \xd0\xb5\xd1\x89\xd1\x91 "
        "\xd1\x8d\xd1\x82\xd0\xb8\xd1\x85 \xd0\xbc\xd1\x8f\xd0\xb3\xd0\xba\xd0\xb8\xd1\x85 "
        "\xd1\x84\xd1\x80\xd0\xb0\xd0\xbd\xd1\x86\xd1\x83\xd0\xb7\xd1\x81\xd0\xba\xd0\xb8\xd1\x85 "
        "\xd0\xb1\xd1\x83\xd0\xbb\xd0\xbe\xd0\xba.";
    smpp::encode_options o;
    o.long_messages = smpp::long_message_method::sar;
    o.reference = 0x5A;
    const auto& t = encode(text, o);
    if (t.parts.size() != 2) error_ += "submit_sm_ucs2_sar: expected 2 parts\n";
    smpp::submit_sm s;
    s.source_addr_ton = 1;
    s.source_addr_npi = 1;
    s.source_addr = esme_msisdn;
    s.dest_addr_ton = 1;
    s.dest_addr_npi = 1;
    s.destination_addr = handset;
    s.data_coding = t.data_coding;
    if (!t.parts.empty()) {
      s.short_message = keep(t.short_message(t.parts[0]));
      s.tlvs.sar_msg_ref_num = t.reference;
      s.tlvs.sar_total_segments = static_cast<std::uint8_t>(t.parts.size());
      s.tlvs.sar_segment_seqnum = t.parts[0].sar_seqnum;
    }
    add("submit_sm_ucs2_sar", 3, s, t.parts.empty() ? std::string() : part_text(text, t, 0));
  }
  {
    std::string text;
    for (int i = 1; i <= 8; ++i)
      text += "Part of a long text sent whole in message_payload, line " + std::to_string(i) +
              ". ";
    smpp::encode_options o;
    o.long_messages = smpp::long_message_method::payload;
    const auto& t = encode(text, o);
    smpp::submit_sm s;
    s.source_addr_ton = 1;
    s.source_addr_npi = 1;
    s.source_addr = esme_msisdn;
    s.dest_addr_ton = 1;
    s.dest_addr_npi = 1;
    s.destination_addr = handset;
    s.data_coding = t.data_coding;
    if (!t.parts.empty()) s.tlvs.message_payload = keep(t.short_message(t.parts[0]));
    add("submit_sm_payload", 4, s, text);
  }

  smpp::submit_sm_resp submit_resp;
  submit_resp.message_id = "msg-0001";
  add("submit_sm_resp", 2, submit_resp);
  // An error response: the peers must accept a header-only body too (3.3).
  add("submit_sm_resp_throttled", 3, smpp::submit_sm_resp{}, {}, ESME_RTHROTTLED);

  {
    const std::string text =
        "id:msg-0001 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
        "stat:DELIVRD err:000 text:Hello @ 10";
    const auto& t = encode(text, {});
    smpp::deliver_sm d;
    d.source_addr_ton = 1;
    d.source_addr_npi = 1;
    d.source_addr = handset;
    d.dest_addr_ton = 5;
    d.destination_addr = "smppd";
    d.esm_class = 0x04;  // SMSC delivery receipt
    d.data_coding = t.data_coding;
    if (!t.parts.empty()) d.short_message = keep(t.short_message(t.parts[0]));
    d.tlvs.receipted_message_id = "msg-0001";
    d.tlvs.message_state = 2;  // DELIVERED
    add("deliver_sm_receipt", 5, d, text);
  }
  add("deliver_sm_resp", 5, smpp::deliver_sm_resp{});

  {
    smpp::data_sm d;
    d.service_type = "WAP";
    d.source_addr_ton = 1;
    d.source_addr_npi = 1;
    d.source_addr = esme_msisdn;
    d.dest_addr_ton = 1;
    d.dest_addr_npi = 1;
    d.destination_addr = handset;
    d.registered_delivery = 1;
    d.data_coding = 0x04;  // 8-bit binary
    d.tlvs.source_port = 9200;
    d.tlvs.destination_port = 2948;
    d.tlvs.message_payload = keep(std::string("\x01\x06\x00\xff\x1b\x80 binary", 14));
    add("data_sm", 6, d);
  }
  {
    smpp::data_sm_resp r;
    r.message_id = "msg-0002";
    r.tlvs.additional_status_info_text = "queued";
    add("data_sm_resp", 6, r);
  }
  {
    smpp::query_sm q;
    q.message_id = "msg-0001";
    q.source_addr_ton = 1;
    q.source_addr_npi = 1;
    q.source_addr = esme_msisdn;
    add("query_sm", 7, q);
  }
  {
    smpp::query_sm_resp r;
    r.message_id = "msg-0001";
    r.final_date = "240101120100000+";
    r.message_state = 2;
    add("query_sm_resp", 7, r);
  }
  {
    smpp::cancel_sm c;
    c.message_id = "msg-0003";
    c.source_addr_ton = 1;
    c.source_addr_npi = 1;
    c.source_addr = esme_msisdn;
    c.dest_addr_ton = 1;
    c.dest_addr_npi = 1;
    c.destination_addr = handset;
    add("cancel_sm", 8, c);
  }
  {
    const std::string text = "Updated text";
    const auto& t = encode(text, {});
    smpp::replace_sm r;
    r.message_id = "msg-0003";
    r.source_addr_ton = 1;
    r.source_addr_npi = 1;
    r.source_addr = esme_msisdn;
    r.validity_period = "240102120000000+";
    r.registered_delivery = 1;
    if (!t.parts.empty()) r.short_message = keep(t.short_message(t.parts[0]));
    // No text for the peers: replace_sm has no data_coding (4.10.1), its
    // text is read with the coding of the message it replaces.
    add("replace_sm", 9, r);
  }
  {
    const std::string text = "Hello all";
    const auto& t = encode(text, {});
    auto& dests = dest_lists_.emplace_back();
    dests.push_back({1, 1, 1, handset});
    dests.push_back({2, 0, 0, "friends"});
    smpp::submit_multi m;
    m.source_addr_ton = 5;
    m.source_addr = "smppd";
    m.dest_addresses = std::span<const smpp::dest_address>(dests);
    m.registered_delivery = 1;
    m.data_coding = t.data_coding;
    if (!t.parts.empty()) m.short_message = keep(t.short_message(t.parts[0]));
    add("submit_multi", 10, m, text);
  }
  {
    auto& failed = unsuccess_lists_.emplace_back();
    failed.push_back({1, 1, "447700900999", static_cast<std::uint32_t>(ESME_RINVDSTADR)});
    smpp::submit_multi_resp r;
    r.message_id = "msg-0004";
    r.unsuccess_smes = std::span<const smpp::unsuccess_sme>(failed);
    add("submit_multi_resp", 10, r);
  }
  // The largest sequence number allowed (3.2: 0x00000001 - 0x7FFFFFFF).
  add("enquire_link", 0x7FFFFFFF, smpp::enquire_link{});
  add("enquire_link_resp", 0x7FFFFFFF, smpp::enquire_link_resp{});
  add("unbind", 11, smpp::unbind{});
  add("unbind_resp", 11, smpp::unbind_resp{});
  add("generic_nack", 12, smpp::generic_nack{}, {}, ESME_RINVCMDID);
  {
    smpp::outbind o;
    o.system_id = "smsc-sim";
    o.password = "secret";
    add("outbind", 13, o);
  }
  {
    smpp::alert_notification a;
    a.source_addr_ton = 1;
    a.source_addr_npi = 1;
    a.source_addr = handset;
    a.esme_addr_ton = 5;
    a.esme_addr = "smppd";
    a.tlvs.ms_availability_status = 0;  // available
    add("alert_notification", 14, a);
  }
}

// ---- Modes ---------------------------------------------------------------

int run_encode(const sample_set& s) {
  int rc = 0;
  for (const sample_pdu& p : s.pdus()) {
    std::vector<std::uint8_t> buf(smpp::encoded_size(p.pdu));
    const auto r = smpp::encode(p.pdu, buf);
    if (!r) {
      std::cerr << p.name << ": encode failed: " << r.ec.message() << " (" << r.field << ")\n";
      rc = 1;
      continue;
    }
    std::cout << p.name << ' '
              << hex_of({reinterpret_cast<const char*>(buf.data()), r.size}) << '\n';
  }
  return rc;
}

int run_sample(const sample_set& s) {
  for (const sample_pdu& p : s.pdus()) std::cout << pdu_json(p.name, p.pdu, p.text) << '\n';
  return 0;
}

bool parse_hex(std::string_view hex, std::vector<std::uint8_t>& out) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return true;
}

int run_decode() {
  int rc = 0;
  std::string line;
  std::vector<std::uint8_t> bytes;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto space = line.find(' ');
    const std::string name = line.substr(0, space);
    const std::string_view hex =
        space == std::string::npos ? std::string_view{} : std::string_view(line).substr(space + 1);
    json_object failure;
    failure.str("name", name);
    if (!parse_hex(hex, bytes)) {
      failure.str("error", "not a hex string");
      std::cout << failure.done() << '\n';
      rc = 1;
      continue;
    }
    smpp::pdu p;
    const auto r = smpp::decode(bytes, p);
    if (!r) {
      failure.str("error", r.ec.message());
      failure.str("field", r.field);
      failure.num("offset", r.offset);
      std::cout << failure.done() << '\n';
      rc = 1;
      continue;
    }
    std::cout << pdu_json(name, p) << '\n';
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc == 2 ? argv[1] : "";
  if (mode == "decode") return run_decode();
  if (mode == "encode" || mode == "sample") {
    const sample_set s;
    if (!s.ok()) {
      std::cerr << s.error();
      return 1;
    }
    return mode == "encode" ? run_encode(s) : run_sample(s);
  }
  std::cerr << "usage: interop_codec encode|sample|decode\n";
  return 2;
}
