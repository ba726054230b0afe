#include "engine/phone_number.hpp"

namespace engine {

number_result normalise_number(std::string_view written, const numbering_plan& plan) {
  number_result r;
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < written.size(); ++i) {
    const char c = written[i];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '\t') {
      continue;
    } else {
      r.problem = std::string("contains '") + c + "' at character " + std::to_string(i + 1);
      return r;
    }
  }
  if (digits.empty()) {
    r.problem = written.empty() ? "empty" : "no digits";
    return r;
  }
  std::string national_or_full;
  if (plus) {
    national_or_full = digits;
  } else if (digits.starts_with("00")) {
    national_or_full = digits.substr(2);
  } else if (!plan.trunk_prefix.empty() && digits.starts_with(plan.trunk_prefix) && !plan.country_code.empty()) {
    national_or_full = plan.country_code + digits.substr(plan.trunk_prefix.size());
  } else if (!plan.country_code.empty() && digits.starts_with(plan.country_code)) {
    national_or_full = digits;
  } else if (!plan.country_code.empty()) {
    // A national number without trunk prefix ("60000001").
    national_or_full = plan.country_code + digits;
  } else {
    r.problem = "no country code (write it as +CC... or set numbering.default_country_code)";
    return r;
  }
  if (national_or_full.starts_with("0")) {
    r.problem = "a country code cannot start with 0";
    return r;
  }
  if (national_or_full.size() < 8) {
    r.problem = "too short (" + std::to_string(national_or_full.size()) + " digits with the country code)";
    return r;
  }
  if (national_or_full.size() > 15) {
    r.problem = "too long (" + std::to_string(national_or_full.size()) + " digits; E.164 allows 15)";
    return r;
  }
  r.e164 = "+" + national_or_full;
  return r;
}

}  // namespace engine
