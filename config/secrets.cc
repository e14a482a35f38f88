#include "config/secrets.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace canary::config {

bool IsSecretHeader(absl::string_view name) {
  // The standard credential headers, and any name that says it carries one
  // (X-Auth-Token, X-API-Key, X-Session-Id...): showing a harmless header
  // as <secret> costs little, showing a credential cannot be undone.
  const std::string lower = absl::AsciiStrToLower(name);
  for (const char* word :
       {"auth", "cookie", "token", "secret", "password", "passwd", "api-key",
        "apikey", "api_key", "session"}) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

absl::StatusOr<std::string> ReadFileAtMost(const std::string& path,
                                           int64_t max_bytes,
                                           absl::string_view what) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", path, "\" is a directory, expected a file"));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot read \"", path, "\""));
  }
  std::string text;
  char buffer[4096];
  size_t n;
  // One byte past the limit tells "too large" from "exactly the limit".
  while (text.size() <= static_cast<size_t>(max_bytes) &&
         (n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    text.append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    return absl::ErrnoToStatus(error,
                               absl::StrCat("cannot read \"", path, "\""));
  }
  if (text.size() > static_cast<size_t>(max_bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", path, "\" is larger than ", max_bytes,
                     " bytes, too large for ", what));
  }
  return text;
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text,
                   ReadFileAtMost(path, kMaxSecretFileBytes, "a secret"));
  if (absl::EndsWith(text, "\n")) text.pop_back();
  if (absl::EndsWith(text, "\r")) text.pop_back();
  if (text.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", path, "\" is empty"));
  }
  if (text.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", path,
                     "\" holds a line break or NUL inside the secret (only "
                     "one trailing newline is removed)"));
  }
  return text;
}

}  // namespace canary::config
