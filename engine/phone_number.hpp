// Phone numbers as customers and CSV files write them, normalised to
// E.164 ("+37060000001") so that routing, opt-outs, duplicate checks and
// reply matching all compare one form.
//
// Accepted: "+370 600 00001", "(0)600-00001" style punctuation (spaces,
// dashes, dots, parentheses are dropped), "00" + country code, and
// national numbers written with the trunk prefix ("860000001" in
// Lithuania, "0600..." elsewhere) or with the country code but no '+'.
// E.164 allows at most 15 digits; fewer than 8 is no mobile number.
// Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

namespace engine {

struct numbering_plan {
  std::string country_code;  // "370"; empty: every number must carry its own
  std::string trunk_prefix = "0";
};

struct number_result {
  std::string e164;     // "+37060000001" when ok
  std::string problem;  // why not, for the rejection report ("contains a letter 'x'")
  bool ok() const noexcept { return problem.empty(); }
};

number_result normalise_number(std::string_view written, const numbering_plan& plan);

}  // namespace engine
