// Every tests/testdata/config/bad/<name>.toml must fail to load with exactly
// the message in <name>.err.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "config/loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::config {
namespace {

namespace fs = std::filesystem;
using ::canary::testing::StatusIs;
using ::testing::Eq;

const fs::path kBadDir = fs::path(CANARY_TEST_SRCDIR) / "testdata/config/bad";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> BadConfigNames() {
  std::vector<std::string> names;
  for (const fs::directory_entry& e : fs::directory_iterator(kBadDir)) {
    if (e.path().extension() == ".toml") names.push_back(e.path().stem());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class BadConfigTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BadConfigTest, FailsWithExactMessage) {
  const fs::path toml = kBadDir / (GetParam() + ".toml");
  const fs::path err = kBadDir / (GetParam() + ".err");
  ASSERT_TRUE(fs::exists(err)) << "missing " << err;
  std::string want(absl::StripTrailingAsciiWhitespace(ReadFile(err)));
  EXPECT_THAT(LoadConfig(ReadFile(toml), toml.filename().string()),
              StatusIs(absl::StatusCode::kInvalidArgument, Eq(want)));
}

INSTANTIATE_TEST_SUITE_P(Files, BadConfigTest,
                         ::testing::ValuesIn(BadConfigNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(BadConfigDirTest, HasAtLeastTwentyCasesAndNoOrphanMessages) {
  EXPECT_GE(BadConfigNames().size(), 20u);
  for (const fs::directory_entry& e : fs::directory_iterator(kBadDir)) {
    if (e.path().extension() != ".err") continue;
    fs::path toml = e.path();
    toml.replace_extension(".toml");
    EXPECT_TRUE(fs::exists(toml)) << e.path() << " has no .toml";
  }
}

}  // namespace
}  // namespace canary::config
