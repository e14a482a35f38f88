// fuzz_check.h: FUZZ_CHECK, the assertion of our libFuzzer harnesses.
//
//   FUZZ_CHECK(config.ok() || !config.status().message().empty());
//
// A failed check prints the condition and aborts, which libFuzzer reports
// as a crash and saves the input (there is no absl/log CHECK in this Abseil).
// Thread-safety: harnesses are single-threaded.
#ifndef CANARY_TESTS_FUZZ_FUZZ_CHECK_H_
#define CANARY_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // CANARY_TESTS_FUZZ_FUZZ_CHECK_H_
