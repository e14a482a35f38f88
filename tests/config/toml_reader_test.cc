#include "config/toml_reader.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "config/document.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace canary::config {
namespace {

using ::canary::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::MatchesRegex;

std::vector<std::string> Keys(const Node& table) {
  std::vector<std::string> keys;
  for (const Node::Entry& e : table.entries) keys.push_back(e.key);
  return keys;
}

TEST(TomlReaderTest, TablesKeepFileOrderAndPositions) {
  ASSERT_OK_AND_ASSIGN(Node root, ReadToml("zeta = 1\n"
                                           "alpha = \"x\"\n"
                                           "[mid]\n"
                                           "list = [1, 2.5, true]\n",
                                           "t.toml"));
  EXPECT_THAT(Keys(root), ElementsAre("zeta", "alpha", "mid"));
  const Node::Entry& alpha = root.entries[1];
  EXPECT_EQ(alpha.key_position.line, 2u);
  EXPECT_EQ(alpha.key_position.column, 1u);
  EXPECT_EQ(alpha.value.type, Node::Type::kString);
  EXPECT_EQ(alpha.value.string, "x");
  EXPECT_EQ(alpha.value.position.line, 2u);
  EXPECT_EQ(alpha.value.position.column, 9u);
  const Node* list = root.Find("mid")->Find("list");
  ASSERT_NE(list, nullptr);
  ASSERT_EQ(list->elements.size(), 3u);
  EXPECT_EQ(list->elements[0].integer, 1);
  EXPECT_EQ(list->elements[1].number, 2.5);
  EXPECT_EQ(list->elements[2].TypeName(), "boolean");
  EXPECT_EQ(root.Find("nope"), nullptr);
}

TEST(TomlReaderTest, SyntaxErrorNamesFileLineAndColumn) {
  EXPECT_THAT(ReadToml("a = 1\nb = = 2\n", "bad.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       MatchesRegex("bad\\.toml:2:[0-9]+: .+")));
}

TEST(ValueTest, ErrorsCarryFilePositionAndPath) {
  ASSERT_OK_AND_ASSIGN(Node root,
                       ReadToml("[t]\nn = 0\ns = \"2 seconds\"\n", "v.toml"));
  Value t = *Value(root, "", "v.toml").Get("t");
  EXPECT_THAT(t.Get("n")->Int(1, 9),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("v.toml:2:5: t.n: must be between 1 and 9, got 0")));
  EXPECT_THAT(t.Get("n")->String(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("v.toml:2:5: t.n: expected a string, got integer")));
  EXPECT_THAT(t.Get("s")->Duration(false, absl::Minutes(1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::StartsWith("v.toml:3:5: t.s: ")));
}

TEST(ValueTest, UnknownKeyIsReportedAtTheKeyWithASuggestion) {
  ASSERT_OK_AND_ASSIGN(Node root, ReadToml("vus = 1\n  vu = 2\n", "k.toml"));
  EXPECT_THAT(
      Value(root, "burst", "k.toml").CheckKeys({"vus", "rate"}),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          Eq("k.toml:2:3: burst.vu: unknown key (did you mean \"vus\"?)")));
}

TEST(ValueTest, NonBareKeysAreQuotedInPaths) {
  EXPECT_EQ(ChildPath("web.basic_auth_users", "a b"),
            "web.basic_auth_users.\"a b\"");
  EXPECT_EQ(ChildPath("", "modules"), "modules");
}

TEST(BurstConfigTest, RequestLimitDefaultsToOneRequestOnly) {
  BurstConfig b;
  EXPECT_EQ(b.request_limit(), 1);
  b.duration = absl::Seconds(5);
  EXPECT_EQ(b.request_limit(), std::nullopt);
  b.requests = 7;
  EXPECT_EQ(b.request_limit(), 7);
}

}  // namespace
}  // namespace canary::config
