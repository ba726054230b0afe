// Streams a campaign's recipients file: CSV (RFC 4180: comma separated,
// fields in double quotes may hold commas, quotes written twice and line
// breaks; CRLF or LF; a UTF-8 byte order mark is skipped) with a header
// row. Rows are read one at a time from a fixed buffer, so memory stays
// flat whatever the file's size; a reader can start at a given row to
// continue a campaign after a restart.
//
// A bad row (wrong number of columns, a field too long, a stray quote) is
// reported with its row number and the reader goes on with the next; only
// I/O errors end the stream. Row numbers count records as a spreadsheet
// does: the header is row 1, the first recipient row 2.
//
// One thread per reader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace engine {

class csv_reader {
 public:
  enum class status { row, bad_row, end, io_error };

  // Opens the file and reads the header. ok() is false (error() says why)
  // when it cannot be read or has no header.
  explicit csv_reader(const std::filesystem::path& file, std::size_t max_field = 4096);

  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }
  const std::vector<std::string>& header() const noexcept { return header_; }

  // The next record: status::row with `fields` filled (as many as the
  // header), status::bad_row with problem() set, or end/io_error.
  status next(std::vector<std::string>& fields);
  std::uint64_t row_number() const noexcept { return row_; }  // of the record just returned
  const std::string& problem() const noexcept { return problem_; }

  // Octets of the file consumed so far (progress against its size).
  std::uint64_t bytes_consumed() const noexcept { return fetched_ - (len_ - pos_); }

  // Skips records up to and including row `last` (cursor restore).
  void skip_through(std::uint64_t last);

 private:
  bool read_record(std::vector<std::string>& fields);  // false at EOF before any byte
  int get();
  int peek();

  std::ifstream in_;
  std::vector<char> buf_;
  std::size_t pos_ = 0, len_ = 0;
  std::uint64_t fetched_ = 0;
  bool eof_ = false;
  std::size_t max_field_;
  std::vector<std::string> header_;
  std::uint64_t row_ = 1;
  std::string error_, problem_;
};

}  // namespace engine
