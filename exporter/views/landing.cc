#include "exporter/views/landing.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "config/redact.h"
#include "exporter/process/version.h"
#include "exporter/views/report_format.h"

namespace canary::exporter {

std::string RenderLandingPage(const LandingInput& in) {
  const config::Config& config = *in.config;
  std::string modules;
  std::string example_module = in.example_module;
  if (config.FindModule(example_module) == nullptr && !config.modules.empty()) {
    example_module = config.modules.begin()->first;
  }
  for (const auto& [name, module] : config.modules) {
    absl::StrAppend(&modules, "<tr><td>", EscapeHtml(name), "</td><td>",
                    EscapeHtml(DescribeBurst(module.burst)), "</td><td>",
                    EscapeHtml(absl::FormatDuration(module.timeout)),
                    "</td><td>", module.thresholds.size(), "</td></tr>\n");
  }
  // The example probes the exporter itself, never a third party.
  const std::string self = in.host.empty() ? "127.0.0.1:9427" : in.host;
  return absl::StrCat(
      "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\">"
      "<title>canary_exporter</title></head>\n<body>\n"
      "<h1>canary_exporter</h1>\n<p>Version ",
      EscapeHtml(Version()), " (revision ", EscapeHtml(Revision()),
      "). Config: ", EscapeHtml(in.config_source),
      ".</p>\n"
      "<p>Runs a short paced burst of HTTP requests against a target on "
      "every scrape of <code>/probe</code>.</p>\n<ul>\n"
      "<li><a href=\"/probe?target=http://",
      EscapeHtml(self), "/-/healthy&amp;module=", EscapeHtml(example_module),
      "\">Probe this exporter's /-/healthy with module ",
      EscapeHtml(example_module),
      "</a> (example)</li>\n"
      "<li><a href=\"/metrics\">Metrics</a></li>\n"
      "<li><a href=\"/-/healthy\">Health</a></li>\n</ul>\n"
      "<h2>Modules</h2>\n<table border=\"1\">\n"
      "<tr><th>module</th><th>burst</th><th>request timeout</th>"
      "<th>thresholds</th></tr>\n",
      modules, "</table>\n", RenderRecentProbes(*in.history),
      "<h2>Configuration</h2>\n<p>Effective, defaults included; every "
      "secret shows as &lt;secret&gt;.</p>\n<pre>",
      EscapeHtml(config::RenderConfig(config)), "</pre>\n</body>\n</html>\n");
}

}  // namespace canary::exporter
