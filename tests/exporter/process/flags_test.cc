#include "exporter/process/flags.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/scoped_env.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::canary::testing::IsOk;
using ::canary::testing::ScopedEnv;
using ::canary::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<Flags> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "canary_exporter");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return ParseFlags(static_cast<int>(args.size()), argv.data());
}

TEST(FlagsTest, DefaultsWithoutArguments) {
  ASSERT_OK_AND_ASSIGN(Flags f, Parse({}));
  EXPECT_EQ(f.config_file, "");
  EXPECT_EQ(f.listen_address, ":9427");
  EXPECT_EQ(f.timeout_offset, absl::Milliseconds(500));
  EXPECT_EQ(f.drain_timeout, absl::Seconds(25));
  EXPECT_FALSE(f.config_check);
  EXPECT_EQ(f.log_level, LogLevel::kInfo);
  EXPECT_EQ(f.log_format, LogFormat::kLogfmt);
  EXPECT_FALSE(f.help);
  EXPECT_FALSE(f.version);
}

// The image sets CANARY_CONFIG_FILE, so `docker run IMAGE --log.level=debug`
// keeps the image's config file instead of silently dropping it.
TEST(FlagsTest, ConfigFileDefaultsToTheEnvironmentAndOtherFlagsKeepIt) {
  ScopedEnv env(kConfigFileEnv, "/etc/canary_exporter/config.toml");
  ASSERT_OK_AND_ASSIGN(Flags f, Parse({"--log.level=debug"}));
  EXPECT_EQ(f.config_file, "/etc/canary_exporter/config.toml");
  EXPECT_EQ(f.log_level, LogLevel::kDebug);
}

TEST(FlagsTest, ConfigFileFlagWinsOverTheEnvironment) {
  ScopedEnv env(kConfigFileEnv, "/etc/canary_exporter/config.toml");
  ASSERT_OK_AND_ASSIGN(Flags f, Parse({"--config.file=mine.toml"}));
  EXPECT_EQ(f.config_file, "mine.toml");
  // An empty value selects the embedded default again.
  ASSERT_OK_AND_ASSIGN(Flags g, Parse({"--config.file="}));
  EXPECT_EQ(g.config_file, "");
}

struct GoodCase {
  std::vector<std::string> args;
  Flags want;
};

class GoodFlagsTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(GoodFlagsTest, ParsesTo) {
  ASSERT_OK_AND_ASSIGN(Flags f, Parse(GetParam().args));
  const Flags& w = GetParam().want;
  EXPECT_EQ(f.config_file, w.config_file);
  EXPECT_EQ(f.listen_address, w.listen_address);
  EXPECT_EQ(f.timeout_offset, w.timeout_offset);
  EXPECT_EQ(f.drain_timeout, w.drain_timeout);
  EXPECT_EQ(f.config_check, w.config_check);
  EXPECT_EQ(f.log_level, w.log_level);
  EXPECT_EQ(f.log_format, w.log_format);
  EXPECT_EQ(f.help, w.help);
  EXPECT_EQ(f.version, w.version);
}

Flags With(void (*set)(Flags*)) {
  Flags f;
  set(&f);
  return f;
}

INSTANTIATE_TEST_SUITE_P(
    Table, GoodFlagsTest,
    ::testing::Values(
        GoodCase{{"--config.file=a.toml"},
                 With([](Flags* f) { f->config_file = "a.toml"; })},
        GoodCase{{"--config.file", "b.toml"},
                 With([](Flags* f) { f->config_file = "b.toml"; })},
        GoodCase{{"--web.listen-address=127.0.0.1:0"},
                 With([](Flags* f) { f->listen_address = "127.0.0.1:0"; })},
        GoodCase{{"--web.listen-address", ":9000"},
                 With([](Flags* f) { f->listen_address = ":9000"; })},
        GoodCase{{"--timeout-offset=0.5"}, Flags{}},
        GoodCase{{"--timeout-offset=1.25"}, With([](Flags* f) {
                   f->timeout_offset = absl::Milliseconds(1250);
                 })},
        GoodCase{{"--timeout-offset", "250ms"}, With([](Flags* f) {
                   f->timeout_offset = absl::Milliseconds(250);
                 })},
        GoodCase{{"--timeout-offset=0"}, With([](Flags* f) {
                   f->timeout_offset = absl::ZeroDuration();
                 })},
        GoodCase{{"--config.check"},
                 With([](Flags* f) { f->config_check = true; })},
        GoodCase{{"--shutdown.drain-timeout=25s"}, Flags{}},
        GoodCase{{"--shutdown.drain-timeout", "90s"},
                 With([](Flags* f) { f->drain_timeout = absl::Seconds(90); })},
        GoodCase{{"--shutdown.drain-timeout=0"}, With([](Flags* f) {
                   f->drain_timeout = absl::ZeroDuration();
                 })},
        GoodCase{{"--config.check=true"},
                 With([](Flags* f) { f->config_check = true; })},
        GoodCase{{"--config.check=false"}, Flags{}},
        GoodCase{{"--config.check", "--config.file=c.toml"}, With([](Flags* f) {
                   f->config_check = true;
                   f->config_file = "c.toml";
                 })},
        GoodCase{{"--log.level=debug"},
                 With([](Flags* f) { f->log_level = LogLevel::kDebug; })},
        GoodCase{{"--log.level", "error"},
                 With([](Flags* f) { f->log_level = LogLevel::kError; })},
        GoodCase{{"--log.level=warn"},
                 With([](Flags* f) { f->log_level = LogLevel::kWarn; })},
        GoodCase{{"--log.format=json"},
                 With([](Flags* f) { f->log_format = LogFormat::kJson; })},
        GoodCase{{"--help"}, With([](Flags* f) { f->help = true; })},
        GoodCase{{"-h"}, With([](Flags* f) { f->help = true; })},
        GoodCase{{"--version"}, With([](Flags* f) { f->version = true; })}));

struct BadCase {
  std::vector<std::string> args;
  std::string message;  // a substring of the error
};

class BadFlagsTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadFlagsTest, IsInvalidArgumentNamingTheFlag) {
  EXPECT_THAT(Parse(GetParam().args),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(GetParam().message)));
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadFlagsTest,
    ::testing::Values(
        BadCase{{"--nope"}, "unknown flag --nope"},
        BadCase{{"--config_file=a"}, "unknown flag --config_file"},
        BadCase{{"-config.file=a"}, "unexpected argument \"-config.file=a\""},
        BadCase{{"positional"}, "unexpected argument \"positional\""},
        BadCase{{"--config.file"}, "flag --config.file needs a value"},
        BadCase{{"--config.file", "--config.check"},
                "flag --config.file needs a value"},
        BadCase{{"--log.level=verbose"},
                "invalid value \"verbose\" for flag --log.level"},
        BadCase{{"--log.format", "xml"},
                "invalid value \"xml\" for flag --log.format"},
        BadCase{{"--timeout-offset=abc"},
                "invalid value \"abc\" for flag --timeout-offset"},
        BadCase{{"--timeout-offset=-1"},
                "invalid value \"-1\" for flag --timeout-offset"},
        BadCase{{"--timeout-offset=-5ms"},
                "invalid value \"-5ms\" for flag --timeout-offset"},
        BadCase{{"--timeout-offset=nan"},
                "invalid value \"nan\" for flag --timeout-offset"},
        BadCase{{"--shutdown.drain-timeout=-1s"},
                "invalid value \"-1s\" for flag --shutdown.drain-timeout"},
        BadCase{{"--shutdown.drain-timeout"},
                "flag --shutdown.drain-timeout needs a value"},
        BadCase{{"--config.check=maybe"},
                "invalid value \"maybe\" for flag --config.check"},
        BadCase{{"--web.listen-address=9427"},
                "invalid value \"9427\" for flag --web.listen-address"}));

TEST(FlagsTest, UsageDocumentsEveryFlagAndTheDefaultAddress) {
  const std::string usage = Usage();
  for (const char* flag :
       {"--config.file", "--web.listen-address", "--timeout-offset",
        "--config.check", "--log.level", "--log.format", "--help", "--version",
        "--shutdown.drain-timeout", "\":9427\""}) {
    EXPECT_THAT(usage, HasSubstr(flag));
  }
}

}  // namespace
}  // namespace canary::exporter
