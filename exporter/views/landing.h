// landing.h: the exporter's landing page ("/"): version, config source, an
// example probe link to the exporter itself, the modules and the recent
// probes (probe_history.h).
//
//   std::string html = RenderLandingPage({.config = config.get(),
//                                         .config_source = store->Source(),
//                                         .host = request.host,
//                                         .history = &history});
//
// Thread-safety: a pure function of its inputs (reads `history`, which is
// thread-safe). Errors: none.
#ifndef CANARY_EXPORTER_VIEWS_LANDING_H_
#define CANARY_EXPORTER_VIEWS_LANDING_H_

#include <string>

#include "config/config.h"
#include "exporter/views/probe_history.h"

namespace canary::exporter {

struct LandingInput {
  const config::Config* config = nullptr;  // never null
  std::string config_source;               // "embedded default" or a path
  // The Host header of the request, for the self-probe example; empty:
  // 127.0.0.1:9427.
  std::string host;
  const ProbeHistory* history = nullptr;  // never null
  // The module of the example link when the config has it.
  std::string example_module = "canary";
};

// The whole HTML page.
std::string RenderLandingPage(const LandingInput& in);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_VIEWS_LANDING_H_
