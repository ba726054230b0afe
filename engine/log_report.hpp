// Reports from the message log for people and programs: a campaign's
// delivery report (table, CSV or JSON) and one message's whole timeline.
// Used by `smppd --once` and by `smppctl report` / `smppctl message`,
// which read the log of a running daemon through a RocksDB secondary
// instance (storage::log_reader).
//
// Pure formatting plus reading a campaign's rejections file; any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/log_reader.hpp"

namespace engine {

enum class report_format : std::uint8_t { table, csv, json };

// The rows a campaign rejected (DATA_DIR/rejections/CAMPAIGN.csv): how many,
// and the first `keep` of them as (row, reason).
struct rejections {
  std::uint64_t count = 0;
  std::vector<std::pair<std::uint64_t, std::string>> first;
};
rejections read_rejections(const std::filesystem::path& file, std::size_t keep = 10);

std::filesystem::path rejections_file(const std::filesystem::path& data_dir, std::string_view campaign);

std::string format_campaign_report(const storage::campaign_report& r, const rejections& rej,
                                   const std::filesystem::path& rejections_path, report_format f);

std::string format_message(const storage::message_view& m, report_format f);

// An SMSC account's parts by state, in doubt, orphan receipts, latencies.
std::string format_smsc_report(const storage::smsc_report& r, report_format f);

// `smppctl report` and `smppctl message`: args after the command word.
// Returns the exit code; output and errors are appended to out / err.
int run_report_command(const std::vector<std::string_view>& args, std::string& out, std::string& err);
int run_message_command(const std::vector<std::string_view>& args, std::string& out, std::string& err);

}  // namespace engine
