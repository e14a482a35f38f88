#include "exporter/process/log.h"

#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/escape.h"

namespace canary::exporter {
namespace {

bool NeedsQuoting(absl::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) {
      return true;
    }
  }
  return false;
}

void AppendLogfmt(std::string* out, absl::string_view key,
                  absl::string_view value) {
  if (!out->empty()) out->push_back(' ');
  out->append(key.data(), key.size());
  out->push_back('=');
  if (NeedsQuoting(value)) {
    out->push_back('"');
    AppendEscaped(out, value);
    out->push_back('"');
  } else {
    out->append(value.data(), value.size());
  }
}

void AppendJson(std::string* out, absl::string_view key,
                absl::string_view value) {
  if (out->size() > 1) out->push_back(',');  // past the opening '{'
  out->push_back('"');
  AppendEscaped(out, key);
  out->append("\":\"");
  AppendEscaped(out, value);
  out->push_back('"');
}

}  // namespace

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view name) {
  for (LogLevel l :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == LogLevelName(l)) return l;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown log level \"", name, "\" (want debug, info, warn or error)"));
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "logfmt") return LogFormat::kLogfmt;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log format \"", name, "\" (want logfmt or json)"));
}

std::string FormatLogLine(LogFormat format, absl::Time ts, LogLevel level,
                          absl::string_view msg,
                          const std::vector<LogField>& fields) {
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", ts, absl::UTCTimeZone());
  std::string line;
  if (format == LogFormat::kJson) {
    // Not `line = "{"`: GCC 12 warns (-Wrestrict) inside libstdc++ there.
    line.push_back('{');
    AppendJson(&line, "ts", time);
    AppendJson(&line, "level", LogLevelName(level));
    AppendJson(&line, "msg", msg);
    for (const auto& [k, v] : fields) AppendJson(&line, k, v);
    line.append("}\n");
  } else {
    AppendLogfmt(&line, "ts", time);
    AppendLogfmt(&line, "level", LogLevelName(level));
    AppendLogfmt(&line, "msg", msg);
    for (const auto& [k, v] : fields) AppendLogfmt(&line, k, v);
    line.push_back('\n');
  }
  return line;
}

Logger::Logger(std::ostream* out, LogLevel level, LogFormat format)
    : out_(out), level_(level), format_(format) {}

void Logger::Configure(LogLevel level, LogFormat format) {
  canary::MutexLock lock(&mu_);
  level_ = level;
  format_ = format;
}

bool Logger::Enabled(LogLevel level) const {
  canary::MutexLock lock(&mu_);
  return level >= level_;
}

void Logger::Log(LogLevel level, absl::string_view msg,
                 const std::vector<LogField>& fields) {
  const absl::Time now = absl::Now();
  canary::MutexLock lock(&mu_);
  if (level < level_) return;
  *out_ << FormatLogLine(format_, now, level, msg, fields) << std::flush;
}

Logger& GlobalLogger() {
  static Logger* const logger = new Logger(&std::cerr);
  return *logger;
}

}  // namespace canary::exporter
