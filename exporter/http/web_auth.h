// web_auth.h: HTTP Basic authentication of the exporter's own endpoints
// against the bcrypt hashes of [web] basic_auth_users, as exporter-toolkit's
// web config does.
//
//   BasicAuthenticator auth;
//   if (!auth.Allow(config->web.basic_auth_users, request.authorization)) {
//     // 401 with WWW-Authenticate: kBasicChallenge
//   }
//
// bcrypt is deliberately slow (~50-100 ms at cost 10), so successful
// verifications are cached, keyed by SHA-256 of (user, password, hash): a
// changed hash (reload) never matches an old entry, and the cache holds no
// password. The cache is bounded (emptied when full). Failures are never
// cached. An unknown user still costs one bcrypt run so that response time
// does not tell which user names exist.
//
// Thread-safety: Allow may run on many threads at once.
// Errors: none; a malformed header or hash is simply "not allowed".
#ifndef CANARY_EXPORTER_HTTP_WEB_AUTH_H_
#define CANARY_EXPORTER_HTTP_WEB_AUTH_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "base/sync.h"

namespace canary::exporter {

// The WWW-Authenticate value of a 401.
inline constexpr char kBasicChallenge[] = "Basic realm=\"canary_exporter\"";

// Decodes "Basic base64(user:password)"; nullopt when malformed.
std::optional<std::pair<std::string, std::string>> ParseBasicAuthorization(
    absl::string_view header);

// Whether `password` hashes to `hash` (any scheme libxcrypt knows; the
// config only admits bcrypt). Compares in constant time.
bool VerifyPassword(absl::string_view password, const std::string& hash);

class BasicAuthenticator {
 public:
  explicit BasicAuthenticator(size_t cache_capacity = 1024)
      : cache_capacity_(cache_capacity) {}

  // True when `users` is empty (no auth configured) or `authorization` (the
  // request's Authorization header, may be empty) names a user of `users`
  // with the right password.
  bool Allow(const std::map<std::string, std::string>& users,
             absl::string_view authorization);

  // bcrypt runs so far; shows the cache working.
  int64_t hash_runs() const;

 private:
  const size_t cache_capacity_;
  mutable canary::Mutex mu_;
  absl::flat_hash_set<std::string> verified_ ABSL_GUARDED_BY(mu_);
  int64_t hash_runs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_HTTP_WEB_AUTH_H_
