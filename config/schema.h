// schema.h: what the config file may say. One declarative table per TOML
// table binds each key to its Config field, its value syntax and its limits;
// unknown-key detection, reading and every error message come from it.
// Defaults and limits themselves live in config/config.h.
//
//   ASSIGN_OR_RETURN(Node root, ReadToml(text, "canary.toml"));
//   ASSIGN_OR_RETURN(Config config, ConfigFromDocument(root, "canary.toml"));
//
// A new key is one entry in the table of its section in schema.cc (plus the
// field and, when bounded, its limit in config.h, and its row in
// docs/configuration.md, which tests/config/docs_test.cc checks against
// SchemaTables()).
//
// Thread-safety: pure functions over immutable tables; safe from any thread.
// Errors: InvalidArgument, one line, "<file>:<line>:<column>: <key.path>:
// <what is wrong>" (config/loader.h lists the forms).
#ifndef CANARY_CONFIG_SCHEMA_H_
#define CANARY_CONFIG_SCHEMA_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/config.h"
#include "config/document.h"

namespace canary::config {

// ConfigFromDocument validates `root` (a whole file) and returns its Config;
// `filename` is used only in error messages.
absl::StatusOr<Config> ConfigFromDocument(const Node& root,
                                          absl::string_view filename);

// The keys of one table of the file, in the schema's (and the docs') order.
struct SchemaTable {
  std::string name;  // e.g. "modules.NAME.burst"; "" for the top level
  std::vector<std::string> keys;
};

// SchemaTables lists every table the schema knows.
std::vector<SchemaTable> SchemaTables();

}  // namespace canary::config

#endif  // CANARY_CONFIG_SCHEMA_H_
