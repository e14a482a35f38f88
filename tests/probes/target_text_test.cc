// Control bytes in a target, raw and percent-encoded, over every such byte;
// the redaction of target text in ParseTarget's messages.
#include "probes/target_text.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/target.h"
#include "tests/testing/status_matchers.h"

namespace canary::probes {
namespace {

using ::canary::testing::IsOk;
using ::canary::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<unsigned char> ControlBytes() {
  std::vector<unsigned char> out;
  for (int c = 0; c < 0x20; ++c) out.push_back(static_cast<unsigned char>(c));
  out.push_back(0x7f);
  return out;
}

// Each control byte at the places a target can hold it: path, query, host,
// userinfo, fragment, and a scheme-less target.
std::vector<std::string> Placements(const std::string& b) {
  return {"http://127.0.0.1:8080/ok" + b + "evil",
          "http://127.0.0.1:8080/ok?x=" + b,
          "http://127.0.0.1" + b + ".example/",
          "http://u:p" + b + "@127.0.0.1/",
          "http://127.0.0.1/#" + b,
          "127.0.0.1:8080/ok" + b,
          b + "http://127.0.0.1/"};
}

TEST(CheckTargetBytesTest, RefusesEveryRawControlByte) {
  for (unsigned char c : ControlBytes()) {
    const std::string b(1, static_cast<char>(c));
    for (const std::string& target : Placements(b)) {
      EXPECT_THAT(
          CheckTargetBytes(target),
          StatusIs(absl::StatusCode::kInvalidArgument,
                   HasSubstr(absl::StrFormat("control byte 0x%02X", c))))
          << absl::CHexEscape(target);
      EXPECT_THAT(ParseTarget(target),
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           HasSubstr("control byte")))
          << absl::CHexEscape(target);
    }
  }
}

TEST(CheckTargetBytesTest, RefusesEveryPercentEncodedControlByteInBothCases) {
  for (unsigned char c : ControlBytes()) {
    for (const std::string& b :
         {absl::StrFormat("%%%02X", c), absl::StrFormat("%%%02x", c)}) {
      for (const std::string& target : Placements(b)) {
        EXPECT_THAT(
            CheckTargetBytes(target),
            StatusIs(absl::StatusCode::kInvalidArgument,
                     AllOf(HasSubstr(absl::StrFormat("control byte 0x%02X", c)),
                           HasSubstr(absl::StrCat("percent-encoded as \"", b,
                                                  "\"")))))
            << target;
        EXPECT_THAT(ParseTarget(target),
                    StatusIs(absl::StatusCode::kInvalidArgument,
                             HasSubstr("control byte")))
            << target;
      }
    }
  }
}

TEST(CheckTargetBytesTest, AcceptsEveryOtherByteRawAndEncoded) {
  for (int c = 0x20; c < 0x100; ++c) {
    if (c == 0x7f) continue;
    const std::string raw = absl::StrCat("http://127.0.0.1/a",
                                         std::string(1, static_cast<char>(c)));
    EXPECT_THAT(CheckTargetBytes(raw), IsOk()) << c;
    const std::string encoded =
        absl::StrCat("http://127.0.0.1/a", absl::StrFormat("%%%02X", c));
    EXPECT_THAT(CheckTargetBytes(encoded), IsOk()) << encoded;
  }
  // Not an escape of a control byte: "%2500" is the text "%00", and
  // incomplete or non-hex escapes are libcurl's to judge.
  for (const char* ok : {"http://h/%2500", "http://h/%0", "http://h/%", "%",
                         "http://h/%0g", "http://h/%g0", "http://h/100%"}) {
    EXPECT_THAT(CheckTargetBytes(ok), IsOk()) << ok;
  }
}

TEST(CheckTargetBytesTest, NamesTheOffset) {
  EXPECT_THAT(
      CheckTargetBytes("http://h/ok%00evil"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at offset 11")));
  EXPECT_THAT(
      CheckTargetBytes(std::string("http://h/ok\0evil", 16)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at offset 11")));
}

TEST(CheckTargetBytesTest, MessageShowsNeitherPasswordNorRawControlByte) {
  const std::string target("http://user:hunter2@127.0.0.1/ok\0evil", 37);
  absl::Status s = CheckTargetBytes(target);
  ASSERT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("http://<secret>@127.0.0.1/ok\\000evil")));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("hunter2")));
  EXPECT_EQ(std::string(s.message()).find('\0'), std::string::npos);
}

TEST(RedactTargetTextTest, HidesEverythingBeforeTheLastAt) {
  EXPECT_EQ(RedactTargetText("http://u:p@h/x"), "http://<secret>@h/x");
  EXPECT_EQ(RedactTargetText("u:p@h/x"), "<secret>@h/x");
  // A password with an unencoded '/' or '@': the authority's end is unknown.
  EXPECT_EQ(RedactTargetText("http://u:p/w@h/x"), "http://<secret>@h/x");
  EXPECT_EQ(RedactTargetText("http://u:p@w@h/"), "http://<secret>@h/");
  EXPECT_EQ(RedactTargetText("ftp://u:pw@h/"), "ftp://<secret>@h/");
  EXPECT_EQ(RedactTargetText("http://h/x"), "http://h/x");
  EXPECT_EQ(RedactTargetText("a\"b\\c\n"), "a\\\"b\\\\c\\n");
}

// Every message ParseTarget returns for a target with a password.
TEST(ParseTargetRedactionTest, NoMessageShowsThePassword) {
  for (const char* bad :
       {"ftp://user:hunter2@127.0.0.1/", "http://user:hunter2@/",
        "http://user:hunter2@127.0.0.1:99999/", "http://user:hunter2@[::1/",
        "user:hunter2@127.0.0.1:x/", "http://user:hun/ter2@127.0.0.1/",
        "http://user:hunter2@127.0.0.1/%7F", "http://user:hunter2@h\x01/"}) {
    absl::StatusOr<Target> t = ParseTarget(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(t.status().message()),
                AllOf(Not(HasSubstr("hunter2")), Not(HasSubstr("ter2")),
                      HasSubstr("<secret>")))
        << bad;
  }
}

TEST(ParseTargetRedactionTest, RedactedUrlKeepsAllButThePassword) {
  ASSERT_OK_AND_ASSIGN(Target t,
                       ParseTarget("http://user:hunter2@127.0.0.1:8080/x?y=1"));
  EXPECT_EQ(t.url, "http://user:hunter2@127.0.0.1:8080/x?y=1");
  EXPECT_EQ(t.redacted_url, "http://<secret>@127.0.0.1:8080/x?y=1");
  ASSERT_OK_AND_ASSIGN(Target plain, ParseTarget("127.0.0.1:8080/x"));
  EXPECT_EQ(plain.redacted_url, plain.url);
}

}  // namespace
}  // namespace canary::probes
