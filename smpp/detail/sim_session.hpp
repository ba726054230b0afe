// One ESME connection of smsc-sim: the SMSC side of an SMPP session.
//
// Reads into one buffer, decodes every complete PDU of a read in place,
// encodes all answers (responses, receipts due at once) into one output
// buffer, and keeps one write in flight while the next buffer fills
// (double buffering). Delayed responses and receipts wait in FIFOs drained
// by one timer; a second timer sends enquire_link and drops the
// connection on --drop-every. Nothing is allocated per PDU in a steady
// state and nothing is logged.
//
// Threads: a session lives on its worker's io_context; every member
// function except deliver() runs there. deliver() may be called from any
// thread (the registry routing receipts, the MO source); it hands its
// items over through a small mutex-guarded inbox and posts one drain.
// Lifetime: shared_ptr, kept alive by its pending handlers; the registry
// holds weak_ptrs only.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "smpp/detail/sim_shared.hpp"

namespace smpp::detail {

// Creates the session for an accepted socket (on `worker`'s io_context)
// and starts it there. With `tls`, the TLS handshake comes first.
void start_sim_session(sim_shared& shared, sim_worker& worker, boost::asio::ip::tcp::socket socket,
                       boost::asio::ssl::context* tls);

}  // namespace smpp::detail
