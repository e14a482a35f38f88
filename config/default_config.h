// default_config.h: the configuration canary_exporter runs with when no
// --config.file is given, as commented TOML text.
//
//   absl::StatusOr<Config> config = LoadConfig(DefaultConfigToml(),
//                                              "<default>");
//
// Thread-safety: returns a pointer to a static string; safe from any thread.
// Errors: none (LoadDefaultConfig in loader.h parses and validates it).
#ifndef CANARY_CONFIG_DEFAULT_CONFIG_H_
#define CANARY_CONFIG_DEFAULT_CONFIG_H_

namespace canary::config {

// DefaultConfigToml returns the embedded default configuration: modules
// "canary" (a 5 s, 10-VU burst with thresholds) and "http_2xx" (one request,
// like blackbox_exporter's module of that name).
const char* DefaultConfigToml();

}  // namespace canary::config

#endif  // CANARY_CONFIG_DEFAULT_CONFIG_H_
