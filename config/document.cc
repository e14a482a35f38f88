#include "config/document.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/parse.h"

namespace canary::config {
namespace {

// Levenshtein distance, for "did you mean" on unknown keys.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

const Node* Node::Find(absl::string_view key) const {
  for (const Entry& e : entries) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

absl::string_view Node::TypeName() const {
  switch (type) {
    case Type::kTable:
      return "table";
    case Type::kArray:
      return "array";
    case Type::kString:
      return "string";
    case Type::kInteger:
      return "integer";
    case Type::kFloat:
      return "float";
    case Type::kBoolean:
      return "boolean";
    case Type::kDate:
      return "date";
    case Type::kTime:
      return "time";
    case Type::kDateTime:
      return "date-time";
  }
  return "nothing";
}

absl::Status ErrorAt(absl::string_view filename, Position where,
                     absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(
      filename, ":", std::max<uint32_t>(where.line, 1), ":",
      std::max<uint32_t>(where.column, 1), ": ", path, ": ", what));
}

bool IsBareKey(absl::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '-';
  });
}

std::string ChildPath(absl::string_view path, absl::string_view key) {
  std::string k =
      IsBareKey(key) ? std::string(key) : absl::StrFormat("\"%s\"", key);
  return path.empty() ? k : absl::StrCat(path, ".", k);
}

absl::Status Value::Error(absl::string_view what) const {
  return ErrorAt(filename_, node_->position, path_, what);
}

absl::Status Value::TypeError(absl::string_view expected) const {
  return Error(
      absl::StrCat("expected ", expected, ", got ", node_->TypeName()));
}

std::optional<Value> Value::Get(absl::string_view key) const {
  if (node_->type != Node::Type::kTable) return std::nullopt;
  const Node* child = node_->Find(key);
  if (child == nullptr) return std::nullopt;
  return Value(*child, ChildPath(path_, key), filename_);
}

absl::Status Value::CheckKeys(absl::Span<const absl::string_view> known) const {
  for (const Node::Entry& e : node_->entries) {
    absl::string_view name = e.key;
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string what = "unknown key";
    size_t best = 3;
    for (absl::string_view candidate : known) {
      size_t d = EditDistance(name, candidate);
      if (d < best) {
        best = d;
        what = absl::StrCat("unknown key (did you mean \"", candidate, "\"?)");
      }
    }
    return ErrorAt(filename_, e.key_position, ChildPath(path_, name), what);
  }
  return absl::OkStatus();
}

absl::Status Value::Member::KeyError(absl::string_view what) const {
  return ErrorAt(value.filename(), key_position, value.path(), what);
}

absl::Status Value::ExpectTable(absl::string_view expected) const {
  if (node_->type != Node::Type::kTable) return TypeError(expected);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Value::Member>> Value::Members(
    absl::string_view expected) const {
  if (node_->type != Node::Type::kTable) return TypeError(expected);
  std::vector<Member> members;
  members.reserve(node_->entries.size());
  for (const Node::Entry& e : node_->entries) {
    members.push_back(
        Member{e.key, e.key_position,
               Value(e.value, ChildPath(path_, e.key), filename_)});
  }
  return members;
}

absl::StatusOr<std::vector<Value>> Value::Elements() const {
  if (node_->type != Node::Type::kArray) return TypeError("an array");
  std::vector<Value> elements;
  elements.reserve(node_->elements.size());
  for (size_t i = 0; i < node_->elements.size(); ++i) {
    elements.emplace_back(node_->elements[i], absl::StrCat(path_, "[", i, "]"),
                          filename_);
  }
  return elements;
}

absl::StatusOr<std::string> Value::String(absl::string_view expected) const {
  if (node_->type != Node::Type::kString) return TypeError(expected);
  return node_->string;
}

absl::StatusOr<bool> Value::Bool() const {
  if (node_->type != Node::Type::kBoolean) return TypeError("a boolean");
  return node_->boolean;
}

absl::StatusOr<int64_t> Value::Int(int64_t min, int64_t max) const {
  if (node_->type != Node::Type::kInteger) return TypeError("an integer");
  const int64_t v = node_->integer;
  if (v < min || v > max) {
    return Error(
        absl::StrCat("must be between ", min, " and ", max, ", got ", v));
  }
  return v;
}

absl::StatusOr<double> Value::Number() const {
  double v;
  if (node_->type == Node::Type::kInteger) {
    v = static_cast<double>(node_->integer);
  } else if (node_->type == Node::Type::kFloat) {
    v = node_->number;
  } else {
    return TypeError("a number");
  }
  if (!std::isfinite(v)) {
    return Error(absl::StrCat("must be finite, got ", v));
  }
  return v;
}

absl::StatusOr<absl::Duration> Value::Duration(bool zero_ok,
                                               absl::Duration max) const {
  if (node_->type != Node::Type::kString) {
    return TypeError("a duration string such as \"500ms\" or \"2s\"");
  }
  const std::string& text = node_->string;
  absl::StatusOr<absl::Duration> d = ParseDuration(text);
  if (!d.ok()) return Error(d.status().message());
  if (!zero_ok && *d == absl::ZeroDuration()) {
    return Error(absl::StrCat("must be greater than 0, got \"", text, "\""));
  }
  if (*d > max) {
    return Error(absl::StrCat("must be at most ", absl::FormatDuration(max),
                              ", got \"", text, "\""));
  }
  return *d;
}

}  // namespace canary::config
