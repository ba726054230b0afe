#include "engine/keywords.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <vector>
#include <string>
#include <unordered_map>
#include <vector>

#include "smpp/text.hpp"

namespace engine {

namespace {

// Accented Latin letters (Latin-1 Supplement and Latin Extended-A, both
// cases) and their base letters.
const std::unordered_map<char32_t, char32_t>& accent_table() {
  static const std::unordered_map<char32_t, char32_t> table = [] {
    const std::array<std::pair<char32_t, std::string_view>, 19> groups{{
        {U'a', "àáâãäåāăąÀÁÂÃÄÅĀĂĄ"},
        {U'c', "çćĉċčÇĆĈĊČ"},
        {U'd', "ďđĎĐ"},
        {U'e', "èéêëēĕėęěÈÉÊËĒĔĖĘĚ"},
        {U'g', "ĝğġģĜĞĠĢ"},
        {U'h', "ĥħĤĦ"},
        {U'i', "ìíîïĩīĭįıÌÍÎÏĨĪĬĮİ"},
        {U'j', "ĵĴ"},
        {U'k', "ķĶ"},
        {U'l', "ĺļľŀłĹĻĽĿŁ"},
        {U'n', "ñńņňÑŃŅŇ"},
        {U'o', "òóôõöøōŏőÒÓÔÕÖØŌŎŐ"},
        {U'r', "ŕŗřŔŖŘ"},
        {U's', "śŝşšŚŜŞŠ"},
        {U't', "ţťŧŢŤŦ"},
        {U'u', "ùúûüũūŭůűųÙÚÛÜŨŪŬŮŰŲ"},
        {U'w', "ŵŴ"},
        {U'y', "ýÿŷÝŶŸ"},
        {U'z', "źżžŹŻŽ"},
    }};
    std::unordered_map<char32_t, char32_t> t;
    for (const auto& [base, variants] : groups) {
      std::u32string cps;
      std::size_t at = 0;
      (void)smpp::utf8_decode(variants, cps, at);
      for (char32_t c : cps) t[c] = base;
    }
    return t;
  }();
  return table;
}

char32_t fold(char32_t c) {
  if (c >= U'A' && c <= U'Z') return c + 32;
  if (c < 0x80) return c;
  if (c >= 0x410 && c <= 0x42F) c += 0x20;       // Cyrillic А-Я
  else if (c >= 0x400 && c <= 0x40F) c += 0x50;  // Ѐ-Џ
  if (c == U'ё') return U'е';
  if (c == U'й') return U'и';
  const auto& t = accent_table();
  if (auto it = t.find(c); it != t.end()) return it->second;
  return c;
}

bool is_space(char32_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0xA0; }

// Punctuation and spaces that may surround a keyword.
bool is_trimmed(char32_t c) {
  if (c < 0x80) return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
  return c == 0xA0 || c == 0xA1 || c == 0xAB || c == 0xBB || c == 0xBF || (c >= 0x2018 && c <= 0x201F) ||
         c == 0x2026;
}

}  // namespace

std::string fold_keyword(std::string_view text) {
  std::u32string cps;
  std::size_t bad = 0;
  if (smpp::utf8_decode(text, cps, bad)) return std::string(text);
  std::size_t b = 0, e = cps.size();
  while (b < e && is_trimmed(cps[b])) ++b;
  while (e > b && is_trimmed(cps[e - 1])) --e;
  std::string out;
  bool space = false;
  for (std::size_t i = b; i < e; ++i) {
    if (is_space(cps[i])) {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    smpp::utf8_append(fold(cps[i]), out);
  }
  return out;
}

bool looks_automatic(std::string_view text) {
  // Written as people see them; folded once, like the replies.
  static const std::vector<std::string> markers = [] {
    const std::array<std::string_view, 25> written{
        // en
        "auto-reply", "auto reply", "autoreply", "automatic reply", "automated reply", "auto-response",
        "autoresponse", "automatic response", "automated response", "this is an automated",
        "this is an automatic", "out of office", "out of the office",
        // ru
        "автоответ", "автоматический ответ", "автоматическое сообщение", "автоматически сгенерирован",
        "вне офиса",
        // lt
        "automatinis atsakymas", "automatinis pranešimas", "automatinė žinutė", "automatiškai sugeneruot",
        "nesu darbo vietoje", "nesu biure", "nesu biuro"};
    std::vector<std::string> out;
    for (auto w : written) out.push_back(fold_keyword(w));
    return out;
  }();
  const std::string folded = fold_keyword(text);
  for (const auto& m : markers)
    if (folded.find(m) != std::string::npos) return true;
  return false;
}

keyword_table::keyword_table(const config::two_way_config& c) : languages_(c.languages) {
  using storage::reply_keyword;
  for (const auto& [lang, set] : languages_) {
    auto add = [&, l = lang](const std::vector<std::string>& words, reply_keyword kind) {
      for (const auto& w : words) words_.try_emplace(fold_keyword(w), keyword_match{kind, l});
    };
    add(set.opt_out, reply_keyword::opt_out);
    add(set.opt_in, reply_keyword::opt_in);
    add(set.help, reply_keyword::help);
    for (const auto& w : set.yes) answers_.try_emplace(fold_keyword(w), "yes");
    for (const auto& w : set.no) answers_.try_emplace(fold_keyword(w), "no");
  }
}

std::optional<std::string> keyword_table::confirmation(std::string_view text) const {
  if (text.size() > 200) return std::nullopt;
  // Reference codes quoted with the answer ("YES #4821") are not words of it.
  std::string plain;
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::size_t n = 0;
    if (text[i] == '#')
      while (i + 1 + n < text.size() && text[i + 1 + n] >= '0' && text[i + 1 + n] <= '9') ++n;
    if (n == 4) i += n;  // the code and its '#' left out
    else plain.push_back(text[i]);
  }
  const std::string folded = fold_keyword(plain);
  if (auto it = answers_.find(folded); it != answers_.end()) return it->second;
  // "Yes, thanks", "No, sorry": an answer word first and after it only
  // courtesy words (or the same answer again). Anything more ("Yes, but on
  // Thursday") is for a person; digits answer only alone.
  std::vector<std::string> words;
  for (std::size_t at = 0; at < folded.size();) {
    const std::size_t end = std::min(folded.find(' ', at), folded.size());
    if (auto w = fold_keyword(std::string_view(folded).substr(at, end - at)); !w.empty()) words.push_back(std::move(w));
    at = end + 1;
  }
  if (words.size() < 2 || words.size() > 4) return std::nullopt;
  auto first = answers_.find(words[0]);
  if (first == answers_.end() || words[0].find_first_not_of("0123456789") == std::string::npos) return std::nullopt;
  // Folded: no case, no accents.
  static const std::set<std::string, std::less<>> courtesy{
      "thanks", "thank", "you", "thx", "please", "pls", "sorry", "sure", "ok", "okay",
      "aciu", "prasau", "atsiprasau", "gerai", "labai",
      "спасибо", "пожалуиста", "извините", "хорошо", "конечно"};
  for (std::size_t i = 1; i < words.size(); ++i) {
    auto other = answers_.find(words[i]);
    const bool same = other != answers_.end() && other->second == first->second;
    if (!same && !courtesy.count(words[i])) return std::nullopt;
  }
  return first->second;
}

std::optional<keyword_match> keyword_table::match(std::string_view text) const {
  // A keyword is short; a long reply is read by a person.
  if (text.size() > 200) return std::nullopt;
  auto it = words_.find(fold_keyword(text));
  if (it == words_.end()) return std::nullopt;
  return it->second;
}

const std::string& keyword_table::answer(const keyword_match& m) const {
  static const std::string none;
  auto it = languages_.find(m.language);
  if (it == languages_.end()) return none;
  switch (m.kind) {
    case storage::reply_keyword::opt_out: return it->second.opt_out_text;
    case storage::reply_keyword::opt_in: return it->second.opt_in_text;
    case storage::reply_keyword::help: return it->second.help_text;
    case storage::reply_keyword::none: break;
  }
  return none;
}

}  // namespace engine
