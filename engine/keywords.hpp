// Keywords in customers' replies (STOP, СТОП, ATSISAKYTI, START, HELP, ...)
// per language. A reply is a keyword when, folded, it is one of the words:
// folding drops case and accents (Ą -> a, Ё -> е, É -> e), punctuation and
// spaces around the word, and turns runs of spaces into one, so that
// "  Stop. ", "stop!" and "STOP" are the same, and "Atsisakyti" matches
// ATSISAKYTI written with or without its diacritics.
//
// Immutable after construction; any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "storage/reply_store.hpp"

namespace engine {

// `text` folded as above (UTF-8 in and out; invalid UTF-8 is kept as is).
std::string fold_keyword(std::string_view text);

// Whether `text` reads like a machine's automatic reply rather than a
// person's: it contains, folded as above, a marker such as "auto-reply",
// "automatic reply", "out of office", "this is an automated",
// "автоответ", "автоматический ответ", "automatinis atsakymas" (English,
// Russian, Lithuanian; the list is in keywords.cpp). Such replies get no
// auto-acknowledgement, so that two machines do not answer each other.
bool looks_automatic(std::string_view text);

struct keyword_match {
  storage::reply_keyword kind = storage::reply_keyword::none;
  std::string language;
};

class keyword_table {
 public:
  explicit keyword_table(const config::two_way_config& c);
  // The keyword `text` is, if it is one; the first language in name order
  // wins when two list the same word.
  std::optional<keyword_match> match(std::string_view text) const;
  // "yes" or "no" when `text` is a confirmation answer (YES, ДА, TAIP, 1,
  // ...), alone or followed by courtesy words only ("No, sorry", "Taip,
  // ačiū"), with any "#NNNN" code it quotes left out.
  std::optional<std::string> confirmation(std::string_view text) const;
  // The configured answer for a keyword of `language` ("" when none).
  const std::string& answer(const keyword_match& m) const;

 private:
  std::map<std::string, keyword_match> words_;  // folded word -> its meaning
  std::map<std::string, std::string> answers_;  // folded word -> "yes" / "no"
  std::map<std::string, config::keyword_set> languages_;
};

}  // namespace engine
