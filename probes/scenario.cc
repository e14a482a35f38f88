#include "probes/scenario.h"

#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "re2/re2.h"

namespace canary::probes {
namespace {

constexpr int kMaxDepth = 64;

// A forward-only reader over JSON text: enough to walk to one value.
class JsonReader {
 public:
  explicit JsonReader(absl::string_view s) : s_(s) {}

  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' ||
                              s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  char Peek() {
    Space();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }

  // A string at the cursor, decoded (\uXXXX to UTF-8, surrogate pairs too).
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    out->clear();
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      c = s_[i_++];
      switch (c) {
        case '"':
        case '\\':
        case '/':
          out->push_back(c);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 1 < s_.size() &&
              s_[i_] == '\\' && s_[i_ + 1] == 'u') {
            i_ += 2;
            uint32_t lo = 0;
            if (!Hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  // Skips the value at the cursor.
  bool Skip(int depth) {
    if (depth > kMaxDepth) return false;
    const char c = Peek();
    if (c == '"') {
      std::string ignored;
      return String(&ignored);
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++i_;
      if (Eat(close)) return true;
      do {
        if (c == '{') {
          std::string key;
          if (!String(&key) || !Eat(':')) return false;
        }
        if (!Skip(depth + 1)) return false;
      } while (Eat(','));
      return Eat(close);
    }
    return Scalar(nullptr);
  }

  // A number, true, false or null at the cursor, as written.
  bool Scalar(std::string* out) {
    Space();
    const size_t start = i_;
    while (i_ < s_.size() && (absl::ascii_isalnum(s_[i_]) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.')) {
      ++i_;
    }
    absl::string_view word = s_.substr(start, i_ - start);
    if (word.empty()) return false;
    const bool literal = word == "true" || word == "false" || word == "null";
    double ignored;
    if (!literal && !absl::SimpleAtod(word, &ignored)) return false;
    if (out != nullptr) *out = std::string(word);
    return true;
  }

 private:
  bool Hex4(uint32_t* out) {
    if (i_ + 4 > s_.size()) return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      int d = absl::ascii_isdigit(c)   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<uint32_t>(d);
    }
    *out = v;
    return true;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  absl::string_view s_;
  size_t i_ = 0;
};

absl::StatusOr<std::string> ExtractOne(const config::Extraction& e,
                                       const Completion& c) {
  using From = config::Extraction::From;
  switch (e.from) {
    case From::kHeader: {
      const std::string* found = nullptr;
      for (const auto& [name, value] : c.headers) {
        if (absl::EqualsIgnoreCase(name, e.header)) found = &value;
      }
      if (found == nullptr) {
        return absl::NotFoundError(
            absl::StrCat("no header \"", e.header, "\""));
      }
      return *found;
    }
    case From::kRegex: {
      const RE2& re = *e.regex.re;
      re2::StringPiece groups[2];
      const int n = e.group + 1;
      if (n > 2) {
        std::vector<re2::StringPiece> many(n);
        if (!re.Match(c.body, 0, c.body.size(), RE2::UNANCHORED, many.data(),
                      n)) {
          return absl::NotFoundError("the regex does not match the body");
        }
        return std::string(many[e.group]);
      }
      if (!re.Match(c.body, 0, c.body.size(), RE2::UNANCHORED, groups, n)) {
        return absl::NotFoundError("the regex does not match the body");
      }
      return std::string(groups[e.group]);
    }
    case From::kJsonPointer:
      return JsonPointerLookup(c.body, e.json_pointer);
  }
  return absl::InternalError("unknown extraction");
}

}  // namespace

absl::StatusOr<std::string> JsonPointerLookup(absl::string_view json,
                                              absl::string_view pointer) {
  JsonReader r(json);
  std::vector<std::string> tokens;
  if (!pointer.empty()) {
    for (absl::string_view t : absl::StrSplit(pointer.substr(1), '/')) {
      std::string token = absl::StrReplaceAll(t, {{"~1", "/"}, {"~0", "~"}});
      tokens.push_back(std::move(token));
    }
  }
  const absl::Status malformed =
      absl::InvalidArgumentError("the body is not valid JSON");
  for (size_t depth = 0; depth < tokens.size(); ++depth) {
    const std::string& token = tokens[depth];
    if (depth >= static_cast<size_t>(kMaxDepth)) return malformed;
    const char c = r.Peek();
    bool found = false;
    if (r.Eat('{')) {
      if (r.Eat('}')) return absl::NotFoundError("nothing at the pointer");
      std::string key;
      do {
        if (!r.String(&key) || !r.Eat(':')) return malformed;
        if (key == token) {
          found = true;
          break;
        }
        if (!r.Skip(static_cast<int>(depth) + 1)) return malformed;
      } while (r.Eat(','));
    } else if (r.Eat('[')) {
      int64_t index = -1;
      if (token.empty() || !absl::SimpleAtoi(token, &index) || index < 0 ||
          (token.size() > 1 && token[0] == '0')) {
        return absl::NotFoundError("nothing at the pointer");
      }
      if (r.Eat(']')) return absl::NotFoundError("nothing at the pointer");
      for (int64_t k = 0;; ++k) {
        if (k == index) {
          found = true;
          break;
        }
        if (!r.Skip(static_cast<int>(depth) + 1)) return malformed;
        if (!r.Eat(',')) break;
      }
    } else if (c == '\0') {
      return malformed;
    }
    if (!found) return absl::NotFoundError("nothing at the pointer");
  }
  std::string out;
  const char c = r.Peek();
  if (c == '"') {
    if (!r.String(&out)) return malformed;
    return out;
  }
  if (c == '{' || c == '[') {
    return absl::InvalidArgumentError(
        "the value at the pointer is an object or array, not a scalar");
  }
  if (!r.Scalar(&out)) return malformed;
  return out;
}

absl::StatusOr<std::string> Expand(const config::Template& t,
                                   const config::Module& module,
                                   const Variables& vars) {
  std::string out;
  for (const config::Template::Part& p : t.parts) {
    if (p.var < 0) {
      out += p.text;
      continue;
    }
    const std::optional<std::string>& v = vars[p.var];
    if (!v.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("variable \"", module.variables[p.var],
                       "\" is not set (the step that extracts it failed)"));
    }
    out += *v;
  }
  return out;
}

absl::Status BuildRequest(const config::Module& module,
                          const config::Step& step, const Variables& vars,
                          RequestSpec* spec) {
  ASSIGN_OR_RETURN(spec->url, Expand(step.url, module, vars));
  spec->url_from_variables = step.url.has_vars();
  spec->headers.clear();
  for (const auto& [name, value] : step.headers) {
    ASSIGN_OR_RETURN(std::string v, Expand(value, module, vars));
    if (v.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat(
          "header \"", name, "\": a variable's value has a line break or NUL"));
    }
    spec->headers.push_back(absl::StrCat(name, ": ", v));
  }
  ASSIGN_OR_RETURN(spec->body, Expand(step.body, module, vars));
  spec->checks = &step.checks;
  spec->keep_response = !step.extract.empty();
  return absl::OkStatus();
}

absl::Status ExtractAll(const config::Step& step, const Completion& c,
                        Variables* vars) {
  for (const config::Extraction& e : step.extract) {
    absl::StatusOr<std::string> v = ExtractOne(e, c);
    if (!v.ok()) {
      return absl::NotFoundError(
          absl::StrCat("extract \"", e.var, "\": ", v.status().message()));
    }
    (*vars)[e.var_index] = *std::move(v);
  }
  return absl::OkStatus();
}

}  // namespace canary::probes
