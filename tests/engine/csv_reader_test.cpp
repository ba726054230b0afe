// Tests of engine/csv_reader.hpp on real files: quoting, line endings,
// bad rows reported with their row number without stopping the stream,
// and resuming after a given row.
#include "engine/csv_reader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

class csv_files : public ::testing::Test {
 protected:
  smppd::test::temp_dir tmp{"smppd-csv-test"};
  fs::path dir = tmp.path();
  fs::path write(const std::string& text) {
    auto p = dir / "r.csv";
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  struct record {
    engine::csv_reader::status st;
    std::uint64_t row;
    std::vector<std::string> fields;
    std::string problem;
  };
  std::vector<record> all(engine::csv_reader& r) {
    std::vector<record> out;
    std::vector<std::string> f;
    for (;;) {
      auto st = r.next(f);
      if (st == engine::csv_reader::status::end || st == engine::csv_reader::status::io_error) break;
      out.push_back({st, r.row_number(), f, r.problem()});
    }
    return out;
  }
};

TEST_F(csv_files, reads_quoted_fields_with_commas_quotes_and_line_breaks) {
  engine::csv_reader r(write("msisdn,name,note\r\n+1,\"Doe, Jane\",\"says \"\"hi\"\"\"\r\n+2,Bob,\"two\nlines\"\n"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.header(), (std::vector<std::string>{"msisdn", "name", "note"}));
  auto rows = all(r);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"+1", "Doe, Jane", "says \"hi\""}));
  EXPECT_EQ(rows[0].row, 2u);
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"+2", "Bob", "two\nlines"}));
  EXPECT_EQ(rows[1].row, 3u);
}

TEST_F(csv_files, skips_a_byte_order_mark_and_trims_header_names) {
  engine::csv_reader r(write("\xEF\xBB\xBFmsisdn, name\n+1,A\n"));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.header(), (std::vector<std::string>{"msisdn", "name"}));
}

TEST_F(csv_files, reports_bad_rows_and_goes_on) {
  engine::csv_reader r(write("msisdn,name\n+1,A\n+2\n+3,C,extra\n+4,\"D\"x\n+5,E\n\n+6,F"));
  ASSERT_TRUE(r.ok());
  auto rows = all(r);
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].st, engine::csv_reader::status::row);
  EXPECT_EQ(rows[1].st, engine::csv_reader::status::bad_row);
  EXPECT_EQ(rows[1].row, 3u);
  EXPECT_EQ(rows[1].problem, "expected 2 columns, found 1");
  EXPECT_EQ(rows[2].problem, "expected 2 columns, found 3");
  EXPECT_EQ(rows[3].st, engine::csv_reader::status::bad_row);
  EXPECT_EQ(rows[3].problem, "text after a closing quote (column 2)");
  EXPECT_EQ(rows[4].fields[0], "+5");
  EXPECT_EQ(rows[5].fields[0], "+6");  // last line without newline; the blank line skipped
  EXPECT_EQ(rows[5].row, 8u);
}

TEST_F(csv_files, reports_an_unclosed_quote_at_the_end) {
  engine::csv_reader r(write("msisdn,name\n+1,\"open\n"));
  auto rows = all(r);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].st, engine::csv_reader::status::bad_row);
  EXPECT_EQ(rows[0].problem, "a quoted field is not closed before the end of the file");
}

TEST_F(csv_files, bounds_the_length_of_a_field) {
  std::string text = "msisdn,name\n+1,";
  text.append(10000, 'x');
  text += "\n+2,B\n";
  engine::csv_reader r(write(text), 100);
  auto rows = all(r);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].problem, "a field longer than 100 characters");
  EXPECT_EQ(rows[1].fields[1], "B");
}

TEST_F(csv_files, resumes_after_a_given_row) {
  std::string text = "msisdn\n";
  for (int i = 0; i < 1000; ++i) {
    text += '+';
    text += std::to_string(1000000 + i);
    text += '\n';
  }
  engine::csv_reader r(write(text));
  r.skip_through(501);  // rows 2..501 done
  std::vector<std::string> f;
  ASSERT_EQ(r.next(f), engine::csv_reader::status::row);
  EXPECT_EQ(r.row_number(), 502u);
  EXPECT_EQ(f[0], "+1000500");
}

TEST_F(csv_files, says_when_there_is_no_header_or_no_file) {
  engine::csv_reader empty(write(""));
  EXPECT_FALSE(empty.ok());
  EXPECT_NE(empty.error().find("no header row"), std::string::npos);
  engine::csv_reader missing(dir / "nothere.csv");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("cannot open"), std::string::npos);
}

}  // namespace
