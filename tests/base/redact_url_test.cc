#include "base/redact_url.h"

#include "gtest/gtest.h"

namespace canary {
namespace {

TEST(RedactUrlUserinfoTest, ReplacesUserAndPassword) {
  EXPECT_EQ(RedactUrlUserinfo("http://u:p@h:8080/x?y=1"),
            "http://<secret>@h:8080/x?y=1");
  EXPECT_EQ(RedactUrlUserinfo("https://token@h/"), "https://<secret>@h/");
}

TEST(RedactUrlUserinfoTest, PlaceholderIsTheCallersWord) {
  EXPECT_EQ(RedactUrlUserinfo("http://u:p@proxy:3128", "<secret>"),
            "http://<secret>@proxy:3128");
}

TEST(RedactUrlUserinfoTest, EverythingUpToTheLastAtOfTheAuthorityGoes) {
  EXPECT_EQ(RedactUrlUserinfo("http://u:p@ss@h/"), "http://<secret>@h/");
}

TEST(RedactUrlUserinfoTest, AnAtOutsideTheAuthorityIsNotACredential) {
  EXPECT_EQ(RedactUrlUserinfo("http://h/a@b"), "http://h/a@b");
  EXPECT_EQ(RedactUrlUserinfo("http://h?mail=a@b"), "http://h?mail=a@b");
  EXPECT_EQ(RedactUrlUserinfo("http://h#a@b"), "http://h#a@b");
}

TEST(RedactUrlUserinfoTest, TextWithoutSchemeOrUserinfoIsUnchanged) {
  EXPECT_EQ(RedactUrlUserinfo("u:p@h/x"), "u:p@h/x");
  EXPECT_EQ(RedactUrlUserinfo("http://h/"), "http://h/");
  EXPECT_EQ(RedactUrlUserinfo(""), "");
  EXPECT_EQ(RedactUrlUserinfo("http://"), "http://");
}

}  // namespace
}  // namespace canary
