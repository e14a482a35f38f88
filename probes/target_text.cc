#include "probes/target_text.h"

#include <cstddef>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace canary::probes {
namespace {

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::Status CheckTargetBytes(absl::string_view target) {
  for (size_t i = 0; i < target.size(); ++i) {
    const auto c = static_cast<unsigned char>(target[i]);
    if (IsControl(c)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target \"", RedactTargetText(target), "\" contains control byte ",
          absl::StrFormat("0x%02X", c), " at offset ", i,
          "; a URL cannot carry control bytes"));
    }
    if (c != '%' || i + 2 >= target.size()) continue;
    const int hi = HexValue(target[i + 1]);
    const int lo = HexValue(target[i + 2]);
    if (hi < 0 || lo < 0) continue;
    const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
    if (IsControl(decoded)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target \"", RedactTargetText(target), "\" contains control byte ",
          absl::StrFormat("0x%02X", decoded), " (percent-encoded as \"",
          target.substr(i, 3), "\") at offset ", i,
          "; a URL cannot carry control bytes"));
    }
  }
  return absl::OkStatus();
}

std::string RedactTargetText(absl::string_view target) {
  // Where the authority ends is unknown in text that may not parse (a
  // password may hold an unencoded '/', '?' or '#'), so everything up to
  // the last '@' goes: too much hidden in an error message is harmless,
  // a password shown is not.
  const size_t at = target.rfind('@');
  std::string shown;
  if (at == absl::string_view::npos) {
    shown = std::string(target);
  } else {
    const size_t scheme = target.find("://");
    const size_t start =
        scheme != absl::string_view::npos && scheme < at ? scheme + 3 : 0;
    shown =
        absl::StrCat(target.substr(0, start), "<secret>", target.substr(at));
  }
  return absl::CEscape(shown);
}

}  // namespace canary::probes
