// Fuzzes what a /probe request goes through before any burst: the target
// parser (probes::NormalizeTarget) and the handler's query handling
// (exporter::Handlers with a fake prober, so nothing is sent anywhere).
// A normalized target must be an http(s) URL that normalizes to itself; every
// answer must be a real HTTP status, and a refusal must say why.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "config/config.h"
#include "exporter/process/log.h"
#include "exporter/service/config_store.h"
#include "exporter/service/handlers.h"
#include "exporter/service/self_metrics.h"
#include "probes/target.h"
#include "tests/exporter/fake_prober.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using ::canary::exporter::ConfigStore;
using ::canary::exporter::FakeProber;
using ::canary::exporter::Handlers;
using ::canary::exporter::HttpRequest;
using ::canary::exporter::HttpResponse;

struct World {
  std::ostream null_log{nullptr};  // a stream without a buffer drops writes
  canary::exporter::Logger logger{&null_log,
                                  canary::exporter::LogLevel::kError};
  canary::exporter::SelfMetrics metrics;
  FakeProber prober;
  std::unique_ptr<ConfigStore> store;
  std::unique_ptr<Handlers> handlers;

  World() {
    canary::config::Config c;
    c.modules["canary"].name = "canary";
    c.modules["canary"].burst.vus = 2;
    c.modules["canary"].burst.requests = 4;
    auto s = ConfigStore::Create(
        [c]() -> absl::StatusOr<canary::config::Config> { return c; },
        "fuzz.toml", &metrics);
    FUZZ_CHECK(s.ok());
    store = *std::move(s);
    handlers =
        std::make_unique<Handlers>(&prober, store.get(), &metrics,
                                   canary::exporter::HandlerOptions{}, &logger);
  }
};

World& TheWorld() {
  static World* w = new World;
  return *w;
}

void CheckTarget(const std::string& text) {
  absl::StatusOr<std::string> url = canary::probes::NormalizeTarget(text);
  if (!url.ok()) {
    FUZZ_CHECK(!url.status().message().empty());
    return;
  }
  FUZZ_CHECK(absl::StartsWithIgnoreCase(*url, "http://") ||
             absl::StartsWithIgnoreCase(*url, "https://"));
  absl::StatusOr<std::string> again = canary::probes::NormalizeTarget(*url);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again == *url);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = TheWorld();
  FuzzedDataProvider in(data, size);
  static const char* const kPaths[] = {"/probe",   "/probe",     "/probe",
                                       "/metrics", "/-/healthy", "/",
                                       "/-/ready", "/debug"};
  static const char* const kMethods[] = {"GET", "GET", "POST", "HEAD",
                                         "DELETE"};
  HttpRequest req;
  req.method = kMethods[in.ConsumeIntegralInRange<size_t>(0, 4)];
  req.path = in.ConsumeBool() ? kPaths[in.ConsumeIntegralInRange<size_t>(0, 7)]
                              : in.ConsumeRandomLengthString(32);
  if (in.ConsumeBool()) req.scrape_timeout = in.ConsumeRandomLengthString(16);
  req.host = in.ConsumeRandomLengthString(32);
  const std::string query = in.ConsumeRemainingBytesAsString();
  // As exporter/http/http_server.cc splits a query (the values arrive decoded,
  // so any byte may appear in them); the first of repeated names wins.
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    req.query.emplace(std::move(kv.first), std::move(kv.second));
  }
  if (auto it = req.query.find("target"); it != req.query.end()) {
    CheckTarget(it->second);
  }
  const HttpResponse r = w.handlers->Handle(req);
  FUZZ_CHECK(r.status >= 200 && r.status <= 599);
  if (r.status >= 400) FUZZ_CHECK(!r.body.empty() || req.method == "HEAD");
  return 0;
}
