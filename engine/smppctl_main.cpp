// smppctl: the operator's tool.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "engine/cli.hpp"
#include "engine/control_commands.hpp"
#include "engine/encode_report.hpp"
#include "engine/log_report.hpp"

namespace {
constexpr std::string_view usage =
    "usage: smppctl [--help] [--version] COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  encode   read UTF-8 text on stdin and show how it is sent: encoding,\n"
    "           segments, and each part's UDH and payload\n"
    "  report [--data-dir DIR] [--csv | --json] [CAMPAIGN | smsc NAME]\n"
    "           a campaign's delivery report from the message log: counts by\n"
    "           state, delivery rate, latency percentiles, rejected rows;\n"
    "           an SMSC account's parts by state, in doubt, orphan receipts;\n"
    "           without CAMPAIGN, the campaigns in the log\n"
    "  message [--data-dir DIR] [--json] ID [ID...]\n"
    "           one message (or several): recipient, text, parts and its whole\n"
    "           timeline\n"
    "  campaigns [--api HOST:PORT] [--json]\n"
    "           the running daemon's campaigns: state, rows read, messages\n"
    "  campaign show|start|pause|resume|cancel ID [--api HOST:PORT] [--json]\n"
    "           one campaign; start one configured with start: manual, pause\n"
    "           it (its queued messages wait), resume it, or cancel it for good\n"
    "           (its unsent messages are cancelled)\n"
    "  campaign watch ID [--interval SECONDS] [--api HOST:PORT]\n"
    "           progress until it is settled: a bar with rows, delivered,\n"
    "           failed, rate and ETA on a terminal (every second), plain\n"
    "           lines otherwise (every 10 s)\n"
    "  status [--api HOST:PORT] [--json]\n"
    "           binds per SMSC, each SMSC's rate now (lowered after\n"
    "           throttling), queues per operator, campaigns\n"
    "  send --to NUMBER --text TEXT --from SENDER [--priority notification|bulk]\n"
    "       [--validity 1h] [--no-receipts] [--expects-reply] [--api HOST:PORT]\n"
    "           one message through the API; prints its id\n"
    "  message --api HOST:PORT ID\n"
    "           one message from the running daemon (JSON)\n"
    "  conversations --customer NUMBER [--api HOST:PORT] [--json]\n"
    "           a customer's conversations (newest first) with their replies,\n"
    "           how each reply was matched and the answer; replies that\n"
    "           matched none\n"
    "  conversation ID [--api HOST:PORT] [--json]\n"
    "           one conversation and its replies\n"
    "  reply ID --text TEXT [--api HOST:PORT]\n"
    "           an agent's answer in conversation ID, sent from the number the\n"
    "           customer wrote to; prints the message's id\n"
    "  webhooks dead|retry [--api HOST:PORT] [--json]\n"
    "           two-way events no webhook accepted (dead letters), or all of\n"
    "           them sent again\n"
    "  token NAME SCOPES\n"
    "           a new API token (printed) and the line for api.tokens_file;\n"
    "           SCOPES: a comma-separated list of send, campaigns, read\n"
    "\n"
    "report and message read the log of a running daemon without disturbing\n"
    "it; DIR is the daemon's node.data_dir (default /var/lib/smppd).\n"
    "campaigns, campaign, status, send, conversations, conversation and message\n"
    "--api ask the daemon over its\n"
    "HTTP API: HOST:PORT is its api.listen (default $SMPPD_API, else\n"
    "127.0.0.1:8080); with api.tokens_file set, give a token with\n"
    "--token-file FILE or $SMPPD_TOKEN.\n"
    "\n"
    "encode options:\n"
    "  --json                      one JSON object instead of the summary\n"
    "  --long udh8|udh16|sar|payload\n"
    "                              how long texts are split (default udh8)\n"
    "  --packing unpacked|packed   GSM-7 layout in short_message (default unpacked)\n"
    "  --dc0 gsm7|latin1|ia5       what data_coding 0 means to the SMSC (default gsm7)\n"
    "  --latin1                    send Latin-1 texts as data_coding 3, not UCS-2\n"
    "  --smart                     replace typographic look-alikes to stay in GSM-7\n"
    "  --national LANG[,LANG]      national shift tables the SMSC accepts:\n"
    "                              turkish, spanish, portuguese\n"
    "  --encoding gsm7|latin1|ucs2 force an encoding\n"
    "  --reference N               concatenation reference (default 0)\n"
    "\n"
    "exit status: 0 ok, 2 bad input or usage (the message says what and where)\n";
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(usage.data(), stderr);
    return 2;
  }
  const std::string_view command = argv[1];
  const bool over_api = command == "message" && std::find(argv + 2, argv + argc, std::string_view("--api")) != argv + argc;
  if (command == "encode") {
    const std::string input{std::istreambuf_iterator<char>(std::cin),
                            std::istreambuf_iterator<char>()};
    std::string out, err;
    const int rc = smppd::run_encode(smppd::cli::args(argc, argv, 2), input, out, err);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    std::fwrite(err.data(), 1, err.size(), stderr);
    return rc;
  }
  if (!over_api && (command == "report" || command == "message")) {
    std::string out, err;
    const auto args = smppd::cli::args(argc, argv, 2);
    const int rc = command == "report" ? engine::run_report_command(args, out, err)
                                       : engine::run_message_command(args, out, err);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    std::fwrite(err.data(), 1, err.size(), stderr);
    return rc;
  }
  if (command == "campaigns" || command == "campaign" || command == "status" || command == "send" ||
      command == "token" || command == "conversations" || command == "conversation" || command == "reply" || command == "webhooks" || over_api) {
    std::string out, err;
    const int rc = engine::run_control_command(command, smppd::cli::args(argc, argv, 2), out, err);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    std::fwrite(err.data(), 1, err.size(), stderr);
    return rc;
  }
  if (auto rc = smppd::cli::common_flags(argc, argv, "smppctl", usage)) return *rc;
  std::fprintf(stderr, "smppctl: unknown command '%s'\n\n%s", argv[1], usage.data());
  return 2;
}
