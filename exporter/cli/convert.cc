#include "exporter/cli/convert.h"

#include "absl/status/statusor.h"
#include "config/blackbox_yaml.h"

namespace canary::exporter {

int RunConvertCommand(const std::string& path, std::ostream& out,
                      std::ostream& err) {
  absl::StatusOr<config::BlackboxConversion> c =
      config::ConvertBlackboxYamlFile(path);
  if (!c.ok()) {
    err << "canary_exporter: convert error: " << c.status().message() << "\n";
    return 1;
  }
  for (const std::string& note : c->notes) {
    err << "canary_exporter: convert: " << note << "\n";
  }
  out << c->toml;
  out.flush();
  return 0;
}

}  // namespace canary::exporter
