// reliability_fixture.h: what every reliability test shares: the built
// canary_exporter binary (BinaryUnderTest, exporter_process.h) and one
// loopback target server (target_server.h) for the whole suite.
//
//   class MyTest : public ReliabilityTest {};
//   TEST_F(MyTest, X) {
//     auto e = ExporterProcess::Start(Binary(), {"--config.file=" +
//         WriteConfig("my.toml", "[modules.m]\n")});
//     ... target_server()->Url("/delay?ms=100") ...
//   }
//
// Thread-safety: as TargetServer; the statics are set up before any test.
#ifndef CANARY_TESTS_RELIABILITY_RELIABILITY_FIXTURE_H_
#define CANARY_TESTS_RELIABILITY_RELIABILITY_FIXTURE_H_

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/testing/exporter_process.h"
#include "tests/testing/http_client.h"
#include "tests/testing/target_server.h"

namespace canary::testing {

class ReliabilityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The first HttpGet initializes libcurl before any thread uses it.
    (void)HttpGet("http://127.0.0.1:1/");
    absl::StatusOr<std::unique_ptr<TargetServer>> t = TargetServer::Start();
    ASSERT_TRUE(t.ok()) << t.status();
    target_ = t->release();
  }
  static void TearDownTestSuite() {
    delete target_;
    target_ = nullptr;
  }

  static TargetServer* target_server() { return target_; }
  static std::string Binary() {
    return BinaryUnderTest(CANARY_EXPORTER_BINARY);
  }
  // Writes `text` to a file `name` in the test temp dir; returns its path.
  static std::string WriteConfig(absl::string_view name,
                                 absl::string_view text) {
    const std::string path = ::testing::TempDir() + std::string(name);
    std::ofstream(path) << text;
    return path;
  }

 private:
  static inline TargetServer* target_ = nullptr;
};

}  // namespace canary::testing

#endif  // CANARY_TESTS_RELIABILITY_RELIABILITY_FIXTURE_H_
