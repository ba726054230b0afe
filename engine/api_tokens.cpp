#include "engine/api_tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace engine {

namespace {

std::optional<std::uint8_t> parse_scopes(std::string_view list) {
  std::uint8_t bits = 0;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view s = list.substr(0, comma);
    if (s == "send") bits |= static_cast<std::uint8_t>(api_scope::send);
    else if (s == "campaigns") bits |= static_cast<std::uint8_t>(api_scope::campaigns);
    else if (s == "read") bits |= static_cast<std::uint8_t>(api_scope::read);
    else return std::nullopt;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return bits ? std::optional(bits) : std::nullopt;
}

bool valid_name(std::string_view n) {
  return !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr);
  return out;
}

std::optional<token_set> token_set::parse(std::string_view text, const std::string& source, std::string& error) {
  token_set set;
  std::istringstream in{std::string(text)};
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const auto hash_mark = line.find('#');
    if (hash_mark != std::string::npos) line.resize(hash_mark);
    std::istringstream words(line);
    std::string name, scopes, hash, extra;
    if (!(words >> name)) continue;
    const std::string where = source + ":" + std::to_string(n) + ": ";
    if (!(words >> scopes >> hash) || (words >> extra)) {
      error = where + "expected NAME SCOPES sha256:HEX";
      return std::nullopt;
    }
    if (!valid_name(name)) {
      error = where + "token name \"" + name + "\": expected 1-64 letters, digits, '-', '_' or '.'";
      return std::nullopt;
    }
    auto bits = parse_scopes(scopes);
    if (!bits) {
      error = where + "scopes \"" + scopes + "\": expected a comma-separated list of send, campaigns, read";
      return std::nullopt;
    }
    api_token t;
    t.name = name;
    t.scopes = *bits;
    bool ok = hash.size() == 7 + 64 && hash.starts_with("sha256:");
    for (std::size_t i = 0; ok && i < 32; ++i) {
      const int hi = hex_value(hash[7 + 2 * i]), lo = hex_value(hash[8 + 2 * i]);
      ok = hi >= 0 && lo >= 0;
      t.hash[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    if (!ok) {
      // Never echo the value: it might be a token pasted by mistake.
      error = where + "expected sha256: and 64 hex digits for token " + name +
              " (the file keeps hashes; smppctl token makes the line)";
      return std::nullopt;
    }
    if (std::any_of(set.tokens_.begin(), set.tokens_.end(), [&](const api_token& o) { return o.name == name; })) {
      error = where + "token name " + name + " appears twice";
      return std::nullopt;
    }
    set.tokens_.push_back(std::move(t));
  }
  return set;
}

std::optional<token_set> token_set::load(const std::filesystem::path& file, std::string& error) {
  std::ifstream in(file);
  if (!in) {
    error = file.string() + ": cannot be read";
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), file.string(), error);
}

const api_token* token_set::find(std::string_view presented) const {
  const auto h = sha256(presented);
  const api_token* found = nullptr;
  // Every entry is compared, whatever matches: the time does not tell which.
  for (const auto& t : tokens_) {
    const bool same = CRYPTO_memcmp(t.hash.data(), h.data(), h.size()) == 0;
    if (same) found = &t;
  }
  return found;
}

std::optional<new_token> make_token(std::string_view name, std::string_view scopes, std::string& error) {
  if (!valid_name(name)) {
    error = "token name \"" + std::string(name) + "\": expected 1-64 letters, digits, '-', '_' or '.'";
    return std::nullopt;
  }
  if (!parse_scopes(scopes)) {
    error = "scopes \"" + std::string(scopes) + "\": expected a comma-separated list of send, campaigns, read";
    return std::nullopt;
  }
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    error = "no random bytes from OpenSSL";
    return std::nullopt;
  }
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  new_token t;
  t.token = "smppd_";
  // base64url without padding: 32 octets -> 43 characters.
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : random) {
    acc = acc << 8 | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      t.token += alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) t.token += alphabet[(acc << (6 - bits)) & 63];
  const auto h = sha256(t.token);
  static constexpr char hex[] = "0123456789abcdef";
  t.line = std::string(name) + " " + std::string(scopes) + " sha256:";
  for (unsigned char b : h) {
    t.line += hex[b >> 4];
    t.line += hex[b & 15];
  }
  return t;
}

}  // namespace engine
