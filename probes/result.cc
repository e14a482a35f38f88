#include "probes/result.h"

namespace canary::probes {

const char* ResultClassName(ResultClass c) {
  switch (c) {
    case ResultClass::kSuccess:
      return "success";
    case ResultClass::kHttpStatus:
      return "http_status";
    case ResultClass::kValidation:
      return "validation";
    case ResultClass::kTimeout:
      return "timeout";
    case ResultClass::kConnect:
      return "connect";
    case ResultClass::kDns:
      return "dns";
    case ResultClass::kTls:
      return "tls";
    case ResultClass::kProtocol:
      return "protocol";
    case ResultClass::kOther:
      return "other";
  }
  return "other";
}

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kResolve:
      return "resolve";
    case Phase::kConnect:
      return "connect";
    case Phase::kTls:
      return "tls";
    case Phase::kProcessing:
      return "processing";
    case Phase::kTransfer:
      return "transfer";
  }
  return "other";
}

}  // namespace canary::probes
