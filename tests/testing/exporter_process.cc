#include "tests/testing/exporter_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace canary::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// posix_spawn, not fork: the test process has threads (target servers).
absl::StatusOr<pid_t> Spawn(const std::string& binary,
                            const std::vector<std::string>& args,
                            const std::string& output_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  // The child starts with no blocked signals, whatever this thread blocks.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot start ", binary, ": errno ", rc));
  }
  return pid;
}

std::string TempPath(absl::string_view stem) {
  std::string path =
      (std::filesystem::temp_directory_path() / absl::StrCat(stem, "-XXXXXX"))
          .string();
  const int fd = mkstemp(path.data());
  if (fd >= 0) close(fd);
  return path;
}

// Polls for the child's exit until `deadline`.
absl::StatusOr<int> WaitUntil(pid_t pid, absl::Time deadline) {
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (r < 0) return absl::InternalError("waitpid failed");
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("the process has not exited");
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExporterProcess>> ExporterProcess::Start(
    const std::string& binary, const std::vector<std::string>& args,
    absl::Duration ready_timeout) {
  std::unique_ptr<ExporterProcess> p(new ExporterProcess());
  p->log_path_ = TempPath("canary-exporter-log");
  std::vector<std::string> all = args;
  all.push_back("--web.listen-address=127.0.0.1:0");
  absl::StatusOr<pid_t> pid = Spawn(binary, all, p->log_path_);
  if (!pid.ok()) return pid.status();
  p->pid_ = *pid;
  static constexpr std::string_view kListening =
      "msg=listening address=127.0.0.1:";
  const absl::Time deadline = absl::Now() + ready_timeout;
  while (absl::Now() < deadline) {
    const std::string log = p->Log();
    if (size_t at = log.find(kListening); at != std::string::npos) {
      const size_t start = at + kListening.size();
      const size_t end = log.find_first_not_of("0123456789", start);
      if (end != std::string::npos &&
          absl::SimpleAtoi(log.substr(start, end - start), &p->port_)) {
        return p;
      }
    }
    int status = 0;
    if (waitpid(p->pid_, &status, WNOHANG) == p->pid_) {
      p->pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat("the exporter exited before listening:\n", p->Log()));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::UnavailableError(absl::StrCat(
      "the exporter did not log its address in time:\n", p->Log()));
}

ExporterProcess::~ExporterProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (!log_path_.empty()) std::filesystem::remove(log_path_);
}

std::string ExporterProcess::Url(absl::string_view path_and_query) const {
  return absl::StrCat("http://127.0.0.1:", port_, path_and_query);
}

void ExporterProcess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

absl::StatusOr<int> ExporterProcess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  absl::StatusOr<int> code = WaitUntil(pid_, absl::Now() + timeout);
  if (code.ok()) pid_ = -1;
  return code;
}

std::string ExporterProcess::Log() const { return ReadFile(log_path_); }

std::string BinaryUnderTest(const std::string& built) {
  const char* other = std::getenv("CANARY_EXPORTER_UNDER_TEST");
  return other != nullptr && *other != '\0' ? std::string(other) : built;
}

absl::StatusOr<int> RunToCompletion(const std::string& binary,
                                    const std::vector<std::string>& args,
                                    std::string* output,
                                    absl::Duration timeout) {
  const std::string path = TempPath("canary-exporter-run");
  absl::StatusOr<pid_t> pid = Spawn(binary, args, path);
  if (!pid.ok()) return pid.status();
  absl::StatusOr<int> code = WaitUntil(*pid, absl::Now() + timeout);
  if (!code.ok()) {
    kill(*pid, SIGKILL);
    int status = 0;
    waitpid(*pid, &status, 0);
  }
  *output = ReadFile(path);
  std::filesystem::remove(path);
  return code;
}

}  // namespace canary::testing
