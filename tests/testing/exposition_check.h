// exposition_check.h: checks our exposition writer (probes/exposition.h)
// against prometheus-cpp's TextSerializer, the reference, sample by sample.
//
//   ExpectSameAsTextSerializer(registry.Collect());
//
// Thread-safety: a gtest helper; call it from the test thread.
#ifndef CANARY_TESTS_TESTING_EXPOSITION_CHECK_H_
#define CANARY_TESTS_TESTING_EXPOSITION_CHECK_H_

#include <cmath>
#include <cstdlib>
#include <locale>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "probes/exposition.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace canary::testing {

// SerializeFamilies writes the text itself (fast, std::to_chars); the
// reference is prometheus-cpp's own TextSerializer. Both outputs must have
// the same lines in the same order: comments equal, each sample's series
// equal and its value equal as a number (the two may spell a double
// differently: "0.30000000000000004" and "0.3" both read back within 1 ulp).
inline void ExpectSameAsTextSerializer(
    const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream ref_stream;
  ref_stream.imbue(std::locale::classic());
  prometheus::TextSerializer().Serialize(ref_stream, families);
  const std::string ours = probes::SerializeFamilies(families);
  const std::vector<std::string> want = absl::StrSplit(ref_stream.str(), '\n');
  const std::vector<std::string> got = absl::StrSplit(ours, '\n');
  ASSERT_EQ(got.size(), want.size()) << ours << "\n---\n" << ref_stream.str();
  for (size_t i = 0; i < got.size(); ++i) {
    if (want[i].empty() || want[i][0] == '#') {
      EXPECT_EQ(got[i], want[i]) << "line " << i + 1;
      continue;
    }
    const size_t a = got[i].rfind(' ');
    const size_t b = want[i].rfind(' ');
    ASSERT_NE(a, std::string::npos) << got[i];
    ASSERT_NE(b, std::string::npos) << want[i];
    EXPECT_EQ(got[i].substr(0, a), want[i].substr(0, b)) << "line " << i + 1;
    const std::string gv = got[i].substr(a + 1), wv = want[i].substr(b + 1);
    if (wv == "Nan" || wv == "+Inf" || wv == "-Inf") {
      EXPECT_EQ(gv, wv) << "line " << i + 1;
      continue;
    }
    const double g = std::strtod(gv.c_str(), nullptr);
    const double w = std::strtod(wv.c_str(), nullptr);
    EXPECT_NEAR(g, w, std::abs(w) * 1e-15)
        << "line " << i + 1 << ": " << gv << " vs " << wv;
  }
}

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_EXPOSITION_CHECK_H_
