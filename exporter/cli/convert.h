// convert.h: `canary_exporter --config.convert=FILE.yml`: prints the
// canary_exporter TOML equivalent of a blackbox_exporter configuration
// (config/blackbox_yaml.h) on stdout, and every option it could not carry
// over, one line each, on stderr (they are `#` comments in the TOML too).
//
//   canary_exporter --config.convert=blackbox.yml > canary.toml
//
// A flag rather than a subcommand: it sits beside --config.check and
// --config.dump-default, the one-shot config flags blackbox users know.
//
// Exit codes: 0 converted (notes or not), 1 the file could not be read or
// converted (the error names file:line:column and the key).
//
// Thread-safety: for main().
#ifndef CANARY_EXPORTER_CLI_CONVERT_H_
#define CANARY_EXPORTER_CLI_CONVERT_H_

#include <ostream>
#include <string>

namespace canary::exporter {

// Converts the blackbox.yml at `path`; returns the exit code.
int RunConvertCommand(const std::string& path, std::ostream& out,
                      std::ostream& err);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_CLI_CONVERT_H_
