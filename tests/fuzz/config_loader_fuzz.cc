// Fuzzes config::LoadConfig with arbitrary text. Besides not crashing, a
// config that loads must respect the caps and invariants the loader promises
// (config/config.h), and an error must say something.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "config/config.h"
#include "config/loader.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<canary::config::Config> config =
      canary::config::LoadConfig(text, "fuzz.toml");
  if (!config.ok()) {
    FUZZ_CHECK(!config.status().message().empty());
    return 0;
  }
  namespace cfg = canary::config;
  for (const auto& [name, m] : config->modules) {
    FUZZ_CHECK(m.name == name);
    FUZZ_CHECK(m.timeout > absl::ZeroDuration());
    FUZZ_CHECK(m.timeout <= cfg::kMaxTimeout);
    FUZZ_CHECK(m.burst.vus >= 1 && m.burst.vus <= cfg::kMaxVus);
    FUZZ_CHECK(m.burst.rate >= 0 && m.burst.rate <= cfg::kMaxRate);
    if (m.burst.requests.has_value()) {
      FUZZ_CHECK(*m.burst.requests >= 1 &&
                 *m.burst.requests <= cfg::kMaxRequests);
    }
    if (m.burst.duration.has_value()) {
      FUZZ_CHECK(*m.burst.duration <= cfg::kMaxDuration);
    }
    FUZZ_CHECK(!m.buckets.empty());
    for (size_t i = 1; i < m.buckets.size(); ++i) {
      FUZZ_CHECK(m.buckets[i - 1] < m.buckets[i]);
    }
    for (const cfg::Regexp& r : m.http.fail_if_body_matches_regexp) {
      FUZZ_CHECK(r.re != nullptr && r.re->ok());
    }
    FUZZ_CHECK(m.http.body_size_limit.value_or(1) >= 1);
    FUZZ_CHECK(!m.http.tls.max_version.has_value() ||
               *m.http.tls.max_version >= m.http.tls.min_version);
    FUZZ_CHECK(!(m.http.fail_if_ssl && m.http.fail_if_not_ssl));
    FUZZ_CHECK(m.http.max_redirects >= 0);
  }
  return 0;
}
