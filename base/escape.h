// escape.h: the one string escaper for double-quoted text that JSON strings,
// TOML basic strings and logfmt quoted values all read the same way.
//
//   std::string out = "\"";
//   AppendEscaped(&out, "a \"b\"\n");  // a \"b\"\n
//   out += "\"";
//
// Escapes \" \\ \n \r \t and other control characters as \u00XX (valid in
// all three); every other byte, UTF-8 included, is copied as it is.
//
// Thread-safety: a pure function. Errors: none.
#ifndef CANARY_BASE_ESCAPE_H_
#define CANARY_BASE_ESCAPE_H_

#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace canary {

inline void AppendEscaped(std::string* out, absl::string_view v) {
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

// `v` escaped and in double quotes.
inline std::string Quoted(absl::string_view v) {
  std::string out = "\"";
  AppendEscaped(&out, v);
  out += "\"";
  return out;
}

}  // namespace canary

#endif  // CANARY_BASE_ESCAPE_H_
