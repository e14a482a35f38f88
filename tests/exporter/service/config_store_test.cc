#include "exporter/service/config_store.h"

#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::exporter {
namespace {

using ::canary::testing::IsOk;
using ::canary::testing::StatusIs;
using ::testing::HasSubstr;

class TempFile {
 public:
  explicit TempFile(const std::string& name)
      : path_(std::string(::testing::TempDir()) + "/" + name) {}
  ~TempFile() { std::remove(path_.c_str()); }
  void Write(const std::string& text) {
    std::ofstream(path_, std::ios::trunc) << text;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string MetricsText(const SelfMetrics& m) {
  absl::StatusOr<std::string> t = m.Serialize();
  return t.ok() ? *t : t.status().ToString();
}

TEST(ConfigStoreTest, EmptyPathServesEmbeddedDefault) {
  SelfMetrics metrics;
  ASSERT_OK_AND_ASSIGN(auto store, ConfigStore::ForFile("", &metrics));
  EXPECT_NE(store->Get()->FindModule("canary"), nullptr);
  EXPECT_EQ(store->Source(), "embedded default");
  EXPECT_THAT(MetricsText(metrics),
              HasSubstr("canary_exporter_config_last_reload_successful 1\n"));
}

TEST(ConfigStoreTest, MissingFileFailsFirstLoad) {
  EXPECT_THAT(ConfigStore::ForFile("/nonexistent/canary.toml", nullptr),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("/nonexistent/canary.toml")));
}

TEST(ConfigStoreTest, ReloadSwapsConfigAndFailureKeepsOld) {
  TempFile file("config_store_test.toml");
  file.Write("[modules.first]\ntimeout = \"1s\"\n");
  SelfMetrics metrics;
  ASSERT_OK_AND_ASSIGN(auto store, ConfigStore::ForFile(file.path(), &metrics));
  std::shared_ptr<const config::Config> first = store->Get();
  ASSERT_NE(first->FindModule("first"), nullptr);

  file.Write("[modules.second]\ntimeout = \"1s\"\n");
  ASSERT_THAT(store->Reload(), IsOk());
  EXPECT_NE(store->Get()->FindModule("second"), nullptr);
  EXPECT_EQ(store->Get()->FindModule("first"), nullptr);
  // A holder of the old config still has it intact.
  EXPECT_NE(first->FindModule("first"), nullptr);

  file.Write("[modules.third]\ntimeout = \"forever\"\n");
  EXPECT_THAT(store->Reload(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config_store_test.toml:2:")));
  EXPECT_NE(store->Get()->FindModule("second"), nullptr);
  EXPECT_THAT(MetricsText(metrics),
              HasSubstr("canary_exporter_config_last_reload_successful 0\n"));
}

TEST(ConfigStoreTest, CreateRunsInjectedLoader) {
  int calls = 0;
  ASSERT_OK_AND_ASSIGN(auto store,
                       ConfigStore::Create(
                           [&calls]() -> absl::StatusOr<config::Config> {
                             ++calls;
                             config::Config c;
                             c.modules["m"].name = "m";
                             return c;
                           },
                           "test", nullptr));
  EXPECT_EQ(calls, 1);
  ASSERT_THAT(store->Reload(), IsOk());
  EXPECT_EQ(calls, 2);
  EXPECT_NE(store->Get()->FindModule("m"), nullptr);
}

}  // namespace
}  // namespace canary::exporter
