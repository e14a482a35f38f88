#include "exporter/http/web_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace canary::exporter {
namespace {

std::string CacheKey(absl::string_view user, absl::string_view password,
                     absl::string_view hash) {
  // Length-prefixed so that no two (user, password, hash) share a key.
  std::string material = absl::StrCat(user.size(), ":", user, password.size(),
                                      ":", password, hash);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(material.data()),
         material.size(), digest);
  OPENSSL_cleanse(material.data(), material.size());
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

}  // namespace

std::optional<std::pair<std::string, std::string>> ParseBasicAuthorization(
    absl::string_view header) {
  header = absl::StripLeadingAsciiWhitespace(header);
  if (header.size() < 6 || !absl::StartsWithIgnoreCase(header, "Basic ")) {
    return std::nullopt;
  }
  absl::string_view encoded = absl::StripAsciiWhitespace(header.substr(6));
  std::string decoded;
  if (!absl::Base64Unescape(encoded, &decoded)) return std::nullopt;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

bool VerifyPassword(absl::string_view password, const std::string& hash) {
  // crypt_data is 32 KiB: too large for a worker's stack.
  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password);
  const char* out =
      crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  // libxcrypt returns null or a "*"-prefixed failure token for a bad hash.
  if (out == nullptr || out[0] == '*') return false;
  const size_t n = std::strlen(out);
  const bool ok = n == hash.size() && CRYPTO_memcmp(out, hash.data(), n) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return ok;
}

bool BasicAuthenticator::Allow(const std::map<std::string, std::string>& users,
                               absl::string_view authorization) {
  if (users.empty()) return true;
  std::optional<std::pair<std::string, std::string>> credentials =
      ParseBasicAuthorization(authorization);
  if (!credentials.has_value()) return false;
  const auto& [user, password] = *credentials;
  auto it = users.find(user);
  // An unknown user is checked against a real hash, so it costs the same
  // configured bcrypt work; the result is refused whatever it matches.
  const std::string& hash =
      it != users.end() ? it->second : users.begin()->second;
  const std::string key = CacheKey(user, password, hash);
  {
    canary::MutexLock lock(&mu_);
    if (it != users.end() && verified_.contains(key)) return true;
    ++hash_runs_;
  }
  const bool ok = VerifyPassword(password, hash) && it != users.end();
  if (ok) {
    canary::MutexLock lock(&mu_);
    if (verified_.size() >= cache_capacity_) verified_.clear();
    verified_.insert(key);
  }
  return ok;
}

int64_t BasicAuthenticator::hash_runs() const {
  canary::MutexLock lock(&mu_);
  return hash_runs_;
}

}  // namespace canary::exporter
