#include "exporter/process/flags.h"

#include <cmath>
#include <cstdlib>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"

namespace canary::exporter {
namespace {

absl::Status BadValue(absl::string_view flag, absl::string_view value,
                      absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid value \"", value, "\" for flag --", flag, ": ", want));
}

// blackbox_exporter takes a bare number of seconds; Go durations are
// accepted too since that is what every other duration here looks like.
absl::StatusOr<absl::Duration> ParseDurationFlag(absl::string_view value,
                                                 absl::string_view flag) {
  double seconds;
  absl::Duration d;
  if (absl::SimpleAtod(value, &seconds)) {
    if (!std::isfinite(seconds) || seconds < 0) {
      return BadValue(flag, value, "want a non-negative number of seconds");
    }
    return absl::Seconds(seconds);
  }
  if (absl::ParseDuration(value, &d) && d >= absl::ZeroDuration() &&
      d != absl::InfiniteDuration()) {
    return d;
  }
  return BadValue(flag, value,
                  "want seconds (\"0.5\") or a duration (\"500ms\")");
}

absl::StatusOr<bool> ParseBool(absl::string_view flag,
                               absl::string_view value) {
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return BadValue(flag, value, "want true or false");
}

absl::Status SetValue(absl::string_view name, absl::string_view value,
                      Flags* flags) {
  if (name == "config.file") {
    flags->config_file = std::string(value);
  } else if (name == "config.convert") {
    if (value.empty()) return BadValue(name, value, "want a blackbox.yml file");
    flags->convert_file = std::string(value);
  } else if (name == "web.listen-address") {
    if (value.empty() || !absl::StrContains(value, ':')) {
      return BadValue(name, value, "want [host]:port, e.g. \":9427\"");
    }
    flags->listen_address = std::string(value);
  } else if (name == "timeout-offset") {
    ASSIGN_OR_RETURN(flags->timeout_offset, ParseDurationFlag(value, name));
  } else if (name == "shutdown.drain-timeout") {
    ASSIGN_OR_RETURN(flags->drain_timeout, ParseDurationFlag(value, name));
  } else if (name == "history.limit") {
    if (!absl::SimpleAtoi(value, &flags->history_limit) ||
        flags->history_limit > 10000) {
      return BadValue(name, value, "want a number of probes from 0 to 10000");
    }
  } else if (name == "log.level") {
    auto level = ParseLogLevel(value);
    if (!level.ok()) return BadValue(name, value, "want debug|info|warn|error");
    flags->log_level = *level;
  } else if (name == "log.format") {
    auto format = ParseLogFormat(value);
    if (!format.ok()) return BadValue(name, value, "want logfmt|json");
    flags->log_format = *format;
  }
  return absl::OkStatus();
}

bool IsValueFlag(absl::string_view name) {
  return name == "config.file" || name == "config.convert" ||
         name == "web.listen-address" || name == "timeout-offset" ||
         name == "log.level" || name == "history.limit" ||
         name == "log.format" || name == "shutdown.drain-timeout";
}

}  // namespace

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  if (const char* file = std::getenv(kConfigFileEnv)) flags.config_file = file;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "-h") {
      flags.help = true;
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--") || arg.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", argv[i], "\""));
    }
    absl::string_view name = arg;
    std::optional<absl::string_view> value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (IsValueFlag(name)) {
      if (!value.has_value()) {
        // "--config.file --web.listen-address=x" is a forgotten value, not
        // a file named like a flag.
        if (i + 1 >= argc || absl::StartsWith(argv[i + 1], "--")) {
          return absl::InvalidArgumentError(
              absl::StrCat("flag --", name, " needs a value"));
        }
        value = argv[++i];
      }
      RETURN_IF_ERROR(SetValue(name, *value, &flags));
    } else if (name == "config.check" || name == "help" || name == "version" ||
               name == "config.dump-default") {
      bool on = true;
      if (value.has_value()) {
        ASSIGN_OR_RETURN(on, ParseBool(name, *value));
      }
      if (name == "config.check") flags.config_check = on;
      if (name == "config.dump-default") flags.dump_default = on;
      if (name == "help") flags.help = on;
      if (name == "version") flags.version = on;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
  }
  return flags;
}

std::string Usage() {
  return absl::StrCat(
      "usage: canary_exporter [flags]\n"
      "       canary_exporter probe [--config.file=F] [--module=M] URL   "
      "(one burst, k6-like summary; see probe --help)\n"
      "\n"
      "Prometheus exporter answering /probe?target=URL&module=NAME with a "
      "short paced burst of HTTP requests.\n"
      "\n"
      "Flags:\n"
      "  --config.file=FILE          TOML configuration file (default: $",
      kConfigFileEnv,
      ", else the embedded default config)\n"
      "  --web.listen-address=ADDR   address to listen on (default \"",
      kDefaultListenAddress,
      "\" = all interfaces, port 9427; \"127.0.0.1:0\" = a free port)\n"
      "  --timeout-offset=DURATION   subtracted from "
      "X-Prometheus-Scrape-Timeout-Seconds (default 0.5s; \"0.5\" or "
      "\"500ms\")\n"
      "  --config.check              validate the configuration and exit\n"
      "  --config.dump-default       print the embedded default "
      "configuration and exit\n"
      "  --config.convert=FILE       print the TOML equivalent of a "
      "blackbox_exporter config (http modules) and exit\n"
      "  --history.limit=N           recent probes shown on / (default 100; "
      "0 = none)\n"
      "  --shutdown.drain-timeout=DURATION  on SIGTERM/SIGINT, how long "
      "probes in flight may run on to get their answers (default 25s)\n"
      "  --log.level=LEVEL           debug, info, warn or error (default "
      "info)\n"
      "  --log.format=FORMAT         logfmt or json (default logfmt)\n"
      "  -h, --help                  show this help and exit\n"
      "  --version                   show the version and exit\n");
}

}  // namespace canary::exporter
