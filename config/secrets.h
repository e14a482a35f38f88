// secrets.h: what counts as a secret in a configuration, and reading a
// secret from a file.
//
//   ASSIGN_OR_RETURN(std::string token, ReadSecretFile("/run/token"));
//   if (IsSecretHeader("authorization")) value = kSecretPlaceholder;
//
// Secrets are the target credentials of a module (http.bearer_token,
// http.basic_auth.password, http.body, user:password@ in a URL, and the
// values of headers IsSecretHeader names) and the password hashes of [web].
// They must never reach logs, error messages, the landing page or a config
// dump: render configs with config/redact.h, the one renderer.
//
// Thread-safety: all functions are thread-safe.
// Errors: ReadSecretFile returns NotFound / PermissionDenied / the errno's
// code when the file cannot be read, InvalidArgument when it is a directory,
// empty, larger than kMaxSecretFileBytes, or holds a line break or NUL
// inside the value. Messages name the path, never the content.
#ifndef CANARY_CONFIG_SECRETS_H_
#define CANARY_CONFIG_SECRETS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace canary::config {

// What a secret is rendered as wherever a config is shown.
inline constexpr char kSecretPlaceholder[] = "<secret>";

inline constexpr int64_t kMaxSecretFileBytes = 64 * 1024;

// Whether a request header's value is a credential: Authorization,
// Proxy-Authorization, Cookie, and any name containing token, secret,
// password, passwd, api-key, apikey, api_key, auth or session
// (case-insensitive).
bool IsSecretHeader(absl::string_view name);

// Reads the whole file at `path`, at most `max_bytes` of it; a larger file
// is an InvalidArgument error saying it is too large for `what`.
absl::StatusOr<std::string> ReadFileAtMost(const std::string& path,
                                           int64_t max_bytes,
                                           absl::string_view what);

// Reads a secret from `path` as Kubernetes mounts them: the whole file,
// trailing "\n" or "\r\n" removed (only one line end).
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace canary::config

#endif  // CANARY_CONFIG_SECRETS_H_
