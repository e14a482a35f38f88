// sanitizers.h: whether this test binary runs under a sanitizer, and how much
// memory a memory-bound assertion may allow for it.
//
//   EXPECT_LT(rss_growth, kRssSlack * (32 << 20));
//
// ASan and TSan keep shadow memory, quarantine and history for every
// allocation and thread, so a resident-memory bound that is right for a
// normal build is several times too tight under them. The bounds stay
// bounds: they are only scaled.
#ifndef CANARY_TESTS_TESTING_SANITIZERS_H_
#define CANARY_TESTS_TESTING_SANITIZERS_H_

namespace canary::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
inline constexpr int kRssSlack = 8;
#else
inline constexpr bool kSanitized = false;
inline constexpr int kRssSlack = 1;
#endif

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_SANITIZERS_H_
