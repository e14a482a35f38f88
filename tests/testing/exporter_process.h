// exporter_process.h: the built canary_exporter binary as a child process,
// for tests that need the real process: signals, exit codes, its whole log.
//
//   ASSERT_OK_AND_ASSIGN(auto exporter,
//                        ExporterProcess::Start(binary,
//                        {"--log.level=debug"}));
//   HttpGet(exporter->Url("/-/healthy"));
//   exporter->Signal(SIGTERM);
//   ASSERT_OK_AND_ASSIGN(int code, exporter->Wait(absl::Seconds(10)));
//   EXPECT_THAT(exporter->Log(), HasSubstr("msg=stopped"));
//
// Start adds --web.listen-address=127.0.0.1:0, sends the child's stderr (its
// log) and stdout to one temporary file, and waits for the "listening" log
// line to learn the port.
//
// Thread-safety: Url/port from any thread; the rest from one thread.
// Errors: Start returns Unavailable when the binary cannot be started or
// did not log its address within `ready_timeout` (the message carries its
// log); Wait returns DeadlineExceeded when the child has not exited in time
// (the child is then killed).
#ifndef CANARY_TESTS_TESTING_EXPORTER_PROCESS_H_
#define CANARY_TESTS_TESTING_EXPORTER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace canary::testing {

class ExporterProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ExporterProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      absl::Duration ready_timeout = absl::Seconds(20));
  // Kills (SIGKILL) and reaps a child still running; removes the log file.
  ~ExporterProcess();
  ExporterProcess(const ExporterProcess&) = delete;
  ExporterProcess& operator=(const ExporterProcess&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path_and_query.
  std::string Url(absl::string_view path_and_query) const;
  pid_t pid() const { return pid_; }

  void Signal(int signal);
  // The exit code (128 + N for a death by signal N) once the child exits.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // Everything the child wrote to stderr and stdout so far.
  std::string Log() const;

 private:
  ExporterProcess() = default;

  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// The binary a test runs: $CANARY_EXPORTER_UNDER_TEST when set (another
// build, e.g. the one before a fix, to watch a test fail), else `built`.
std::string BinaryUnderTest(const std::string& built);

// Runs `binary` with `args` to completion (at most `timeout`, then SIGKILL),
// stdout and stderr into `output`; returns the exit code as Wait does.
absl::StatusOr<int> RunToCompletion(const std::string& binary,
                                    const std::vector<std::string>& args,
                                    std::string* output,
                                    absl::Duration timeout = absl::Seconds(30));

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_EXPORTER_PROCESS_H_
