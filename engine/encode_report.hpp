// `smppctl encode`: option parsing and the two renderings (human, JSON) of
// an encoded text. Pure functions over smpp::encoded_text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "smpp/text.hpp"

namespace smppd {

struct encode_command {
  smpp::encode_options options;
  bool json = false;
};

// Parses the arguments after "encode". On error returns false and sets
// `error` to a message naming the bad argument.
bool parse_encode_args(const std::vector<std::string_view>& args, encode_command& out,
                       std::string& error);

std::string render_human(const smpp::encoded_text& t);
std::string render_json(const smpp::encoded_text& t);

// Runs the whole command: reads UTF-8 text, writes the report to `out` or
// a message to `err`; returns the exit code (0 ok, 2 bad input or usage).
int run_encode(const std::vector<std::string_view>& args, std::string_view input,
               std::string& out, std::string& err);

}  // namespace smppd
