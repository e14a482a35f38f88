#include "exporter/process/log.h"

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::canary::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const absl::Time kTs = absl::FromUnixMillis(1767323045678);  // 2026-01-02

TEST(FormatLogLineTest, LogfmtPutsTsLevelMsgFirst) {
  EXPECT_EQ(FormatLogLine(LogFormat::kLogfmt, kTs, LogLevel::kInfo, "listening",
                          {{"address", "127.0.0.1:9427"}}),
            "ts=2026-01-02T03:04:05.678Z level=info msg=listening "
            "address=127.0.0.1:9427\n");
}

TEST(FormatLogLineTest, LogfmtQuotesSpacesQuotesAndEmptyValues) {
  EXPECT_EQ(
      FormatLogLine(LogFormat::kLogfmt, kTs, LogLevel::kError, "reload failed",
                    {{"err", "a.toml:1:2: say \"hi\""},
                     {"empty", ""},
                     {"eq", "a=b"},
                     {"nl", "x\ny"},
                     {"back", "c:\\d"}}),
      "ts=2026-01-02T03:04:05.678Z level=error msg=\"reload failed\" "
      "err=\"a.toml:1:2: say \\\"hi\\\"\" empty=\"\" eq=\"a=b\" "
      "nl=\"x\\ny\" back=\"c:\\\\d\"\n");
}

TEST(FormatLogLineTest, JsonEscapesAndKeepsOrder) {
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, kTs, LogLevel::kWarn, "say \"hi\"",
                          {{"path", "c:\\x"},
                           {"ctl", std::string("a\x01"
                                               "b")}}),
            "{\"ts\":\"2026-01-02T03:04:05.678Z\",\"level\":\"warn\","
            "\"msg\":\"say \\\"hi\\\"\",\"path\":\"c:\\\\x\","
            "\"ctl\":\"a\\u0001b\"}\n");
}

TEST(LoggerTest, DropsLinesBelowTheLevel) {
  std::ostringstream out;
  Logger log(&out, LogLevel::kWarn, LogFormat::kLogfmt);
  log.Debug("d");
  log.Info("i");
  log.Warn("w");
  log.Error("e");
  EXPECT_THAT(out.str(), MatchesRegex("ts=[^ ]+ level=warn msg=w\n"
                                      "ts=[^ ]+ level=error msg=e\n"));
  EXPECT_FALSE(log.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.Enabled(LogLevel::kError));
}

TEST(LoggerTest, ConfigureSwitchesLevelAndFormat) {
  std::ostringstream out;
  Logger log(&out);
  log.Debug("hidden");
  log.Configure(LogLevel::kDebug, LogFormat::kJson);
  log.Debug("shown", {{"k", "v"}});
  EXPECT_THAT(out.str(), MatchesRegex("\\{\"ts\":\"[^\"]+\",\"level\":"
                                      "\"debug\",\"msg\":\"shown\","
                                      "\"k\":\"v\"\\}\n"));
}

TEST(LoggerTest, ConcurrentLinesNeverInterleave) {
  std::ostringstream out;
  Logger log(&out);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 200; ++i) {
        log.Info("tick", {{"thread", std::to_string(t)}});
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<std::string> lines =
      absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 800u);
  for (const std::string& line : lines) {
    EXPECT_THAT(line,
                MatchesRegex("ts=[^ ]+ level=info msg=tick thread=[0-3]"));
  }
}

TEST(ParseLogTest, LevelsAndFormats) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("error"), LogLevel::kError);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_THAT(ParseLogLevel("INFO"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("INFO")));
  EXPECT_THAT(ParseLogFormat("text"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("text")));
}

}  // namespace
}  // namespace canary::exporter
