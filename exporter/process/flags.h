// flags.h: the command line of canary_exporter, in blackbox_exporter's
// dotted spellings (which absl flags cannot express).
//
//   absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
//   if (!flags.ok()) { std::cerr << flags.status().message() << "\n"
//                                << Usage(); return 2; }
//
// Flags (every value flag accepts `--name=value` and `--name value`):
//   --config.file=F           TOML config; default $CANARY_CONFIG_FILE, and
//                             without it (or empty) the embedded default
//   --web.listen-address=A    default ":9427" (all interfaces, port 9427);
//                             "127.0.0.1:0" picks a free port
//   --timeout-offset=D        subtracted from the scrape timeout; default
//                             0.5s; "0.5" (seconds) or a Go duration "500ms"
//   --config.check[=BOOL]     validate the config and exit
//   --config.dump-default     print the embedded default config and exit
//   --config.convert=F        print the TOML equivalent of blackbox.yml F
//                             and exit (exporter/cli/convert.h)
//   --history.limit=N         recent probes kept for "/" (default 100)
//   --shutdown.drain-timeout=D  on SIGTERM, how long probes in flight may
//                             still run to get their answers; default 25s,
//                             same forms as --timeout-offset
//   --log.level=L             debug|info|warn|error (default info)
//   --log.format=F            logfmt|json (default logfmt)
//   --help, -h / --version
//
// Thread-safety: pure functions.
// Errors: InvalidArgument naming the flag for an unknown flag, a missing
// value, a bad value or a stray positional argument.
#ifndef CANARY_EXPORTER_PROCESS_FLAGS_H_
#define CANARY_EXPORTER_PROCESS_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/process/log.h"

namespace canary::exporter {

inline constexpr char kDefaultListenAddress[] = ":9427";
// Under Kubernetes' default terminationGracePeriodSeconds (30 s), so the
// exporter ends on its own, and logs what it abandons, before SIGKILL.
inline constexpr absl::Duration kDefaultDrainTimeout = absl::Seconds(25);
// Names the config file when --config.file is not given (the container image
// sets it, so `docker run IMAGE --any.flag` keeps the image's config file).
inline constexpr char kConfigFileEnv[] = "CANARY_CONFIG_FILE";

struct Flags {
  std::string config_file;  // empty: the embedded default config
  std::string listen_address = kDefaultListenAddress;
  absl::Duration timeout_offset = absl::Milliseconds(500);
  bool config_check = false;
  bool dump_default = false;
  std::string convert_file;  // --config.convert; empty: not asked
  size_t history_limit = 100;
  absl::Duration drain_timeout = kDefaultDrainTimeout;
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kLogfmt;
  bool help = false;
  bool version = false;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv);

// The --help text (ends with a newline).
std::string Usage();

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_PROCESS_FLAGS_H_
