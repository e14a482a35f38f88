// target_text.h: checks and redaction of a target as the text it arrives
// in (a /probe query value, a CLI argument), before libcurl parses it.
// ParseTarget (target.h) applies both; nothing else needs to.
//
//   CheckTargetBytes("http://h/ok%00evil");
//   // InvalidArgument: target "http://h/ok%00evil" contains control byte
//   // 0x00 (percent-encoded as "%00") at offset 12; ...
//   RedactTargetText("u:pw@h/x");  // "<secret>@h/x"
//
// A URL cannot carry a control byte (0x00-0x1F, 0x7F), raw or
// percent-encoded: libcurl's C API would cut the text at a raw NUL and probe
// a URL nobody asked for, and a target server decoding %00 may do the same.
//
// Thread-safety: pure functions. Errors: CheckTargetBytes returns
// InvalidArgument naming the byte, its form and its offset.
#ifndef CANARY_PROBES_TARGET_TEXT_H_
#define CANARY_PROBES_TARGET_TEXT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace canary::probes {

// OK unless `target` holds a control byte raw or as %XX (either hex case).
absl::Status CheckTargetBytes(absl::string_view target);

// `target` as it may be shown in a log line, an HTTP answer or on a page:
// the text before its last '@' after the scheme (all of it when there is no
// "://") replaced by <secret>, then C-escaped (absl::CEscape: a NUL shows
// as \000, a quote as \"). Stricter than RedactUrlUserinfo
// (base/redact_url.h) on purpose: it works on text that did not parse as a
// URL, where the end of the authority is not known.
std::string RedactTargetText(absl::string_view target);

}  // namespace canary::probes

#endif  // CANARY_PROBES_TARGET_TEXT_H_
