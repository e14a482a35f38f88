// key_table.h: the machinery of the config schema (config/schema.cc): a
// Table per TOML table lists its Keys, each binding a key name to a Config
// field through a Reader of its value syntax. Unknown-key detection, the
// reading and the error messages all come from that one list.
//
//   const Table<ServerConfig> kServer{
//       "server",
//       {Field("max_concurrent_probes", &ServerConfig::max_concurrent_probes,
//              IntIn<int>(1, kMaxConcurrentProbes))}};
//   ServerConfig server;
//   RETURN_IF_ERROR(ReadTable(value, kServer, server));
//
// Keys are read in their listed order (First() keys before the others);
// Required() keys must be present. Tables and Readers are immutable and
// safe to share between threads.
// Errors: every Reader and ReadTable return InvalidArgument in the form of
// config/document.h, "<file>:<line>:<column>: <key.path>: <what>".
#ifndef CANARY_CONFIG_KEY_TABLE_H_
#define CANARY_CONFIG_KEY_TABLE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/status_macros.h"
#include "config/document.h"

namespace canary::config {

// Reads one value of the file into a V.
template <typename V>
using Reader = std::function<absl::StatusOr<V>(const Value&)>;

// One key of a table. `read` gets the whole table, so a key may depend on
// keys read before it; it is null for a key another entry reads (the
// `*_file` half of a secret).
template <typename T>
struct Key {
  absl::string_view name;
  std::function<absl::Status(const Value& table, T& out)> read;
  bool first = false;     // First()
  bool required = false;  // Required()
};

// One TOML table: its keys in documentation order (unknown-key suggestions
// prefer the earlier key), and the rules over several keys.
template <typename T>
struct Table {
  absl::string_view name;  // as SchemaTables() reports it
  std::vector<Key<T>> keys;
  // Before any key is read (pairs of keys), after all (defaults that depend
  // on other keys).
  std::function<absl::Status(const Value& table, T& out)> before;
  std::function<absl::Status(const Value& table, T& out)> after;
};

// ReadTable rejects keys of `t` that `table` does not list, checks the
// Required() ones, then runs `before`, the First() keys, the other keys and
// `after`, each in listed order, stopping at the first error.
template <typename T>
absl::Status ReadTable(const Value& t, const Table<T>& table, T& out) {
  std::vector<absl::string_view> names;
  for (const Key<T>& k : table.keys) names.push_back(k.name);
  RETURN_IF_ERROR(t.CheckKeys(names));
  for (const Key<T>& k : table.keys) {
    if (k.required && !t.Has(k.name)) {
      return t.Error(absl::StrCat("missing required key \"", k.name, "\""));
    }
  }
  if (table.before) RETURN_IF_ERROR(table.before(t, out));
  for (bool first : {true, false}) {
    for (const Key<T>& k : table.keys) {
      if (k.first == first && k.read) RETURN_IF_ERROR(k.read(t, out));
    }
  }
  if (table.after) RETURN_IF_ERROR(table.after(t, out));
  return absl::OkStatus();
}

// A key that, when present, `read` turns into `member`.
template <typename T, typename M, typename V>
Key<T> Field(absl::string_view name, M T::*member, Reader<V> read) {
  return {name, [name, member, read](const Value& t, T& out) -> absl::Status {
            std::optional<Value> v = t.Get(name);
            if (!v.has_value()) return absl::OkStatus();
            ASSIGN_OR_RETURN(out.*member, read(*v));
            return absl::OkStatus();
          }};
}

// A key read with code of its own (cross-key rules, several fields).
template <typename T>
Key<T> Custom(absl::string_view name,
              std::function<absl::Status(const Value& table, T& out)> read) {
  return {name, std::move(read)};
}

// A key that must be present.
template <typename T>
Key<T> Required(Key<T> key) {
  key.required = true;
  return key;
}

// A key read before the others of its table: later keys depend on it, or
// its value errors must not hide behind a missing file.
template <typename T>
Key<T> First(Key<T> key) {
  key.first = true;
  return key;
}

// The `key` table of `parent`, or an empty table at the same path when the
// key is absent (a table whose defaults depend on its keys).
Value GetOrEmpty(const Value& parent, absl::string_view key);

// `a` and `b` of table `t` are both set or both absent, else an error at the
// one present: requires "<other>" as well (<why>).
absl::Status RequireBoth(const Value& t, absl::string_view a,
                         absl::string_view b, absl::string_view why);

// ---- readers of value syntaxes ----

// A string; a boolean.
Reader<std::string> String();
Reader<bool> Bool();

// A duration in (0, max], or [0, max] when `zero_ok`.
Reader<absl::Duration> DurationIn(bool zero_ok, absl::Duration max);

// `read`, then `ok` must hold, else the error `what(value)`.
template <typename V>
Reader<V> Where(Reader<V> read, std::function<bool(const V&)> ok,
                std::function<std::string(const V&)> what) {
  return [read, ok, what](const Value& v) -> absl::StatusOr<V> {
    ASSIGN_OR_RETURN(V value, read(v));
    if (!ok(value)) return v.Error(what(value));
    return value;
  };
}

// An integer in [min, max], as an I.
template <typename I>
Reader<I> IntIn(int64_t min, int64_t max) {
  return [min, max](const Value& v) -> absl::StatusOr<I> {
    ASSIGN_OR_RETURN(int64_t n, v.Int(min, max));
    return static_cast<I>(n);
  };
}

// A string naming one of `choices`. `quote` quotes them in messages (for
// values that look like numbers) and names them in the type error too.
template <typename E>
Reader<E> OneOf(std::vector<std::pair<std::string, E>> choices,
                bool quote = false) {
  std::vector<std::string> names;
  for (const auto& [name, e] : choices) {
    names.push_back(quote ? absl::StrCat("\"", name, "\"") : name);
  }
  std::string list = names.size() == 2
                         ? absl::StrCat(names[0], " or ", names[1])
                         : absl::StrCat("one of ", absl::StrJoin(names, ", "));
  std::string expected =
      quote ? absl::StrCat("a string (", list, ")") : "a string";
  return [choices = std::move(choices), list = std::move(list),
          expected = std::move(expected)](const Value& v) -> absl::StatusOr<E> {
    ASSIGN_OR_RETURN(std::string s, v.String(expected));
    for (const auto& [name, e] : choices) {
      if (name == s) return e;
    }
    return v.Error(absl::StrCat("must be ", list, ", got \"", s, "\""));
  };
}

// An array, each element read by `element`.
template <typename V>
Reader<std::vector<V>> ArrayOf(Reader<V> element) {
  return [element](const Value& v) -> absl::StatusOr<std::vector<V>> {
    ASSIGN_OR_RETURN(std::vector<Value> elements, v.Elements());
    std::vector<V> out;
    out.reserve(elements.size());
    for (const Value& e : elements) {
      ASSIGN_OR_RETURN(V item, element(e));
      out.push_back(std::move(item));
    }
    return out;
  };
}

// A nested table read with its own Table; `expected` names it in the type
// error. `table` must outlive the Reader.
template <typename V>
Reader<V> TableOf(const Table<V>& table,
                  absl::string_view expected = "a table") {
  return [&table, expected](const Value& v) -> absl::StatusOr<V> {
    RETURN_IF_ERROR(v.ExpectTable(expected));
    V out;
    RETURN_IF_ERROR(ReadTable(v, table, out));
    return out;
  };
}

}  // namespace canary::config

#endif  // CANARY_CONFIG_KEY_TABLE_H_
