// Three visitors walk the field description of pdu_fields.hpp: `reader`
// (decode), `sizer` (validate + measure) and `writer` (encode). A field's
// limits and the command_status it fails with live in one place.
#include "smpp/codec.hpp"

#include "smpp/pdu_fields.hpp"

#include <concepts>
#include <cstring>
#include <string>
#include <type_traits>

namespace smpp {

namespace {

using enum command_status;

class codec_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "smpp.codec"; }
  std::string message(int ev) const override {
    switch (static_cast<codec_errc>(ev)) {
      case codec_errc::bad_command_length: return "command_length out of bounds";
      case codec_errc::unknown_command_id: return "unknown command_id";
      case codec_errc::truncated: return "PDU ends inside a mandatory field";
      case codec_errc::trailing_bytes: return "unexpected octets after the last field";
      case codec_errc::invalid_field: return "field value out of range";
      case codec_errc::invalid_tlv: return "malformed TLV";
      case codec_errc::too_many_tlvs: return "too many unknown TLVs";
      case codec_errc::buffer_too_small: return "output buffer too small";
    }
    return "unknown codec error";
  }
};

inline std::uint16_t load16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
inline std::uint32_t load32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline void store16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void store32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

constexpr std::size_t max_sm_length = 254;
constexpr std::size_t max_list = 254;

constexpr bool valid_time(std::string_view v) noexcept { return v.empty() || v.size() == 16; }

bool length_in(std::size_t len, std::size_t lo, std::size_t hi) noexcept {
  return len >= lo && len <= hi;
}

// C-Octet String TLVs (receipted_message_id, additional_status_info_text)
// are stored without their NUL. Several SMSCs omit the NUL of
// receipted_message_id, so a value without one is accepted as it is; a NUL
// anywhere but at the end is not.
bool read_cstr_tlv(std::optional<std::string_view>& out, std::string_view raw) noexcept {
  if (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  if (raw.find('\0') != std::string_view::npos) return false;
  out = raw;
  return true;
}

// ---- reader -------------------------------------------------------------

class reader {
 public:
  reader(const std::uint8_t* pdu, const std::uint8_t* end, decode_result& r) noexcept
      : base_(pdu), p_(pdu + header_size), end_(end), r_(r) {}

  bool ok() const noexcept { return !r_.ec; }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }

  void u8(std::uint8_t& v, const char* field) noexcept {
    if (!ok()) return;
    if (p_ == end_) return fail(codec_errc::truncated, ESME_RINVCMDLEN, field);
    v = *p_++;
  }
  void u32(std::uint32_t& v, const char* field) noexcept {
    if (!ok()) return;
    if (remaining() < 4) return fail(codec_errc::truncated, ESME_RINVCMDLEN, field);
    v = load32(p_);
    p_ += 4;
  }
  void cstr(std::string_view& v, const cstr_limit& f) noexcept {
    if (!ok()) return;
    const std::size_t span = remaining() < f.max ? remaining() : f.max;
    const void* nul = std::memchr(p_, 0, span);
    if (nul == nullptr) {
      // No terminator within the field's maximum: too long. No terminator
      // before the PDU ends: the PDU is cut short.
      if (remaining() < f.max) return fail(codec_errc::truncated, ESME_RINVCMDLEN, f.name);
      return fail(codec_errc::invalid_field, f.status, f.name);
    }
    auto* q = static_cast<const std::uint8_t*>(nul);
    v = view(p_, q);
    p_ = q + 1;
  }
  void time(std::string_view& v, const cstr_limit& f) noexcept {
    const auto* start = p_;
    cstr(v, f);
    if (ok() && !valid_time(v)) {
      p_ = start;
      fail(codec_errc::invalid_field, f.status, f.name);
    }
  }
  void short_message(std::string_view& v) noexcept {
    std::uint8_t sm_length = 0;
    u8(sm_length, "sm_length");
    if (!ok()) return;
    if (sm_length > max_sm_length || sm_length > remaining()) {
      p_ -= 1;
      return fail(codec_errc::invalid_field, ESME_RINVMSGLEN, "sm_length");
    }
    v = view(p_, p_ + sm_length);
    p_ += sm_length;
  }
  void dest_addresses(wire_list<dest_address>& list) noexcept {
    std::uint8_t n = 0;
    u8(n, "number_of_dests");
    if (!ok()) return;
    if (n == 0 || n > max_list) {
      p_ -= 1;
      return fail(codec_errc::invalid_field, ESME_RINVNUMDESTS, "number_of_dests");
    }
    const auto* start = p_;
    for (std::size_t i = 0; i < n && ok(); ++i) {
      dest_address d;
      u8(d.dest_flag, "dest_flag");
      if (!ok()) return;
      if (d.dest_flag == 1) {
        u8(d.dest_addr_ton, "dest_addr_ton");
        u8(d.dest_addr_npi, "dest_addr_npi");
        cstr(d.address, field_destination_addr);
      } else if (d.dest_flag == 2) {
        cstr(d.address, field_dl_name);
      } else {
        p_ -= 1;
        return fail(codec_errc::invalid_field, ESME_RINVDESTFLAG, "dest_flag");
      }
    }
    if (ok()) list = wire_list<dest_address>::from_wire(view(start, p_), n);
  }
  void unsuccess_smes(wire_list<unsuccess_sme>& list) noexcept {
    std::uint8_t n = 0;
    u8(n, "no_unsuccess");
    const auto* start = p_;
    for (std::size_t i = 0; i < n && ok(); ++i) {
      unsuccess_sme u;
      u8(u.dest_addr_ton, "dest_addr_ton");
      u8(u.dest_addr_npi, "dest_addr_npi");
      cstr(u.destination_addr, field_destination_addr);
      u32(u.error_status_code, "error_status_code");
    }
    if (ok()) list = wire_list<unsuccess_sme>::from_wire(view(start, p_), n);
  }
  void tlvs(tlv_set& t) noexcept {
    while (ok() && p_ != end_) {
      if (remaining() < 4) return fail(codec_errc::invalid_tlv, ESME_RINVOPTPARSTREAM, "tlv");
      const std::uint16_t tag = load16(p_);
      const std::uint16_t len = load16(p_ + 2);
      if (len > remaining() - 4) return fail(codec_errc::invalid_tlv, ESME_RINVOPTPARSTREAM, "tlv");
      const std::uint8_t* v = p_ + 4;
      switch (tag) {
#define SMPP_TLV_READ(name, tag_value, kind, lo, hi)                                   \
  case tag_value:                                                                      \
    if (!length_in(len, (lo), (hi)))                                                   \
      return fail(codec_errc::invalid_tlv, ESME_RINVPARLEN, #name);                    \
    if (!read_tlv_value<tlv_wire_kind::kind>(t.name, v, len))                                     \
      return fail(codec_errc::invalid_tlv, ESME_RINVOPTPARAMVAL, #name);               \
    break;
        SMPP_STANDARD_TLVS(SMPP_TLV_READ)
#undef SMPP_TLV_READ
        default:
          if (!t.unknown.push_back(raw_tlv{tag, view(v, v + len)}))
            return fail(codec_errc::too_many_tlvs, ESME_RINVOPTPARSTREAM, "tlv");
      }
      p_ = v + len;
    }
  }
  void end() noexcept {
    if (ok() && p_ != end_) fail(codec_errc::trailing_bytes, ESME_RINVCMDLEN, "");
  }

 private:
  static std::string_view view(const std::uint8_t* a, const std::uint8_t* b) noexcept {
    return {reinterpret_cast<const char*>(a), static_cast<std::size_t>(b - a)};
  }
  template <tlv_wire_kind K, class T>
  static bool read_tlv_value(std::optional<T>& out, const std::uint8_t* v,
                             std::size_t len) noexcept {
    if constexpr (K == tlv_wire_kind::flag) {
      out = tlv_kind::flag{};
      return true;
    } else if constexpr (K == tlv_wire_kind::cstr) {
      return read_cstr_tlv(out, view(v, v + len));
    } else if constexpr (K == tlv_wire_kind::oct) {
      out = view(v, v + len);
      return true;
    } else {
      T x = 0;
      for (std::size_t i = 0; i < len; ++i) x = static_cast<T>((x << 8) | v[i]);
      out = x;
      return true;
    }
  }
  void fail(codec_errc e, command_status s, const char* field) noexcept {
    r_.ec = make_error_code(e);
    r_.status = s;
    r_.field = field;
    r_.offset = static_cast<std::size_t>(p_ - base_);
  }

  const std::uint8_t* base_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  decode_result& r_;
};

// ---- sizer (validates and measures) --------------------------------------

class sizer {
 public:
  bool ok() const noexcept { return !ec_; }
  std::size_t size() const noexcept { return n_; }
  const char* field() const noexcept { return field_; }
  std::error_code error() const noexcept { return ec_; }

  void u8(std::uint8_t, const char*) noexcept { n_ += 1; }
  void u32(std::uint32_t, const char*) noexcept { n_ += 4; }
  void cstr(std::string_view v, const cstr_limit& f) noexcept {
    if (v.size() + 1 > f.max || v.find('\0') != std::string_view::npos) return fail(f.name);
    n_ += v.size() + 1;
  }
  void time(std::string_view v, const cstr_limit& f) noexcept {
    if (!valid_time(v)) return fail(f.name);
    cstr(v, f);
  }
  void short_message(std::string_view v) noexcept {
    if (v.size() > max_sm_length) return fail("short_message");
    n_ += 1 + v.size();
  }
  void dest_addresses(const wire_list<dest_address>& list) noexcept {
    if (list.size() == 0 || list.size() > max_list) return fail("number_of_dests");
    n_ += 1;
    list.for_each([&](const dest_address& d) {
      n_ += 1;
      if (d.dest_flag == 1) {
        n_ += 2;
        cstr(d.address, field_destination_addr);
      } else if (d.dest_flag == 2) {
        cstr(d.address, field_dl_name);
      } else {
        fail("dest_flag");
      }
    });
  }
  void unsuccess_smes(const wire_list<unsuccess_sme>& list) noexcept {
    if (list.size() > 255) return fail("no_unsuccess");
    n_ += 1;
    list.for_each([&](const unsuccess_sme& u) {
      n_ += 2 + 4;
      cstr(u.destination_addr, field_destination_addr);
    });
  }
  void tlvs(const tlv_set& t) noexcept {
#define SMPP_TLV_SIZE(name, tag_value, kind, lo, hi)                   \
  if (t.name) {                                                        \
    std::size_t len = 0;                                               \
    if (!tlv_value_size<tlv_wire_kind::kind>(*t.name, (hi), len)) return fail(#name); \
    if (!length_in(len, (lo), (hi))) return fail(#name);               \
    n_ += 4 + len;                                                     \
  }
    SMPP_STANDARD_TLVS(SMPP_TLV_SIZE)
#undef SMPP_TLV_SIZE
    for (const raw_tlv& u : t.unknown) {
      if (u.value.size() > 0xFFFF) return fail("tlv");
      n_ += 4 + u.value.size();
    }
  }
  void end() noexcept {}

  template <tlv_wire_kind K, class T>
  static bool tlv_value_size(const T& v, std::size_t hi, std::size_t& len) noexcept {
    if constexpr (K == tlv_wire_kind::flag) {
      len = 0;
    } else if constexpr (K == tlv_wire_kind::cstr) {
      if (v.find('\0') != std::string_view::npos) return false;
      len = v.size() + 1;
    } else if constexpr (K == tlv_wire_kind::oct) {
      len = v.size();
    } else {
      len = hi;
    }
    return true;
  }

 private:
  void fail(const char* field) noexcept {
    if (ec_) return;
    ec_ = make_error_code(codec_errc::invalid_field);
    field_ = field;
  }
  std::size_t n_ = header_size;
  std::error_code ec_;
  const char* field_ = "";
};

// ---- writer (after sizer accepted the PDU) -------------------------------

class writer {
 public:
  explicit writer(std::uint8_t* out) noexcept : p_(out + header_size) {}
  std::uint8_t* position() const noexcept { return p_; }

  void u8(std::uint8_t v, const char*) noexcept { *p_++ = v; }
  void u32(std::uint32_t v, const char*) noexcept {
    store32(p_, v);
    p_ += 4;
  }
  void cstr(std::string_view v, const cstr_limit&) noexcept {
    bytes(v);
    *p_++ = 0;
  }
  void time(std::string_view v, const cstr_limit& f) noexcept { cstr(v, f); }
  void short_message(std::string_view v) noexcept {
    *p_++ = static_cast<std::uint8_t>(v.size());
    bytes(v);
  }
  void dest_addresses(const wire_list<dest_address>& list) noexcept {
    *p_++ = static_cast<std::uint8_t>(list.size());
    list.for_each([&](const dest_address& d) {
      *p_++ = d.dest_flag;
      if (d.dest_flag == 1) {
        *p_++ = d.dest_addr_ton;
        *p_++ = d.dest_addr_npi;
      }
      cstr(d.address, field_dl_name);
    });
  }
  void unsuccess_smes(const wire_list<unsuccess_sme>& list) noexcept {
    *p_++ = static_cast<std::uint8_t>(list.size());
    list.for_each([&](const unsuccess_sme& u) {
      *p_++ = u.dest_addr_ton;
      *p_++ = u.dest_addr_npi;
      cstr(u.destination_addr, field_destination_addr);
      u32(u.error_status_code, "");
    });
  }
  void tlvs(const tlv_set& t) noexcept {
#define SMPP_TLV_WRITE(name, tag_value, kind, lo, hi) \
  if (t.name) write_tlv<tlv_wire_kind::kind>(tag_value, *t.name, (hi));
    SMPP_STANDARD_TLVS(SMPP_TLV_WRITE)
#undef SMPP_TLV_WRITE
    for (const raw_tlv& u : t.unknown) write_tlv<tlv_wire_kind::oct>(u.tag, u.value, 0);
  }
  void end() noexcept {}

 private:
  void bytes(std::string_view v) noexcept {
    if (!v.empty()) std::memcpy(p_, v.data(), v.size());
    p_ += v.size();
  }
  template <tlv_wire_kind K, class T>
  void write_tlv(std::uint16_t tag, const T& v, std::size_t hi) noexcept {
    store16(p_, tag);
    if constexpr (K == tlv_wire_kind::flag) {
      store16(p_ + 2, 0);
      p_ += 4;
    } else if constexpr (K == tlv_wire_kind::cstr) {
      store16(p_ + 2, static_cast<std::uint16_t>(v.size() + 1));
      p_ += 4;
      bytes(v);
      *p_++ = 0;
    } else if constexpr (K == tlv_wire_kind::oct) {
      store16(p_ + 2, static_cast<std::uint16_t>(v.size()));
      p_ += 4;
      bytes(v);
    } else {
      store16(p_ + 2, static_cast<std::uint16_t>(hi));
      p_ += 4;
      for (std::size_t i = hi; i-- > 0;) *p_++ = static_cast<std::uint8_t>(v >> (8 * i));
    }
  }
  std::uint8_t* p_;
};

// Calls f.template operator()<T>() for the variant alternative whose id is
// `id`; returns false when no alternative has it.
template <std::size_t I = 0, class F>
bool with_type(std::uint32_t id, F&& f) {
  if constexpr (I == std::variant_size_v<pdu_body>) {
    return false;
  } else {
    using T = std::variant_alternative_t<I, pdu_body>;
    if (static_cast<std::uint32_t>(T::id) == id) {
      f.template operator()<T>();
      return true;
    }
    return with_type<I + 1>(id, std::forward<F>(f));
  }
}

}  // namespace

const std::error_category& codec_category() noexcept {
  static const codec_category_impl c;
  return c;
}

std::string_view name(command_id id) noexcept {
  switch (id) {
#define SMPP_ID_NAME(x) \
  case command_id::x:   \
    return #x;
    SMPP_ID_NAME(generic_nack)
    SMPP_ID_NAME(bind_receiver)
    SMPP_ID_NAME(bind_receiver_resp)
    SMPP_ID_NAME(bind_transmitter)
    SMPP_ID_NAME(bind_transmitter_resp)
    SMPP_ID_NAME(query_sm)
    SMPP_ID_NAME(query_sm_resp)
    SMPP_ID_NAME(submit_sm)
    SMPP_ID_NAME(submit_sm_resp)
    SMPP_ID_NAME(deliver_sm)
    SMPP_ID_NAME(deliver_sm_resp)
    SMPP_ID_NAME(unbind)
    SMPP_ID_NAME(unbind_resp)
    SMPP_ID_NAME(replace_sm)
    SMPP_ID_NAME(replace_sm_resp)
    SMPP_ID_NAME(cancel_sm)
    SMPP_ID_NAME(cancel_sm_resp)
    SMPP_ID_NAME(bind_transceiver)
    SMPP_ID_NAME(bind_transceiver_resp)
    SMPP_ID_NAME(outbind)
    SMPP_ID_NAME(enquire_link)
    SMPP_ID_NAME(enquire_link_resp)
    SMPP_ID_NAME(submit_multi)
    SMPP_ID_NAME(submit_multi_resp)
    SMPP_ID_NAME(alert_notification)
    SMPP_ID_NAME(data_sm)
    SMPP_ID_NAME(data_sm_resp)
#undef SMPP_ID_NAME
  }
  return {};
}

frame next_frame(std::span<const std::uint8_t> buf, std::uint32_t max_command_length) noexcept {
  if (buf.size() < 4) return {frame::state::need_more, static_cast<std::uint32_t>(header_size)};
  const std::uint32_t len = load32(buf.data());
  // Judge the length as soon as it is readable, before waiting for a body
  // that an impossible length would make us wait for forever.
  if (len < header_size || len > max_command_length) return {frame::state::bad_length, len};
  if (buf.size() < len) return {frame::state::need_more, len};
  return {frame::state::complete, len};
}

decode_result decode(std::span<const std::uint8_t> bytes, pdu& out) noexcept {
  decode_result r;
  if (bytes.size() < header_size) {
    r.ec = make_error_code(codec_errc::bad_command_length);
    r.status = ESME_RINVCMDLEN;
    return r;
  }
  const std::uint8_t* p = bytes.data();
  r.header = {load32(p), load32(p + 4), load32(p + 8), load32(p + 12)};
  if (r.header.command_length != bytes.size()) {
    r.ec = make_error_code(codec_errc::bad_command_length);
    r.status = ESME_RINVCMDLEN;
    return r;
  }
  out.command_status = r.header.command_status;
  out.sequence_number = r.header.sequence_number;
  const bool known = with_type(r.header.command_id, [&]<class T>() {
    T& body = out.body.template emplace<T>();
    // A response carrying an error status may have no body (3.3: "the
    // body of a response with a non-zero command_status is not returned").
    if (bytes.size() == header_size && is_response(T::id) && r.header.command_status != 0)
      return;
    reader rd(p, p + bytes.size(), r);
    visit_fields(rd, static_cast<typename T::body_type&>(body));
  });
  if (!known) {
    r.ec = make_error_code(codec_errc::unknown_command_id);
    r.status = ESME_RINVCMDID;
  }
  return r;
}

command_id nack_command_for(const decode_result& r) noexcept {
  const std::uint32_t id = r.header.command_id;
  const bool request_known =
      (id & 0x80000000u) == 0 && id != static_cast<std::uint32_t>(command_id::outbind) &&
      id != static_cast<std::uint32_t>(command_id::alert_notification) &&
      with_type(id, []<class T>() {});
  return request_known ? static_cast<command_id>(id | 0x80000000u) : command_id::generic_nack;
}

namespace {

// SMPP 3.4 4.1.2, 4.1.4, 4.1.6, 4.4.2 and 4.6.2: the body of these
// responses is not returned when command_status is non-zero. (data_sm_resp
// keeps its body: its TLVs, delivery_failure_reason above all, explain the
// failure.)
bool header_only(const pdu& p) noexcept {
  if (p.command_status == 0) return false;
  switch (p.id()) {
    case command_id::bind_receiver_resp:
    case command_id::bind_transmitter_resp:
    case command_id::bind_transceiver_resp:
    case command_id::submit_sm_resp:
    case command_id::deliver_sm_resp:
      return true;
    default:
      return false;
  }
}

sizer measure(const pdu& p) noexcept {
  sizer s;
  if (!header_only(p)) visit_body(s, p);
  return s;
}

}  // namespace

std::size_t encoded_size(const pdu& p) noexcept {
  const sizer s = measure(p);
  return s.ok() ? s.size() : 0;
}

encode_result encode(const pdu& p, std::span<std::uint8_t> out) noexcept {
  encode_result r;
  const sizer s = measure(p);
  if (!s.ok()) {
    r.ec = s.error();
    r.field = s.field();
    return r;
  }
  if (s.size() > 0xFFFFFFFFu || out.size() < s.size()) {
    r.ec = make_error_code(codec_errc::buffer_too_small);
    return r;
  }
  std::uint8_t* base = out.data();
  store32(base, static_cast<std::uint32_t>(s.size()));
  store32(base + 4, static_cast<std::uint32_t>(p.id()));
  store32(base + 8, p.command_status);
  store32(base + 12, p.sequence_number);
  writer w(base);
  if (!header_only(p)) visit_body(w, p);
  r.size = static_cast<std::size_t>(w.position() - base);
  return r;
}

namespace detail {

std::size_t read_list_element(const std::uint8_t* p, dest_address& out) noexcept {
  const std::uint8_t* start = p;
  out.dest_flag = *p++;
  if (out.dest_flag == 1) {
    out.dest_addr_ton = *p++;
    out.dest_addr_npi = *p++;
  }
  const std::size_t n = std::strlen(reinterpret_cast<const char*>(p));
  out.address = {reinterpret_cast<const char*>(p), n};
  p += n + 1;
  return static_cast<std::size_t>(p - start);
}

std::size_t read_list_element(const std::uint8_t* p, unsuccess_sme& out) noexcept {
  const std::uint8_t* start = p;
  out.dest_addr_ton = *p++;
  out.dest_addr_npi = *p++;
  const std::size_t n = std::strlen(reinterpret_cast<const char*>(p));
  out.destination_addr = {reinterpret_cast<const char*>(p), n};
  p += n + 1;
  out.error_status_code = load32(p);
  p += 4;
  return static_cast<std::size_t>(p - start);
}

}  // namespace detail

}  // namespace smpp
