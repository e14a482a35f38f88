// log.h: a tiny leveled logger writing one line per event to stderr, in
// logfmt (go-kit style, as blackbox_exporter) or JSON.
//
//   Logger& log = GlobalLogger();
//   log.Configure(LogLevel::kInfo, LogFormat::kLogfmt);
//   log.Info("listening", {{"address", "127.0.0.1:9427"}});
//   // ts=2026-01-02T03:04:05.678Z level=info msg=listening
//   address=127.0.0.1:9427
//
// Never pass secrets (e.g. configured header values) as fields.
// Thread-safety: every Logger method is thread-safe; lines never interleave.
// Errors: ParseLogLevel/ParseLogFormat return InvalidArgument for unknown
// names.
#ifndef CANARY_EXPORTER_PROCESS_LOG_H_
#define CANARY_EXPORTER_PROCESS_LOG_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/sync.h"

namespace canary::exporter {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kLogfmt, kJson };

// "debug", "info", "warn", "error".
const char* LogLevelName(LogLevel level);

// Parses "debug", "info", "warn" or "error".
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name);
// Parses "logfmt" or "json".
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);

// One key=value of a log line; values are always strings.
using LogField = std::pair<std::string, std::string>;

// Formats one line (with its trailing '\n'). Keys ts, level and msg come
// first. logfmt quotes a value that is empty or holds a space, '=', '"',
// '\\' or a control character; JSON escapes per RFC 8259.
std::string FormatLogLine(LogFormat format, absl::Time ts, LogLevel level,
                          absl::string_view msg,
                          const std::vector<LogField>& fields);

class Logger {
 public:
  // Writes to `out` (not owned; must outlive the logger).
  explicit Logger(std::ostream* out, LogLevel level = LogLevel::kInfo,
                  LogFormat format = LogFormat::kLogfmt);

  void Configure(LogLevel level, LogFormat format);
  bool Enabled(LogLevel level) const;

  // Writes the line when `level` is at or above the configured level.
  void Log(LogLevel level, absl::string_view msg,
           const std::vector<LogField>& fields = {});
  void Debug(absl::string_view msg, const std::vector<LogField>& f = {}) {
    Log(LogLevel::kDebug, msg, f);
  }
  void Info(absl::string_view msg, const std::vector<LogField>& f = {}) {
    Log(LogLevel::kInfo, msg, f);
  }
  void Warn(absl::string_view msg, const std::vector<LogField>& f = {}) {
    Log(LogLevel::kWarn, msg, f);
  }
  void Error(absl::string_view msg, const std::vector<LogField>& f = {}) {
    Log(LogLevel::kError, msg, f);
  }

 private:
  mutable canary::Mutex mu_;
  std::ostream* out_ ABSL_GUARDED_BY(mu_);
  LogLevel level_ ABSL_GUARDED_BY(mu_);
  LogFormat format_ ABSL_GUARDED_BY(mu_);
};

// The process-wide logger, writing to std::cerr; main configures it.
Logger& GlobalLogger();

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_PROCESS_LOG_H_
