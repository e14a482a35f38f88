#include "config/default_config.h"

namespace canary::config {

// Only values that differ from the defaults in config.h are written out, so
// the defaults live in one place: the code.
const char* DefaultConfigToml() {
  return R"toml(# canary_exporter embedded default configuration.
# Probe with /probe?target=https://example.com&module=canary

# "canary": a small closed-model burst. 10 virtual users each loop
# request -> 1 s think time for 5 s. The probe fails when the 95th percentile
# latency reaches 200 ms or 1% of the requests fail.
[modules.canary]
timeout = "2s"  # per request
thresholds = ["p(95)<200ms", "error_rate<0.01"]

[modules.canary.burst]
vus = 10
think_time = "1s"
duration = "5s"

[modules.canary.http]
method = "GET"
headers = { "X-Canary" = "1" }  # lets the target tell canary traffic apart

# "http_2xx": one GET request that must answer 2xx, like blackbox_exporter's
# module of the same name.
[modules.http_2xx]
timeout = "5s"
)toml";
}

}  // namespace canary::config
