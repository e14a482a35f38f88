// cli.h: `canary_exporter probe`, the one-shot command line: runs one
// burst and prints a summary a k6 user reads at a glance, or the Prometheus
// exposition; usable as a CI performance gate.
//
//   canary_exporter probe [--config.file=F] [--module=M] [--timeout=D]
//                         [--output=summary|prometheus]
//                         [--summary-export=FILE] [--allow-metadata-targets]
//                         URL
//
//   if (argc > 1 && std::string(argv[1]) == "probe")
//     return RunProbeCommand(argc - 1, argv + 1, std::cout, std::cerr);
//
// As `k6 run`: any target the user types is probed (the server's [security]
// allowlist does not apply; only link-local, cloud metadata and unspecified
// addresses are refused, unless --allow-metadata-targets). Exit codes, k6's
// where k6 has one: 0 every threshold holds (without thresholds: every
// request succeeded), 99 the probe failed (k6: thresholds crossed), 105
// interrupted by Ctrl-C (k6: external abort; the summary of what ran is
// still printed), 107 the probe could not run (k6: the script broke; here a
// refused target, a transport that could not be set up, libcurl init), 2
// usage or config errors.
// On a terminal a live progress line is drawn once a burst runs past 2 s,
// and the summary has colours unless NO_COLOR is set (non-empty, as
// no-color.org says); piped output is plain text.
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
inline constexpr int kExitInterrupted = 105;  // k6: ExternalAbort
inline constexpr int kExitCouldNotRun = 107;  // k6: ScriptException
// The longest a CLI burst may take without an explicit --timeout.
inline constexpr absl::Duration kMaxCliBudget = absl::Minutes(10);

enum class CliOutput { kSummary, kPrometheus };

struct ProbeArgs {
  std::string config_file;  // empty: the embedded default config
  std::string module = "canary";
  std::optional<absl::Duration> timeout;  // the whole probe's budget
  CliOutput output = CliOutput::kSummary;
  std::string summary_export;  // --summary-export: a JSON file; empty: none
  bool allow_metadata_targets = false;
  std::string target;
  bool help = false;
};

// The CLI's target guard: every address but link-local, cloud metadata and
// unspecified ones (probes/allowlist.h); with `allow_metadata_targets`,
// those too.
probes::Allowlist CliAllowlist(bool allow_metadata_targets);

// Whether to colour the summary: a terminal, and NO_COLOR unset or empty.
bool UseColor(bool tty, const char* no_color_env);

// The JSON of --summary-export, in the shape of k6's --summary-export
// (metrics in milliseconds; as in k6, a threshold maps to true when it
// FAILED), plus a "canary" object with the verdict and the exit code.
std::string SummaryJson(const config::Module& module, const std::string& target,
                        const probes::ProbeReport& report, bool interrupted,
                        int exit_code);

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
