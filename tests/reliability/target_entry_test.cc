// Where a target enters the exporter (issue 14 items 3 and 4), against the
// built binary:
// - every control byte, raw or percent-encoded, in a /probe target is a 400
//   before anything is sent (the target server sees no request), and the
//   `probe` command refuses the same targets with exit 2;
// - at --log.level=debug no password of a target (valid, invalid, refused,
//   failing) and no module secret (bearer token, basic auth, secret header)
//   shows in any log line, any answer, any page, or the CLI's output.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/reliability/reliability_fixture.h"
#include "tests/testing/exporter_process.h"
#include "tests/testing/http_client.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/target_server.h"

namespace canary::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Percent-encodes every byte outside unreserved characters, so the value
// arrives in the handler exactly as `s` (CivetWeb decodes it once).
std::string QueryEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", u);
    }
  }
  return out;
}

std::vector<unsigned char> ControlBytes() {
  std::vector<unsigned char> out;
  for (int c = 0; c < 0x20; ++c) out.push_back(static_cast<unsigned char>(c));
  out.push_back(0x7f);
  return out;
}

class TargetEntryTest : public ReliabilityTest {};

TEST_F(TargetEntryTest, EveryControlByteIs400AndNothingIsSent) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ExporterProcess> exporter,
                       ExporterProcess::Start(Binary(), {}));
  target_server()->ResetHits();
  const std::string base =
      absl::StrCat("http://127.0.0.1:", target_server()->port());
  for (unsigned char c : ControlBytes()) {
    const std::string raw(1, static_cast<char>(c));
    for (const std::string& byte : {raw, absl::StrFormat("%%%02X", c)}) {
      const std::string target = absl::StrCat(base, "/ok", byte, "evil");
      absl::StatusOr<HttpResult> r =
          HttpGet(exporter->Url(absl::StrCat("/probe?module=http_2xx&target=",
                                             QueryEscape(target))),
                  {}, absl::Seconds(10));
      ASSERT_THAT(r, IsOk()) << absl::CHexEscape(target);
      // A 400 body is one line; a probe's answer is long and says nothing
      // more here.
      const std::string head = r->body.substr(0, 300);
      EXPECT_EQ(r->status, 400) << absl::CHexEscape(target) << ": " << head;
      EXPECT_THAT(head, HasSubstr(absl::StrFormat("control byte 0x%02X", c)))
          << absl::CHexEscape(target);
      // The body names the byte in printable form, never the byte itself.
      EXPECT_EQ(r->body.find(static_cast<char>(c), 0),
                c == '\n' ? r->body.size() - 1 : std::string::npos)
          << absl::CHexEscape(r->body);
      EXPECT_EQ(target_server()->Hits(absl::StrCat("/ok", raw, "evil")), 0);
    }
  }
  // The NUL case of issue 14: cut at the NUL, it was probed as /ok.
  EXPECT_EQ(target_server()->Hits("/ok"), 0);
  // And a clean target still goes through the same path.
  absl::StatusOr<HttpResult> ok = HttpGet(exporter->Url(absl::StrCat(
      "/probe?module=http_2xx&target=", QueryEscape(base + "/ok"))));
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->status, 200);
  EXPECT_THAT(ok->body, HasSubstr("\nprobe_success 1\n"));
  EXPECT_EQ(target_server()->Hits("/ok"), 1);
}

TEST_F(TargetEntryTest, ProbeCommandRefusesControlBytesWithExit2) {
  const std::string base =
      absl::StrCat("http://127.0.0.1:", target_server()->port());
  target_server()->ResetHits();
  // A raw NUL cannot be in argv; every other control byte can.
  for (unsigned char c : ControlBytes()) {
    std::vector<std::string> targets = {
        absl::StrCat(base, "/ok", absl::StrFormat("%%%02X", c), "evil")};
    if (c != 0) {
      targets.push_back(
          absl::StrCat(base, "/ok", std::string(1, static_cast<char>(c))));
    }
    for (const std::string& target : targets) {
      std::string output;
      ASSERT_OK_AND_ASSIGN(
          int code,
          RunToCompletion(Binary(), {"probe", "--module=http_2xx", target},
                          &output, absl::Seconds(20)));
      EXPECT_EQ(code, 2) << absl::CHexEscape(target) << ": " << output;
      EXPECT_THAT(output, HasSubstr(absl::StrFormat("control byte 0x%02X", c)));
    }
  }
  EXPECT_EQ(target_server()->Hits("/ok"), 0);
}

// Passwords are distinct words, so a hit names the case that leaked.
TEST_F(TargetEntryTest, NoCredentialInAnyLogLineAnswerOrPage) {
  const std::string config = WriteConfig("canary_target_entry.toml", R"toml(
[modules.http_2xx]
timeout = "1s"

[modules.bearer]
timeout = "1s"
[modules.bearer.http]
bearer_token = "BearerSecret11"
headers = { "X-Api-Key" = "HeaderSecret13" }

[modules.basic]
timeout = "1s"
[modules.basic.http]
basic_auth = { username = "probe", password = "BasicSecret12" }
)toml");
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<ExporterProcess> exporter,
      ExporterProcess::Start(Binary(), {absl::StrCat("--config.file=", config),
                                        "--log.level=debug"}));
  const std::string port = absl::StrCat(target_server()->port());
  struct Case {
    std::string target;
    std::string module;
    long status;
  };
  const std::vector<Case> cases = {
      // Valid: probed, answered 200.
      {absl::StrCat("http://user:PwValid1@127.0.0.1:", port, "/ok"), "http_2xx",
       200},
      {absl::StrCat("user:PwBare9@127.0.0.1:", port, "/ok"), "http_2xx", 200},
      {absl::StrCat("http://user:PwBearer14@127.0.0.1:", port, "/ok"), "bearer",
       200},
      {absl::StrCat("http://user:PwBasic15@127.0.0.1:", port, "/ok"), "basic",
       200},
      // Failing: a closed loopback port; still 200, probe_success 0.
      {"http://user:PwFail2@127.0.0.1:1/", "http_2xx", 200},
      // Invalid: 400 from the parser.
      {"http://user:PwBadPort3@127.0.0.1:99999/", "http_2xx", 400},
      {"ftp://user:PwScheme4@127.0.0.1/", "http_2xx", 400},
      {"http://user:PwSlash5/x@127.0.0.1/", "http_2xx", 400},
      {absl::StrCat("http://user:PwCtl6@127.0.0.1:", port, "/ok%00"),
       "http_2xx", 400},
      {absl::StrCat("http://user:PwRaw7@127.0.0.1:", port, "/ok\x01"),
       "http_2xx", 400},
      {"http://user:PwUnknownModule16@127.0.0.1/", "nosuchmodule", 400},
      // Over-long: 414.
      {absl::StrCat("http://user:PwLong10@127.0.0.1/", std::string(2100, 'a')),
       "http_2xx", 414},
      // Refused by the allowlist (loopback only by default; an IP literal,
      // so nothing is resolved or sent).
      {"http://user:PwDenied8@10.255.255.1/", "http_2xx", 403},
  };
  const std::vector<std::string> secrets = {
      "PwValid1",  "PwBare9",        "PwBearer14",        "PwBasic15",
      "PwFail2",   "PwBadPort3",     "PwScheme4",         "PwSlash5",
      "PwCtl6",    "PwRaw7",         "PwUnknownModule16", "PwLong10",
      "PwDenied8", "BearerSecret11", "BasicSecret12",     "HeaderSecret13"};

  std::vector<std::pair<std::string, std::string>> bodies;  // what, body
  for (const Case& c : cases) {
    for (const char* debug : {"", "&debug=true"}) {
      const std::string url =
          exporter->Url(absl::StrCat("/probe?module=", c.module,
                                     "&target=", QueryEscape(c.target), debug));
      absl::StatusOr<HttpResult> r = HttpGet(url, {}, absl::Seconds(10));
      ASSERT_THAT(r, IsOk()) << c.target;
      EXPECT_EQ(r->status, c.status) << c.target << debug << ": " << r->body;
      bodies.emplace_back(absl::StrCat(c.target, debug), r->body);
    }
  }
  // Every page that shows targets or modules.
  for (const std::string& page : {std::string("/"), std::string("/metrics")}) {
    absl::StatusOr<HttpResult> r = HttpGet(exporter->Url(page));
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->status, 200) << page;
    bodies.emplace_back(page, r->body);
  }
  for (int id = 1; id <= 20; ++id) {
    absl::StatusOr<HttpResult> r =
        HttpGet(exporter->Url(absl::StrCat("/debug?id=", id)));
    ASSERT_THAT(r, IsOk());
    bodies.emplace_back(absl::StrCat("/debug?id=", id), r->body);
  }
  exporter->Signal(SIGTERM);
  ASSERT_OK_AND_ASSIGN(int code, exporter->Wait(absl::Seconds(20)));
  EXPECT_EQ(code, 0);
  const std::string log = exporter->Log();

  // The checks can fail: the log holds each probe, with targets redacted.
  EXPECT_THAT(log, HasSubstr("msg=\"probe finished\""));
  EXPECT_THAT(log, HasSubstr("msg=\"probe rejected\""));
  EXPECT_THAT(log, HasSubstr("msg=\"probe forbidden\""));
  EXPECT_THAT(log, HasSubstr("<secret>@127.0.0.1"));
  for (const std::string& secret : secrets) {
    EXPECT_THAT(log, Not(HasSubstr(secret))) << "log leaks " << secret;
    for (const auto& [what, body] : bodies) {
      EXPECT_THAT(body, Not(HasSubstr(secret)))
          << "answer to " << what << " leaks " << secret;
    }
  }

  // The probe command with the same targets: nothing on stdout or stderr.
  for (const Case& c : cases) {
    if (c.module != "http_2xx" || c.status == 414) continue;
    std::string output;
    ASSERT_OK_AND_ASSIGN(
        int cli_code,
        RunToCompletion(Binary(),
                        {"probe", absl::StrCat("--config.file=", config),
                         "--module=http_2xx", c.target},
                        &output, absl::Seconds(20)));
    EXPECT_NE(cli_code, 128 + SIGKILL) << c.target;
    for (const std::string& secret : secrets) {
      EXPECT_THAT(output, Not(HasSubstr(secret)))
          << "probe " << c.target << " prints " << secret;
    }
  }
}

}  // namespace
}  // namespace canary::testing
