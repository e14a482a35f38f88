#include "exporter/http/listen_address.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace canary::exporter {

absl::Status ParseListenAddress(const std::string& address, std::string* host,
                                int* port) {
  const size_t colon = address.rfind(':');
  int p = -1;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(address).substr(colon + 1), &p) ||
      p < 0 || p > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid listen address \"", address,
        "\": want [host]:port, e.g. \":9427\" or \"127.0.0.1:9427\""));
  }
  *host = address.substr(0, colon);
  *port = p;
  return absl::OkStatus();
}

}  // namespace canary::exporter
