// Keeps docs/configuration.md true to the code: its default config is the
// embedded one, its complete example loads, and its key tables list exactly
// the keys of the schema (config/schema.h).
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "config/config.h"
#include "config/default_config.h"
#include "config/loader.h"
#include "config/schema.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::config {
namespace {

using ::testing::HasSubstr;

std::string ReadDoc() {
  std::ifstream in(CANARY_TEST_SRCDIR "/../docs/configuration.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The first ```toml block after `heading`, or "" when there is none.
std::string TomlBlockAfter(const std::string& doc, const std::string& heading) {
  size_t at = doc.find("\n" + heading + "\n");
  if (at == std::string::npos) return "";
  size_t start = doc.find("```toml\n", at);
  if (start == std::string::npos) return "";
  start += 8;
  size_t end = doc.find("```", start);
  if (end == std::string::npos) return "";
  return doc.substr(start, end - start);
}

// The keys of every "| key ... | type | default | meaning |" table of the
// doc, one list per table, in the order written.
std::vector<std::vector<std::string>> DocKeyTables(const std::string& doc) {
  std::vector<std::vector<std::string>> tables;
  std::istringstream lines(doc);
  std::string line;
  bool in_table = false;
  while (std::getline(lines, line)) {
    if (line.rfind("| key", 0) == 0 &&
        line.find(" | type | default | meaning |") != std::string::npos) {
      tables.emplace_back();
      in_table = true;
      continue;
    }
    if (!in_table || line.rfind("|---", 0) == 0) continue;
    if (line.rfind("| `", 0) != 0) {
      in_table = false;
      continue;
    }
    size_t end = line.find('`', 3);
    tables.back().push_back(line.substr(3, end - 3));
  }
  return tables;
}

TEST(DocsTest, KeyTablesListEverySchemaKeyOnceInSchemaOrder) {
  std::vector<std::vector<std::string>> want;
  for (const SchemaTable& table : SchemaTables()) want.push_back(table.keys);
  std::vector<std::vector<std::string>> got = DocKeyTables(ReadDoc());
  ASSERT_FALSE(got.empty());
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TEST(DocsTest, EmbeddedDefaultIsShownVerbatim) {
  std::string block =
      TomlBlockAfter(ReadDoc(), "## Embedded default configuration");
  ASSERT_FALSE(block.empty());
  EXPECT_EQ(block, DefaultConfigToml());
}

TEST(DocsTest, CompleteExampleLoadsAndUsesEveryKey) {
  std::string block = TomlBlockAfter(ReadDoc(), "## Complete example");
  ASSERT_FALSE(block.empty());
  // TLS files must exist at load: point them at the test placeholders.
  std::string toml = absl::StrReplaceAll(
      block,
      {{"/etc/canary/tls/", CANARY_TEST_SRCDIR "/testdata/config/tls/"},
       {"/etc/canary/secrets/", CANARY_TEST_SRCDIR "/testdata/config/secrets/"},
       {"/etc/canary/bodies/", CANARY_TEST_SRCDIR "/testdata/config/bodies/"}});
  ASSERT_OK_AND_ASSIGN(Config config, LoadConfig(toml, "configuration.md"));
  const Module* checkout = config.FindModule("checkout");
  ASSERT_NE(checkout, nullptr);
  EXPECT_EQ(checkout->thresholds.size(), 4u);
  EXPECT_EQ(checkout->http.headers.size(), 2u);
  EXPECT_FALSE(checkout->http.tls.cert_file.empty());
  const Module* arrival = config.FindModule("arrival");
  ASSERT_NE(arrival, nullptr);
  EXPECT_TRUE(arrival->burst.open_model());
  EXPECT_EQ(arrival->http.body, "{\"sku\": \"canary\", \"qty\": 20}\n");
  EXPECT_FALSE(checkout->http.bearer_token.empty());
  ASSERT_TRUE(arrival->http.basic_auth.has_value());
  EXPECT_FALSE(arrival->http.basic_auth->password.empty());
  EXPECT_TRUE(config.web.tls_enabled());
  EXPECT_EQ(config.web.basic_auth_users.size(), 1u);
  ASSERT_TRUE(config.security.allowed_targets.has_value());
  EXPECT_EQ(config.security.allowed_targets->size(), 5u);

  // Every key the schema knows, so a new key needs its example too.
  for (const SchemaTable& table : SchemaTables()) {
    for (const std::string& key : table.keys) {
      EXPECT_THAT(block, HasSubstr(key)) << "example lacks " << key;
    }
  }
}

}  // namespace
}  // namespace canary::config

namespace canary::config {
namespace {

// The scenario examples of docs/configuration.md and README.md load as
// shipped (login -> list -> checkout).
TEST(DocsTest, ScenarioExamplesLoadVerbatim) {
  std::ifstream in(std::string(CANARY_TEST_SRCDIR) + "/../README.md");
  std::stringstream readme;
  readme << in.rdbuf();
  for (const std::string& block :
       {TomlBlockAfter(ReadDoc(), "## Scenarios: `[[modules.NAME.steps]]`"),
        TomlBlockAfter(readme.str(),
                       "## Scenarios: a user journey instead of one URL")}) {
    ASSERT_FALSE(block.empty());
    ASSERT_OK_AND_ASSIGN(Config config, LoadConfig(block, "example.toml"));
    const Module* shop = config.FindModule("shop");
    ASSERT_NE(shop, nullptr);
    ASSERT_EQ(shop->steps.size(), 3u);
    EXPECT_EQ(shop->steps[0].name, "login");
    EXPECT_EQ(shop->steps[2].name, "checkout");
    EXPECT_EQ(shop->variables.size(), 2u);
  }
}

}  // namespace
}  // namespace canary::config
