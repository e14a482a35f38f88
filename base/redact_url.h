// redact_url.h: the one function that hides the user:password@ part of a
// URL, for logs, debug pages, the CLI and rendered configs alike.
//
//   RedactUrlUserinfo("http://u:p@h/x");              //
//   "http://<secret>@h/x" RedactUrlUserinfo("http://u:p@h/", "<secret>"); //
//   "http://<secret>@h/" RedactUrlUserinfo("http://h/a@b");                //
//   unchanged: no userinfo
//
// Only the authority (between "://" and the first / ? or #) is looked at;
// everything up to its last '@' is replaced. Text without "://" is returned
// as it is. No parsing by libcurl: this must also work on text that is not a
// valid URL (a rejected target, a proxy_url in a config being rendered).
//
// Thread-safety: a pure function. Errors: none.
#ifndef CANARY_BASE_REDACT_URL_H_
#define CANARY_BASE_REDACT_URL_H_

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace canary {

inline std::string RedactUrlUserinfo(
    absl::string_view url, absl::string_view placeholder = "<secret>") {
  const size_t scheme = url.find("://");
  if (scheme == absl::string_view::npos) return std::string(url);
  const size_t start = scheme + 3;
  const size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const size_t at = url.substr(start, end - start).rfind('@');
  if (at == absl::string_view::npos) return std::string(url);
  return absl::StrCat(url.substr(0, start), placeholder,
                      url.substr(start + at));
}

}  // namespace canary

#endif  // CANARY_BASE_REDACT_URL_H_
