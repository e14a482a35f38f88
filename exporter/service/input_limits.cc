#include "exporter/service/input_limits.h"

#include "absl/strings/str_cat.h"

namespace canary::exporter {

absl::Status CheckProbeInput(size_t query_bytes,
                             const std::map<std::string, std::string>& query) {
  if (query_bytes > kMaxQueryStringBytes) {
    return absl::OutOfRangeError(
        absl::StrCat("query string is ", query_bytes, " bytes long; at most ",
                     kMaxQueryStringBytes, " are accepted"));
  }
  // The values are not echoed back: they are too long to be useful.
  if (auto it = query.find("target");
      it != query.end() && it->second.size() > kMaxTargetBytes) {
    return absl::OutOfRangeError(
        absl::StrCat("target is ", it->second.size(), " bytes long; at most ",
                     kMaxTargetBytes, " are accepted"));
  }
  if (auto it = query.find("module");
      it != query.end() && it->second.size() > kMaxModuleNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "module name is ", it->second.size(), " bytes long; at most ",
        kMaxModuleNameBytes, " are accepted"));
  }
  return absl::OkStatus();
}

int InputErrorHttpStatus(const absl::Status& status) {
  return status.code() == absl::StatusCode::kOutOfRange ? 414 : 400;
}

}  // namespace canary::exporter
