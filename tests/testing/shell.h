// shell.h: running tools and writing files for test fixtures (certificates,
// hostile servers, the nginx target).
//
//   ASSIGN_OR_RETURN(std::string out,
//                    RunShell(absl::StrCat("cd ", ShellQuote(dir), " && ls")));
//   RETURN_IF_ERROR(WriteFile(dir + "/index", ""));
//
// Thread-safety: all functions may be called from any thread.
// Errors: InternalError, carrying the command's output or the path.
#ifndef CANARY_TESTS_TESTING_SHELL_H_
#define CANARY_TESTS_TESTING_SHELL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace canary::testing {

// Runs `command` in a subshell (stderr folded into stdout) and returns its
// output; a non-zero exit becomes InternalError carrying that output.
absl::StatusOr<std::string> RunShell(const std::string& command);

// `s` single-quoted for the shell (paths from mkdtemp under a TMPDIR we do
// not control).
std::string ShellQuote(absl::string_view s);

// Writes `text` to `path`, replacing it.
absl::Status WriteFile(const std::string& path, const std::string& text);

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_SHELL_H_
