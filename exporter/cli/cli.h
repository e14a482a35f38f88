// cli.h: `canary_exporter probe`, the one-shot command line: runs one
// burst and prints a summary a k6 user reads at a glance, or the Prometheus
// exposition; usable as a CI performance gate.
//
//   canary_exporter probe [--config.file=F] [--module=M] [--timeout=D]
//                         [--output=summary|prometheus] URL
//
//   if (argc > 1 && std::string(argv[1]) == "probe")
//     return RunProbeCommand(argc - 1, argv + 1, std::cout, std::cerr);
//
// Exit codes (k6's convention): 0 every threshold holds (without
// thresholds: every request succeeded), 99 the probe failed, 2 usage or
// config errors, 1 the exporter itself could not run (libcurl init).
// On a terminal a live progress line is drawn once a burst runs past 2 s.
//
// Thread-safety: RunProbeCommand is for main(); the rest are pure.
// Errors: ParseProbeArgs returns InvalidArgument naming the flag or
// argument; CliBudget none.
#ifndef CANARY_EXPORTER_CLI_CLI_H_
#define CANARY_EXPORTER_CLI_CLI_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "probes/prober.h"

namespace canary::exporter {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 99;  // k6: thresholds crossed
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInternal = 1;
// The longest a CLI burst may take without an explicit --timeout.
inline constexpr absl::Duration kMaxCliBudget = absl::Minutes(10);

enum class CliOutput { kSummary, kPrometheus };

struct ProbeArgs {
  std::string config_file;  // empty: the embedded default config
  std::string module = "canary";
  std::optional<absl::Duration> timeout;  // the whole probe's budget
  CliOutput output = CliOutput::kSummary;
  std::string target;
  bool help = false;
};

// Parses the arguments after "probe" (argv[0] is "probe" itself).
absl::StatusOr<ProbeArgs> ParseProbeArgs(int argc, char** argv);

std::string ProbeUsage();

// The budget of a CLI burst when no --timeout is given: the burst's own
// shape (duration, or the time its request count needs at the configured
// pace) plus the module's request timeout and 1 s, capped at kMaxCliBudget.
absl::Duration CliBudget(const config::Module& module);

// The k6-like summary of one probe (ends with a newline). `color` adds ANSI
// colours to ✓/✗.
std::string RenderSummary(const config::Module& module,
                          const std::string& target, absl::Duration budget,
                          const probes::ProbeReport& report, bool color);

// The live progress line, without "\r": "running 23/50 requests, 4.6s/5s".
// `planned` 0 means unknown.
std::string ProgressLine(int64_t done, int64_t planned, int64_t errors,
                         absl::Duration elapsed, absl::Duration expected);

// Runs `canary_exporter probe ...`; returns the exit code.
int RunProbeCommand(int argc, char** argv, std::ostream& out,
                    std::ostream& err);

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_CLI_CLI_H_
