// listen_address.h: the one parser of --web.listen-address, for CivetWeb's
// port (http_server.h) and for the front listener (edge_listener.h).
//
//   std::string host;
//   int port = 0;
//   RETURN_IF_ERROR(ParseListenAddress("127.0.0.1:9427", &host, &port));
//   // host == "127.0.0.1", port == 9427
//
// Thread-safety: a pure function.
// Errors: InvalidArgument, naming the address, when there is no valid port.
#ifndef CANARY_EXPORTER_HTTP_LISTEN_ADDRESS_H_
#define CANARY_EXPORTER_HTTP_LISTEN_ADDRESS_H_

#include <string>

#include "absl/status/status.h"

namespace canary::exporter {

// Splits a listen address (":9427", "127.0.0.1:0", "[::1]:9427") into host
// (empty for all interfaces; brackets kept) and port.
absl::Status ParseListenAddress(const std::string& address, std::string* host,
                                int* port);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_HTTP_LISTEN_ADDRESS_H_
