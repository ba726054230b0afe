// Message templates: text with {{field}} and {{field|default}} places,
// filled from a campaign's CSV columns (or an API request's fields).
//
// Compiled once per campaign, bound once to the CSV header (a field no
// column provides is an error for the whole campaign, before any row is
// read), then rendered per row without parsing again. A row whose value
// for a field is empty takes the default; with no default the row is
// rejected, naming the field. Values are inserted as they are (no
// escaping: the output is an SMS, not markup). Not thread-safe to bind;
// rendering is const and may run on any thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace engine {

class message_template {
 public:
  // nullopt with `error` set for a malformed template ("unterminated {{").
  static std::optional<message_template> compile(std::string_view text, std::string& error);

  // The field names used, in order of first use.
  std::vector<std::string> fields() const;

  // Maps each field to its column in `header`; false with `error` naming
  // the first field no column has.
  bool bind(std::span<const std::string> header, std::string& error);

  // Fills the template from a row (columns as bound). False with `problem`
  // ("no value for field \"name\"") when a field without default is empty.
  bool render(std::span<const std::string> row, std::string& out, std::string& problem) const;

 private:
  struct piece {
    std::string literal;         // text before the place (or the whole tail)
    std::string field;           // "" for a literal-only piece
    std::optional<std::string> fallback;
    std::size_t column = 0;      // after bind()
  };
  std::vector<piece> pieces_;
};

}  // namespace engine
