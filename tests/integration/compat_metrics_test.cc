// blackbox_exporter-compatible metrics and the [modules.NAME.metrics]
// switches, read from real /probe answers: the exporter's CivetWeb server,
// libcurl with OpenSSL, and an HTTPS target on loopback with a throw-away
// certificate. Also keeps docs/metrics.md's "Samples per target" table true.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "config/loader.h"
#include "exporter/process/log.h"
#include "exporter/service/config_store.h"
#include "exporter/service/self_metrics.h"
#include "exporter/service/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "probes/prober.h"
#include "probes/target.h"
#include "tests/testing/certs.h"
#include "tests/testing/http_client.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/target_server.h"

namespace canary {
namespace {

using ::canary::testing::HttpGet;
using ::canary::testing::HttpResult;
using ::canary::testing::TargetServer;
using ::testing::HasSubstr;
using ::testing::Not;

// (phases, blackbox_compat) of each module, named "<phases>_<compat>".
const std::vector<std::pair<std::string, std::string>>& Settings() {
  static const auto* const kSettings =
      new std::vector<std::pair<std::string, std::string>>{
          {"histogram", "true"},  {"histogram", "false"}, {"quantiles", "true"},
          {"quantiles", "false"}, {"off", "true"},        {"off", "false"}};
  return *kSettings;
}

// Three sequential requests per burst: one new connection, two reused.
std::string ConfigText(const std::string& ca_file) {
  std::string text;
  for (const auto& [phases, compat] : Settings()) {
    absl::StrAppend(&text, "[modules.", phases, "_", compat, "]\n", "[modules.",
                    phases, "_", compat, ".burst]\n", "vus = 1\nrequests = 3\n",
                    "[modules.", phases, "_", compat, ".metrics]\n",
                    "phases = \"", phases, "\"\n", "blackbox_compat = ", compat,
                    "\n", "[modules.", phases, "_", compat, ".http.tls]\n",
                    "ca_file = \"", ca_file, "\"\n");
  }
  return text;
}

// Samples of an exposition: its lines that are neither comments nor empty.
int CountSamples(const std::string& text) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!line.empty() && line[0] != '#') ++n;
  }
  return n;
}

// The value of the sample whose name and labels are exactly `series`
// (e.g. `probe_http_ssl` or `probe_tls_version_info{version="TLS 1.3"}`),
// or NaN.
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, series) || !absl::StartsWith(rest, " ")) {
      continue;
    }
    double v;
    if (absl::SimpleAtod(absl::StripAsciiWhitespace(rest), &v)) return v;
  }
  return std::nan("");
}

// The line of the first sample of `name` (with labels), or "".
std::string SampleLine(const std::string& text, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, absl::StrCat(name, "{")) ||
        absl::StartsWith(line, absl::StrCat(name, " "))) {
      return std::string(line);
    }
  }
  return "";
}

std::string RunCommand(const std::string& command, int* exit_code) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// The "Samples per target" table of docs/metrics.md: "<phases>_<compat>" to
// the number written there.
std::map<std::string, int> DocumentedSamples() {
  std::ifstream in(CANARY_TEST_SRCDIR "/../docs/metrics.md");
  std::stringstream doc;
  doc << in.rdbuf();
  std::map<std::string, int> table;
  bool in_section = false;
  for (absl::string_view line : absl::StrSplit(doc.str(), '\n')) {
    if (absl::StartsWith(line, "#")) {
      in_section = line == "### Samples per target";
      continue;
    }
    if (!in_section || !absl::StartsWith(line, "| `")) continue;
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    if (cells.size() < 5) continue;
    int n;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(cells[3]), &n)) continue;
    const std::string key = absl::StrCat(
        absl::StripAsciiWhitespace(absl::StrReplaceAll(cells[1], {{"`", ""}})),
        "_",
        absl::StripAsciiWhitespace(absl::StrReplaceAll(cells[2], {{"`", ""}})));
    table[key] = n;
  }
  return table;
}

class CompatMetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_THAT(probes::GlobalInit(), canary::testing::IsOk());
    auto cert = canary::testing::MakeSelfSignedCert(30);
    ASSERT_TRUE(cert.ok()) << cert.status();
    cert_ = new canary::testing::TestCert(*cert);
    auto target = TargetServer::Start(
        {.tls = true, .cert_pem_path = cert_->pem_path, .threads = 4});
    ASSERT_TRUE(target.ok()) << target.status();
    target_ = target->release();
    logger_ = new exporter::Logger(&log_sink_, exporter::LogLevel::kError);
    metrics_ = new exporter::SelfMetrics;
    const std::string config = ConfigText(cert_->cert_path);
    auto store = exporter::ConfigStore::Create(
        [config] { return config::LoadConfig(config, "test.toml"); },
        "test.toml", metrics_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = store->release();
    prober_ = probes::NewHttpProber().release();
    auto server = exporter::Server::Start(
        {.listen_address = "127.0.0.1:0", .logger = logger_}, prober_, store_,
        metrics_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete prober_;
    delete store_;
    delete metrics_;
    delete logger_;
    delete target_;
    delete cert_;
  }

  // The /probe answer for `path` on the HTTPS target with `module`.
  static std::string Probe(const std::string& module, const std::string& path) {
    auto r = HttpGet(
        absl::StrCat("http://127.0.0.1:", server_->port(),
                     "/probe?module=", module, "&target=", target_->Url(path)),
        {}, absl::Seconds(20));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_EQ(r->status, 200) << r->body;
    return r->body;
  }

  static inline canary::testing::TestCert* cert_ = nullptr;
  static inline TargetServer* target_ = nullptr;
  static inline std::ostringstream log_sink_;
  static inline exporter::Logger* logger_ = nullptr;
  static inline exporter::SelfMetrics* metrics_ = nullptr;
  static inline exporter::ConfigStore* store_ = nullptr;
  static inline probes::Prober* prober_ = nullptr;
  static inline exporter::Server* server_ = nullptr;
};

TEST_F(CompatMetricsTest, ValuesOfARealHttpsBurst) {
  const std::string text = Probe("histogram_true", "/redirect?n=2");
  ASSERT_EQ(Sample(text, "probe_success"), 1) << text;
  EXPECT_EQ(Sample(text, "probe_http_status_code"), 200);
  EXPECT_EQ(Sample(text, "probe_http_version"), 1.1);
  EXPECT_EQ(Sample(text, "probe_http_ssl"), 1);
  // /redirect?n=2 -> n=1 -> n=0 -> /ok: three redirects.
  EXPECT_EQ(Sample(text, "probe_http_redirects"), 3);
  EXPECT_EQ(Sample(text, "probe_http_content_length"), 2);  // "ok"
  EXPECT_EQ(Sample(text, "probe_http_uncompressed_body_length"), 2);
  EXPECT_EQ(Sample(text, "probe_failed_due_to_regex"), 0);
  EXPECT_EQ(Sample(text, "probe_ip_protocol"), 4);
  // FNV-1a of ::ffff:127.0.0.1, computed independently.
  EXPECT_EQ(Sample(text, "probe_ip_addr_hash"), 99635399);
  EXPECT_GT(Sample(text, "probe_http_duration_seconds{phase=\"tls\"}"), 0);
  EXPECT_GT(Sample(text, "probe_http_duration_seconds{phase=\"processing\"}"),
            0);
  EXPECT_GE(Sample(text, "probe_dns_lookup_time_seconds"), 0);
  // OpenSSL 3 on both ends of loopback negotiates TLS 1.3.
  EXPECT_EQ(Sample(text, "probe_tls_version_info{version=\"TLS 1.3\"}"), 1);
  EXPECT_EQ(Sample(text, "probe_ssl_last_chain_expiry_timestamp_seconds"),
            absl::ToUnixSeconds(cert_->not_after));

  int rc = -1;
  std::string fingerprint =
      RunCommand(absl::StrCat("openssl x509 -noout -fingerprint -sha256 -in ",
                              cert_->cert_path),
                 &rc);
  ASSERT_EQ(rc, 0) << fingerprint;
  fingerprint = absl::AsciiStrToLower(absl::StrReplaceAll(
      absl::StripAsciiWhitespace(fingerprint.substr(fingerprint.find('=') + 1)),
      {{":", ""}}));
  const std::string info = SampleLine(text, "probe_ssl_last_chain_info");
  EXPECT_THAT(info, HasSubstr(absl::StrCat("fingerprint_sha256=\"", fingerprint,
                                           "\"")));
  EXPECT_THAT(info, HasSubstr("subject=\"CN=localhost\""));
  EXPECT_THAT(info, HasSubstr("issuer=\"CN=localhost\""));
  EXPECT_THAT(info, HasSubstr("subjectalternative=\"localhost\""));
  EXPECT_THAT(info, HasSubstr("serialnumber=\""));
}

TEST_F(CompatMetricsTest, StatusCodeAndLengthsOfOtherAnswers) {
  std::string text = Probe("off_true", "/status?code=503");
  EXPECT_EQ(Sample(text, "probe_success"), 0);
  EXPECT_EQ(Sample(text, "probe_http_status_code"), 503);
  text = Probe("off_true", "/body?bytes=1234");
  EXPECT_EQ(Sample(text, "probe_http_content_length"), 1234);
  EXPECT_EQ(Sample(text, "probe_http_uncompressed_body_length"), 1234);
  EXPECT_EQ(Sample(text, "probe_http_redirects"), 0);
}

TEST_F(CompatMetricsTest, SwitchesAndSamplesPerTargetAsDocumented) {
  const std::map<std::string, int> documented = DocumentedSamples();
  ASSERT_EQ(documented.size(), Settings().size())
      << "docs/metrics.md \"### Samples per target\" table";
  for (const auto& [phases, compat] : Settings()) {
    const std::string module = absl::StrCat(phases, "_", compat);
    const std::string text = Probe(module, "/ok");
    ASSERT_EQ(Sample(text, "probe_success"), 1) << module << "\n" << text;
    EXPECT_EQ(!SampleLine(text, "probe_http_status_code").empty(),
              compat == "true")
        << module;
    EXPECT_EQ(
        !SampleLine(text, "probe_http_phase_duration_seconds_bucket").empty(),
        phases == "histogram")
        << module;
    EXPECT_EQ(
        !SampleLine(text, "probe_http_phase_duration_quantile_seconds").empty(),
        phases == "quantiles")
        << module;
    auto it = documented.find(module);
    ASSERT_NE(it, documented.end()) << module;
    EXPECT_EQ(CountSamples(text), it->second)
        << "docs/metrics.md samples per target, phases = " << phases
        << ", blackbox_compat = " << compat << ":\n"
        << text;

    // promtool's lint accepts every setting's real output.
    const std::string path =
        absl::StrCat(::testing::TempDir(), "/compat_", module, ".prom");
    std::ofstream(path) << text;
    int rc = -1;
    const std::string out = RunCommand(
        absl::StrCat("promtool check metrics < ", path, " 2>&1"), &rc);
    EXPECT_EQ(rc, 0) << module << ": " << out;
    EXPECT_THAT(out, Not(HasSubstr("error"))) << module;
    std::remove(path.c_str());
  }
}

}  // namespace
}  // namespace canary
