// smppctl's commands that talk to a running smppd over its HTTP API
// (http_api.hpp): campaign control and status.
//
//   smppctl campaigns [--api HOST:PORT] [--json]
//   smppctl campaign show|start|pause|resume|cancel ID [--api HOST:PORT] [--json]
//   smppctl campaign watch ID [--interval SECONDS]
//   smppctl status [--api HOST:PORT] [--json]
//   smppctl send --to N --text T --from S [--priority notification|bulk] [--validity D] [--no-receipts]
//                [--expects-reply]
//   smppctl message --api HOST:PORT ID
//   smppctl conversations --customer NUMBER | conversation ID   (two-way replies)
//   smppctl reply ID --text T   (an agent's answer in conversation ID)
//   smppctl webhooks dead | webhooks retry   (two-way events no webhook took)
//   smppctl token NAME SCOPES     (a new API token and its tokens_file line; no daemon needed)
//
// The address: --api, else $SMPPD_API, else 127.0.0.1:8080 (the default
// api.listen). The token: --token-file FILE (its first line), else
// $SMPPD_TOKEN. Exit status: 0 done, 1 refused or unreachable (the message
// says why), 2 usage. Single-threaded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace engine {

int run_control_command(std::string_view command, const std::vector<std::string_view>& args, std::string& out,
                        std::string& err);

}  // namespace engine
