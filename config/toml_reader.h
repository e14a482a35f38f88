// toml_reader.h: reads TOML text into a config Node tree (config/document.h).
// The only file that uses toml++: its types and exceptions stay in
// toml_reader.cc.
//
//   absl::StatusOr<Node> root = ReadToml(text, "canary.toml");
//   if (!root.ok()) return root.status();  // "canary.toml:3:9: <why>"
//
// Tables keep their keys in file order, every key and value its position.
// A pure function, safe to call from any thread.
// Errors: InvalidArgument "<filename>:<line>:<column>: <toml++ description>"
// for a syntax error.
#ifndef CANARY_CONFIG_TOML_READER_H_
#define CANARY_CONFIG_TOML_READER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/document.h"

namespace canary::config {

// ReadToml parses `text`; `filename` is used only in error messages.
absl::StatusOr<Node> ReadToml(absl::string_view text,
                              absl::string_view filename);

}  // namespace canary::config

#endif  // CANARY_CONFIG_TOML_READER_H_
