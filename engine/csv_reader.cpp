#include "engine/csv_reader.hpp"

namespace engine {

csv_reader::csv_reader(const std::filesystem::path& file, std::size_t max_field)
    : in_(file, std::ios::binary), buf_(64 * 1024), max_field_(max_field) {
  if (!in_) {
    error_ = "cannot open " + file.string();
    return;
  }
  // A UTF-8 byte order mark (spreadsheet exports) is not part of the first name.
  if (peek() == 0xEF) {
    get();
    if (get() != 0xBB || get() != 0xBF) {
      error_ = file.string() + ": row 1: not UTF-8 text";
      return;
    }
  }
  std::vector<std::string> h;
  if (!read_record(h) || h.empty() || (h.size() == 1 && h[0].empty())) {
    error_ = file.string() + ": no header row";
    return;
  }
  if (!problem_.empty()) {
    error_ = file.string() + ": row 1: " + problem_;
    return;
  }
  for (auto& name : h) {
    // Names compare without surrounding spaces: "msisdn, name" works.
    std::size_t a = name.find_first_not_of(' '), b = name.find_last_not_of(' ');
    name = a == std::string::npos ? "" : name.substr(a, b - a + 1);
  }
  header_ = std::move(h);
  row_ = 1;
}

int csv_reader::peek() {
  if (pos_ == len_) {
    if (eof_) return -1;
    in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    len_ = static_cast<std::size_t>(in_.gcount());
    fetched_ += len_;
    pos_ = 0;
    if (len_ == 0) {
      eof_ = true;
      return -1;
    }
  }
  return static_cast<unsigned char>(buf_[pos_]);
}

int csv_reader::get() {
  int c = peek();
  if (c >= 0) ++pos_;
  return c;
}

bool csv_reader::read_record(std::vector<std::string>& fields) {
  fields.clear();
  problem_.clear();
  if (peek() < 0) return false;
  std::string field;
  bool quoted = false, was_quoted = false, too_long = false;
  for (;;) {
    int c = get();
    if (quoted) {
      if (c < 0) {
        problem_ = "a quoted field is not closed before the end of the file";
        fields.push_back(std::move(field));
        return true;
      }
      if (c == '"') {
        if (peek() == '"') {
          get();
          field += '"';
        } else {
          quoted = false;
        }
      } else if (field.size() < max_field_) {
        field += static_cast<char>(c);
      } else {
        too_long = true;
      }
      continue;
    }
    if (c < 0 || c == '\n' || c == ',') {
      if (!field.empty() && field.back() == '\r' && c != ',') field.pop_back();
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
      if (c != ',') break;
      continue;
    }
    if (c == '"') {
      if (field.empty() && !was_quoted) {
        quoted = was_quoted = true;
        continue;
      }
      if (problem_.empty()) problem_ = "a quote inside an unquoted field (column " + std::to_string(fields.size() + 1) + ")";
      continue;
    }
    if (was_quoted && c != '\r') {
      if (problem_.empty()) problem_ = "text after a closing quote (column " + std::to_string(fields.size() + 1) + ")";
      continue;
    }
    if (field.size() < max_field_) field += static_cast<char>(c);
    else too_long = true;
  }
  if (too_long && problem_.empty()) problem_ = "a field longer than " + std::to_string(max_field_) + " characters";
  return true;
}

csv_reader::status csv_reader::next(std::vector<std::string>& fields) {
  for (;;) {
    if (!read_record(fields)) return in_.bad() ? status::io_error : status::end;
    ++row_;
    if (fields.size() == 1 && fields[0].empty() && problem_.empty()) continue;  // a blank line
    if (!problem_.empty()) return status::bad_row;
    if (fields.size() != header_.size()) {
      problem_ = "expected " + std::to_string(header_.size()) + " columns, found " + std::to_string(fields.size());
      return status::bad_row;
    }
    return status::row;
  }
}

void csv_reader::skip_through(std::uint64_t last) {
  std::vector<std::string> scratch;
  while (row_ < last && read_record(scratch)) ++row_;
}

}  // namespace engine
