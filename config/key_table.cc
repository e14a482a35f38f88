#include "config/key_table.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"

namespace canary::config {

Value GetOrEmpty(const Value& parent, absl::string_view key) {
  static const Node* const kEmpty = new Node;
  std::optional<Value> v = parent.Get(key);
  if (v.has_value()) return *v;
  return Value(*kEmpty, ChildPath(parent.path(), key), parent.filename());
}

absl::Status RequireBoth(const Value& t, absl::string_view a,
                         absl::string_view b, absl::string_view why) {
  std::optional<Value> va = t.Get(a);
  std::optional<Value> vb = t.Get(b);
  if (va.has_value() == vb.has_value()) return absl::OkStatus();
  return (va.has_value() ? *va : *vb)
      .Error(absl::StrCat("requires \"", va.has_value() ? b : a, "\" as well (",
                          why, ")"));
}

Reader<std::string> String() {
  return [](const Value& v) { return v.String(); };
}

Reader<bool> Bool() {
  return [](const Value& v) { return v.Bool(); };
}

Reader<absl::Duration> DurationIn(bool zero_ok, absl::Duration max) {
  return [zero_ok, max](const Value& v) { return v.Duration(zero_ok, max); };
}

}  // namespace canary::config
