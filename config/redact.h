// redact.h: renders a loaded configuration as TOML with every secret
// replaced by "<secret>", for debug output and config pages.
//
//   std::string text = RenderModule(*config->FindModule("canary"));
//   // [modules.canary.http]
//   // bearer_token = "<secret>"
//   // headers = { "Authorization" = "<secret>", "X-Canary" = "1" }
//
// The one renderer of a configuration: /probe?debug=true, the landing page
// and every config render call it, so one rule decides what is shown.
// Secrets (config/secrets.h): http.bearer_token, http.basic_auth.password,
// http.body (form logins and API keys travel in it; its size is shown), the
// values of credential headers (IsSecretHeader), the [web] basic_auth_users
// hashes, and user:password@ in http.proxy_url and in targets (RedactUrl). A
// secret read from a `*_file` key is rendered as the inline key (`bearer_token
// = "<secret>"`): the file path is not kept. Non-secret values are rendered as
// loaded, defaults included, so the output shows the effective configuration;
// it loads back (modulo secrets and TLS files that must exist).
//
// Thread-safety: pure functions of their arguments.
// Errors: none.
#ifndef CANARY_CONFIG_REDACT_H_
#define CANARY_CONFIG_REDACT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "config/config.h"

namespace canary::config {

// `value` itself, or kSecretPlaceholder when the header `name` is a secret.
std::string RedactHeaderValue(absl::string_view name, absl::string_view value);

// `url` with its user:password@ part replaced by kSecretPlaceholder.
std::string RedactUrl(absl::string_view url);

// One module as TOML tables [modules.NAME], [modules.NAME.burst], ...
std::string RenderModule(const Module& module);

// The [web] table (empty string when [web] is all defaults).
std::string RenderWeb(const WebConfig& web);

// [web] then every module, in name order.
std::string RenderConfig(const Config& config);

}  // namespace canary::config

#endif  // CANARY_CONFIG_REDACT_H_
