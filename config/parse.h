// parse.h: parsers for the scalar value syntaxes of the config file:
// durations ("500ms", "1m30s") and byte sizes ("1MiB", "10MB", "1024").
//
//   absl::StatusOr<absl::Duration> d = ParseDuration("1.5s");  // 1500ms
//   absl::StatusOr<int64_t> n = ParseSize("512KiB");           // 524288
//
// Both are pure functions, safe to call from any thread.
// Errors: InvalidArgument with a one-line message that quotes the input and
// says what was expected (no file position: the loader adds that).
#ifndef CANARY_CONFIG_PARSE_H_
#define CANARY_CONFIG_PARSE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace canary::config {

// ParseDuration parses a Go-style duration ("300ms", "1.5s", "2h45m", "0")
// with absl::ParseDuration. Units: ns, us, ms, s, m, h. Rejects negative and
// infinite durations and the empty string.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view s);

// ParseSize parses a non-negative whole number of bytes with an optional
// unit, optionally separated by spaces: B, kB/KB, MB, GB, TB (powers of
// 1000) or KiB, MiB, GiB, TiB (powers of 1024); a plain number is bytes.
// Fails with InvalidArgument on an unknown unit or when the result does not
// fit in int64_t.
absl::StatusOr<int64_t> ParseSize(absl::string_view s);

}  // namespace canary::config

#endif  // CANARY_CONFIG_PARSE_H_
