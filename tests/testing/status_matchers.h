// status_matchers.h: gMock matchers for absl::Status and absl::StatusOr,
// which Abseil 20220623 does not ship.
//
//   EXPECT_THAT(LoadConfig(text), IsOk());
//   EXPECT_THAT(LoadConfig(bad), StatusIs(absl::StatusCode::kInvalidArgument,
//                                         HasSubstr("line 3")));
#ifndef CANARY_TESTS_TESTING_STATUS_MATCHERS_H_
#define CANARY_TESTS_TESTING_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace canary::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status: " << s.ToString();
  return s.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + ::testing::PrintToString(code)) {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status: " << s.ToString();
  return s.code() == code &&
         ::testing::Matches(message_matcher)(std::string(s.message()));
}

}  // namespace canary::testing

// ASSERT_OK_AND_ASSIGN(lhs, expr): asserts `expr` is OK and moves its value.
#define CANARY_TESTING_CONCAT_INNER_(a, b) a##b
#define CANARY_TESTING_CONCAT_(a, b) CANARY_TESTING_CONCAT_INNER_(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                     \
  auto CANARY_TESTING_CONCAT_(statusor_, __LINE__) = (expr);                \
  ASSERT_TRUE(CANARY_TESTING_CONCAT_(statusor_, __LINE__).ok())             \
      << CANARY_TESTING_CONCAT_(statusor_, __LINE__).status().ToString();   \
  lhs = std::move(CANARY_TESTING_CONCAT_(statusor_, __LINE__)).value()

#endif  // CANARY_TESTS_TESTING_STATUS_MATCHERS_H_
