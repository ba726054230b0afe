// Bearer tokens for the HTTP API, from api.tokens_file. The file keeps only
// each token's SHA-256, never the token:
//
//   # NAME  SCOPES              HASH
//   billing send                sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//   ops     read,campaigns,send sha256:...
//
// Scopes: send (POST /v1/messages), campaigns (create and control
// campaigns), read (every GET under /v1). `smppctl token NAME SCOPES`
// makes a new token and prints the line to add. A presented token is
// hashed and compared with every entry in constant time.
//
// Pure apart from reading the file; any thread (a token_set is immutable).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace engine {

enum class api_scope : std::uint8_t { send = 1, campaigns = 2, read = 4 };

struct api_token {
  std::string name;
  std::uint8_t scopes = 0;  // api_scope bits
  std::array<unsigned char, 32> hash{};
};

class token_set {
 public:
  // Reads the file; false with `error` naming file:line on a bad line or
  // an unreadable file.
  static std::optional<token_set> load(const std::filesystem::path& file, std::string& error);
  static std::optional<token_set> parse(std::string_view text, const std::string& source, std::string& error);

  // The entry whose hash matches, or null.
  const api_token* find(std::string_view presented) const;
  std::size_t size() const noexcept { return tokens_.size(); }

 private:
  std::vector<api_token> tokens_;
};

std::array<unsigned char, 32> sha256(std::string_view data);
// A new random token ("smppd_" and 43 base64url characters) and its file line.
struct new_token {
  std::string token;
  std::string line;
};
std::optional<new_token> make_token(std::string_view name, std::string_view scopes, std::string& error);

}  // namespace engine
