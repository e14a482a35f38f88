#include "config/loader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "config/default_config.h"
#include "config/document.h"
#include "config/schema.h"
#include "config/toml_reader.h"

namespace canary::config {

absl::StatusOr<Config> LoadConfig(absl::string_view toml_text,
                                  absl::string_view filename) {
  ASSIGN_OR_RETURN(Node root, ReadToml(toml_text, filename));
  return ConfigFromDocument(root, filename);
}

absl::StatusOr<std::string> ReadConfigText(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file \"", path, "\" is a directory"));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot open config file \"", path, "\""));
  }
  std::string text;
  char buffer[1 << 14];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    text.append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    return absl::ErrnoToStatus(
        error, absl::StrCat("cannot read config file \"", path, "\""));
  }
  return text;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadConfigText(path));
  return LoadConfig(text, path);
}

absl::StatusOr<Config> LoadDefaultConfig() {
  return LoadConfig(DefaultConfigToml(), "<default config>");
}

}  // namespace canary::config
