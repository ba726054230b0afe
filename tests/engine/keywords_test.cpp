// Keyword folding and matching: case, accents, punctuation and spacing do
// not matter; the defaults cover English, Russian and Lithuanian; a
// configured language replaces its defaults; longer replies are not keywords;
// automatic replies are told from people's by their markers.
#include <gtest/gtest.h>

#include "engine/keywords.hpp"

namespace {

using engine::fold_keyword;
using engine::keyword_table;
using storage::reply_keyword;

TEST(keywords, folding_drops_case_accents_punctuation_and_extra_spaces) {
  EXPECT_EQ(fold_keyword("  Stop. "), "stop");
  EXPECT_EQ(fold_keyword("STOP!!"), "stop");
  EXPECT_EQ(fold_keyword("«Стоп»"), "стоп");
  EXPECT_EQ(fold_keyword("Ёлка Йод"), "елка иод");
  EXPECT_EQ(fold_keyword("NEBESIŲSTI"), "nebesiusti");
  EXPECT_EQ(fold_keyword("nebesiusti"), "nebesiusti");
  EXPECT_EQ(fold_keyword("Opt \t  Out"), "opt out");
  EXPECT_EQ(fold_keyword("Ça"), "ca");
  EXPECT_EQ(fold_keyword(""), "");
  EXPECT_EQ(fold_keyword("\xff\xfe"), "\xff\xfe");  // invalid UTF-8 kept as it is
}

TEST(keywords, defaults_cover_english_russian_and_lithuanian) {
  const keyword_table t(config::default_two_way());
  struct row {
    const char* text;
    reply_keyword kind;
    const char* language;
  };
  for (const row& r : {row{"stop", reply_keyword::opt_out, "en"}, row{"Unsubscribe", reply_keyword::opt_out, "en"},
                       row{"QUIT.", reply_keyword::opt_out, "en"}, row{"start", reply_keyword::opt_in, "en"},
                       row{"UNSTOP", reply_keyword::opt_in, "en"}, row{"help", reply_keyword::help, "en"},
                       row{"стоп", reply_keyword::opt_out, "ru"}, row{"Отписаться", reply_keyword::opt_out, "ru"},
                       row{"СТАРТ", reply_keyword::opt_in, "ru"}, row{"помощь", reply_keyword::help, "ru"},
                       row{"Atsisakyti", reply_keyword::opt_out, "lt"}, row{"nebesiusti", reply_keyword::opt_out, "lt"},
                       row{"pradeti", reply_keyword::opt_in, "lt"}, row{"PAGALBA", reply_keyword::help, "lt"}}) {
    auto m = t.match(r.text);
    ASSERT_TRUE(m) << r.text;
    EXPECT_EQ(m->kind, r.kind) << r.text;
    EXPECT_EQ(m->language, r.language) << r.text;
    EXPECT_FALSE(t.answer(*m).empty()) << r.text;
  }
  EXPECT_FALSE(t.match("stop sending me the reminders please"));
  EXPECT_FALSE(t.match("Yes"));
  EXPECT_FALSE(t.match(""));
}

TEST(keywords, a_configured_language_replaces_its_defaults_and_others_stay) {
  auto c = config::default_two_way();
  c.languages["en"] = config::keyword_set{{"HALT"}, {}, {"HELP"}, {"OK"}, {}, "Halted.", "", "Ask us."};
  const keyword_table t(c);
  EXPECT_FALSE(t.match("STOP"));
  auto m = t.match("halt");
  ASSERT_TRUE(m);
  EXPECT_EQ(t.answer(*m), "Halted.");
  EXPECT_TRUE(t.match("СТОП"));
  EXPECT_EQ(t.confirmation("ok!"), "yes");
  EXPECT_FALSE(t.confirmation("yes"));
}

TEST(keywords, confirmation_answers_in_each_default_language) {
  const keyword_table t(config::default_two_way());
  for (const char* yes : {"Yes", "y", "1", "Да", "ДА!", "taip", "Taip."}) EXPECT_EQ(t.confirmation(yes), "yes") << yes;
  for (const char* no : {"NO", "n", "2", "нет", "Ne"}) EXPECT_EQ(t.confirmation(no), "no") << no;
  EXPECT_FALSE(t.confirmation("Yes, but on Thursday"));
  // Followed by courtesy words or quoting the code, still an answer.
  for (const char* yes : {"Yes, thanks!", "YES #4821", "#4821 yes please", "Taip, ačiū", "Да, спасибо", "yes, yes"})
    EXPECT_EQ(t.confirmation(yes), "yes") << yes;
  for (const char* no : {"No, sorry", "no thank you", "Ne, atsiprašau", "нет #1234"})
    EXPECT_EQ(t.confirmation(no), "no") << no;
  for (const char* other : {"No idea who you are", "2 kids", "yes no", "Yes #482", "Thanks"})
    EXPECT_FALSE(t.confirmation(other)) << other;
  EXPECT_FALSE(t.match("yes"));  // an answer, not a keyword
}

TEST(keywords, automatic_replies_are_recognised_in_each_language_whatever_the_case_and_accents) {
  for (const char* text : {
           "Automatic reply: out of office",
           "AUTO-REPLY: I am away until Monday",
           "Autoreply",
           "I'm Out Of Office until 12 May, back on Monday.",
           "This is an automated message, please do not reply.",
           "Автоответ: я в отпуске до понедельника",
           "АВТОМАТИЧЕСКИЙ ОТВЕТ. Ваше сообщение получено",
           "Это автоматическое сообщение",
           "Automatinis atsakymas: šiuo metu nesu darbo vietoje",
           "AUTOMATINIS PRANESIMAS",  // written without its diacritics
           "Sveiki, šiuo metu nesu biure.",
       })
    EXPECT_TRUE(engine::looks_automatic(text)) << text;
  for (const char* text : {
           "Where is my parcel?",
           "Can I reply to this automatically?",
           "Is the office open on Saturday?",
           "Спасибо, ответ получил",
           "Ačiū, gavau atsakymą",
           "",
           "ÿþ",
       })
    EXPECT_FALSE(engine::looks_automatic(text)) << text;
}

}  // namespace
