// document.h: a parsed config file as a neutral tree with positions, and
// Value, the typed access to it that reports errors as file:line:column.
//
// config/toml_reader.h turns TOML text into a Node; config/schema.h reads
// the Node into a Config through Values. Nothing here knows TOML syntax or
// which keys exist.
//
//   Value root(node, /*path=*/"", "canary.toml");
//   std::optional<Value> vus = root.Get("vus");
//   if (vus) ASSIGN_OR_RETURN(int64_t n, vus->Int(1, 1000));
//   // on error: "canary.toml:7:7: vus: must be between 1 and 1000, got 0"
//
// Thread-safety: immutable once built; safe to read from any thread.
// Errors: every Value method returns InvalidArgument in the form
//   <filename>:<line>:<column>: <dotted.key.path>: <what is wrong>
#ifndef CANARY_CONFIG_DOCUMENT_H_
#define CANARY_CONFIG_DOCUMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace canary::config {

// Where something was written; 0 means unknown (an implicit table).
struct Position {
  uint32_t line = 0;
  uint32_t column = 0;
};

// One value of the file. Only the member that `type` names is set.
struct Node {
  enum class Type {
    kTable,
    kArray,
    kString,
    kInteger,
    kFloat,
    kBoolean,
    kDate,
    kTime,
    kDateTime,
  };
  struct Entry;

  Type type = Type::kTable;
  Position position;
  std::string string;
  int64_t integer = 0;
  double number = 0;
  bool boolean = false;
  std::vector<Entry> entries;  // kTable, in file order
  std::vector<Node> elements;  // kArray

  // The value of `key` in this table, or nullptr.
  const Node* Find(absl::string_view key) const;
  // "table", "array", "string", "integer", "float", "boolean", "date",
  // "time" or "date-time", as error messages name the type.
  absl::string_view TypeName() const;
};

struct Node::Entry {
  std::string key;
  Position key_position;
  Node value;
};

// Formats the one-line error every config message uses; positions below 1
// are shown as 1 so that the message stays a valid editor link.
absl::Status ErrorAt(absl::string_view filename, Position where,
                     absl::string_view path, absl::string_view what);

// Appends `key` to a dotted path, quoting it as TOML would when it is not a
// bare key ([A-Za-z0-9_-]+).
std::string ChildPath(absl::string_view path, absl::string_view key);
bool IsBareKey(absl::string_view key);

// A Node with its dotted key path and the file name, for errors.
class Value {
 public:
  Value(const Node& node, std::string path, absl::string_view filename)
      : node_(&node), path_(std::move(path)), filename_(filename) {}

  const Node& node() const { return *node_; }
  const std::string& path() const { return path_; }
  absl::string_view filename() const { return filename_; }

  // An error at this value: "<file>:<l>:<c>: <path>: <what>".
  absl::Status Error(absl::string_view what) const;
  // "expected <expected>, got <type>".
  absl::Status TypeError(absl::string_view expected) const;

  // ---- tables ----
  // The child `key` of this table; nullopt when absent or not a table.
  std::optional<Value> Get(absl::string_view key) const;
  bool Has(absl::string_view key) const { return Get(key).has_value(); }
  // Fails (at the key) on the first key, in file order, not in `known`,
  // suggesting a known key within two edits.
  absl::Status CheckKeys(absl::Span<const absl::string_view> known) const;
  // A table's entries in file order; a type error when not a table.
  struct Member;
  absl::StatusOr<std::vector<Member>> Members(
      absl::string_view expected = "a table") const;
  absl::Status ExpectTable(absl::string_view expected = "a table") const;

  // ---- arrays ----
  // An array's elements, with paths "<path>[i]"; a type error otherwise.
  absl::StatusOr<std::vector<Value>> Elements() const;

  // ---- scalars ----
  absl::StatusOr<std::string> String(
      absl::string_view expected = "a string") const;
  absl::StatusOr<bool> Bool() const;
  // An integer in [min, max].
  absl::StatusOr<int64_t> Int(int64_t min, int64_t max) const;
  // An integer or a float, finite.
  absl::StatusOr<double> Number() const;
  // A duration string in (0, max], or [0, max] when `zero_ok`.
  absl::StatusOr<absl::Duration> Duration(bool zero_ok,
                                          absl::Duration max) const;

 private:
  const Node* node_;
  std::string path_;
  absl::string_view filename_;
};

// One entry of a table: its key, where the key was written, and its value.
struct Value::Member {
  absl::string_view key;
  Position key_position;
  Value value;
  // An error at the key rather than at its value.
  absl::Status KeyError(absl::string_view what) const;
};

}  // namespace canary::config

#endif  // CANARY_CONFIG_DOCUMENT_H_
