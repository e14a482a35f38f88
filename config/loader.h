// loader.h: loads a TOML configuration into a validated Config.
//
//   absl::StatusOr<Config> config = LoadConfigFile("/etc/canary.toml");
//   if (!config.ok()) return config.status();  // "canary.toml:7:7: ..."
//   const Module* m = config->FindModule("canary");
//
// Every key is checked at load: unknown keys, wrong types and out-of-range
// values are errors, so a loaded Config needs no further validation (the
// engine trusts it). LoadConfig is ReadToml (config/toml_reader.h, the TOML
// syntax) followed by ConfigFromDocument (config/schema.h, the keys).
//
// Thread-safety: the functions share no state; safe from any thread.
// Errors: content errors are InvalidArgument, one line, in the form
//   <filename>:<line>:<column>: <dotted.key.path>: <what is wrong>
// e.g. "canary.toml:7:7: modules.canary.burst.vus: must be between 1 and
// 1000, got 0". TOML syntax errors are "<filename>:<line>:<column>: <toml++
// description>". LoadConfigFile also returns NotFound / PermissionDenied
// (naming the path) when the file cannot be read.
#ifndef CANARY_CONFIG_LOADER_H_
#define CANARY_CONFIG_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/config.h"

namespace canary::config {

// LoadConfig parses and validates `toml_text`; `filename` is used only in
// error messages.
absl::StatusOr<Config> LoadConfig(absl::string_view toml_text,
                                  absl::string_view filename);

// LoadConfigFile reads the file at `path` and loads it; error messages name
// the file as `path` was written.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// ReadConfigText returns the whole file at `path`: InvalidArgument for a
// directory, NotFound / PermissionDenied (naming the path) when it cannot be
// read. Shared with config/blackbox_yaml.h.
absl::StatusOr<std::string> ReadConfigText(const std::string& path);

// LoadDefaultConfig loads DefaultConfigToml() (config/default_config.h).
absl::StatusOr<Config> LoadDefaultConfig();

}  // namespace canary::config

#endif  // CANARY_CONFIG_LOADER_H_
