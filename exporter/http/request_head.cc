#include "exporter/http/request_head.h"

#include <algorithm>

namespace canary::exporter {
namespace {

// RFC 9110 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return absl::string_view("!#$%&'*+-.^_`|~").find(c) !=
         absl::string_view::npos;
}

bool IsToken(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

bool IsVisible(char c) { return c > 0x20 && c < 0x7f; }

bool ValidRequestLine(absl::string_view line) {
  const size_t sp1 = line.find(' ');
  if (sp1 == absl::string_view::npos) return false;
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == absl::string_view::npos) return false;  // HTTP/0.9: no version
  const absl::string_view method = line.substr(0, sp1);
  const absl::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const absl::string_view version = line.substr(sp2 + 1);
  // Origin form only ("/path?query"): the exporter serves nothing else, and
  // CivetWeb answers other forms with its own errors.
  return IsToken(method) && !target.empty() && target.front() == '/' &&
         std::all_of(target.begin(), target.end(), IsVisible) &&
         (version == "HTTP/1.1" || version == "HTTP/1.0");
}

bool ValidHeaderLine(absl::string_view line) {
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return false;
  if (!IsToken(line.substr(0, colon))) return false;  // also obs-fold
  const absl::string_view value = line.substr(colon + 1);
  return std::all_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
  });
}

}  // namespace

RequestHeadCheck CheckRequestHead(absl::string_view buffered,
                                  size_t max_head_bytes, size_t from) {
  size_t start = from;
  bool first = from == 0;
  while (true) {
    const size_t lf = buffered.find('\n', start);
    if (lf == absl::string_view::npos) {
      // An unfinished line is checked when it ends; a line longer than the
      // bound never ends in time.
      return {.state = buffered.size() > max_head_bytes
                           ? RequestHeadCheck::kTooLarge
                           : RequestHeadCheck::kIncomplete,
              .checked_bytes = start};
    }
    if (lf + 1 > max_head_bytes) return {RequestHeadCheck::kTooLarge};
    absl::string_view line = buffered.substr(start, lf - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != absl::string_view::npos) {
      return {RequestHeadCheck::kBad};
    }
    if (first) {
      if (!ValidRequestLine(line)) return {RequestHeadCheck::kBad};
      first = false;
    } else if (line.empty()) {
      return {.state = RequestHeadCheck::kComplete, .head_bytes = lf + 1};
    } else if (!ValidHeaderLine(line)) {
      return {RequestHeadCheck::kBad};
    }
    start = lf + 1;
  }
}

}  // namespace canary::exporter
