// The front listener's request-head check (exporter/http/request_head.h),
// from tables.
#include "exporter/http/request_head.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace canary::exporter {
namespace {

constexpr size_t kMax = 1024;

RequestHeadCheck::State StateOf(const std::string& bytes, size_t max = kMax) {
  return CheckRequestHead(bytes, max).state;
}

TEST(RequestHeadTest, CompleteHeadsAreCompleteWithTheirLength) {
  for (const std::string head : {
           "GET / HTTP/1.1\r\n\r\n",
           "GET /-/healthy HTTP/1.0\r\nHost: x\r\n\r\n",
           "GET /probe?target=http://a/b&module=m HTTP/1.1\r\nHost: "
           "127.0.0.1:9427\r\nUser-Agent: Prometheus/2.45\r\nAccept: "
           "*/*\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
           "POST /-/reload HTTP/1.1\nHost: x\nContent-Length: 0\n\n",  // LF
           "GET / HTTP/1.1\r\nX-Empty:\r\nX-Tab: a\tb\r\n\r\n",
           "GET / HTTP/1.1\r\nX-Utf8: caf\xc3\xa9\r\n\r\n",
       }) {
    const RequestHeadCheck c = CheckRequestHead(head + "BODY", kMax);
    EXPECT_EQ(c.state, RequestHeadCheck::kComplete) << head;
    EXPECT_EQ(c.head_bytes, head.size()) << head;
  }
}

TEST(RequestHeadTest, PartsOfAValidHeadAreIncomplete) {
  const std::string head = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t n = 0; n < head.size(); ++n) {
    EXPECT_EQ(StateOf(head.substr(0, n)), RequestHeadCheck::kIncomplete) << n;
  }
}

TEST(RequestHeadTest, MalformedRequestLinesAreBadAsSoonAsTheLineEnds) {
  for (const std::string line : {
           "GET /-/healthy\r\n",          // HTTP/0.9: no version
           "GET /-/healthy\n",            // the same, bare LF
           "GET\r\n",                     // method only
           "\r\n",                        // empty line before the request
           " GET / HTTP/1.1\r\n",         // leading space
           "GET  / HTTP/1.1\r\n",         // empty target
           "GET / HTTP/1.1 \r\n",         // trailing space
           "GET / HTTP/2.0\r\n",          // not HTTP/1.x
           "GET / HTTP/1.1x\r\n",         //
           "GET / http/1.1\r\n",          //
           "G(T / HTTP/1.1\r\n",          // not a token
           "GET /a\x01z HTTP/1.1\r\n",    // control byte in the target
           "GET /a\x7fz HTTP/1.1\r\n",    // DEL
           "GET /\xc3\xa9 HTTP/1.1\r\n",  // not ASCII
           "GET /a\rb HTTP/1.1\r\n",      // bare CR
           "GET x HTTP/1.1\r\n",          // not origin form
           "GET http://a/ HTTP/1.1\r\n",  // absolute form
           "OPTIONS * HTTP/1.1\r\n",      // asterisk form
           "CONNECT a:80 HTTP/1.1\r\n",   // authority form
           "<script>alert(1)</script> HTTP/1.1\r\n",
       }) {
    EXPECT_EQ(StateOf(line), RequestHeadCheck::kBad) << line;
    // The bad line is refused with no header and no blank line after it.
    EXPECT_EQ(StateOf(line + "Host: x"), RequestHeadCheck::kBad) << line;
  }
}

TEST(RequestHeadTest, MalformedHeaderLinesAreBad) {
  for (const std::string header : {
           "NoColon\r\n", ": no name\r\n", "Bad Name: x\r\n",
           "Name : x\r\n",   // space before the colon
           " folded\r\n",    // obs-fold
           "\tfolded\r\n",   //
           "X: a\x01z\r\n",  // control byte in the value
           "X: a\rz\r\n",    // bare CR
           "X: a\x7fz\r\n",  //
       }) {
    const std::string head = "GET / HTTP/1.1\r\nHost: x\r\n" + header;
    EXPECT_EQ(StateOf(head), RequestHeadCheck::kBad) << header;
  }
  // NUL in a value and in a name.
  EXPECT_EQ(StateOf(std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26)),
            RequestHeadCheck::kBad);
  EXPECT_EQ(StateOf(std::string("GET / HTTP/1.1\r\nX\0Y: b\r\n\r\n", 26)),
            RequestHeadCheck::kBad);
}

TEST(RequestHeadTest, AHeadOverTheBoundIsTooLarge) {
  const std::string line = "GET / HTTP/1.1\r\n";
  // One unfinished line longer than the bound.
  EXPECT_EQ(StateOf(std::string(kMax + 1, 'G')), RequestHeadCheck::kTooLarge);
  EXPECT_EQ(StateOf(std::string(kMax, 'G')), RequestHeadCheck::kIncomplete);
  // Valid header lines without end.
  std::string many = line;
  while (many.size() <= kMax) many += "X-Pad: 0123456789\r\n";
  EXPECT_EQ(StateOf(many), RequestHeadCheck::kTooLarge);
  // A complete head of exactly the bound is fine; one byte more is not.
  std::string exact = line + "X: ";
  exact += std::string(kMax - exact.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), kMax);
  EXPECT_EQ(StateOf(exact), RequestHeadCheck::kComplete);
  EXPECT_EQ(StateOf(exact, kMax - 1), RequestHeadCheck::kTooLarge);
}

TEST(RequestHeadTest, ResumingFromCheckedBytesGivesTheSameAnswer) {
  const std::string head =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
  size_t from = 0;
  RequestHeadCheck c;
  for (size_t n = 1; n <= head.size(); ++n) {
    c = CheckRequestHead(head.substr(0, n), kMax, from);
    if (c.state != RequestHeadCheck::kIncomplete) break;
    EXPECT_LE(c.checked_bytes, n);
    from = c.checked_bytes;
  }
  EXPECT_EQ(c.state, RequestHeadCheck::kComplete);
  EXPECT_EQ(c.head_bytes, head.size());
  // A bad header after good ones is still found when resuming.
  const std::string bad = "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n";
  const RequestHeadCheck first =
      CheckRequestHead(bad.substr(0, 26), kMax, 0);  // up to "Host: x\r\n"
  ASSERT_EQ(first.state, RequestHeadCheck::kIncomplete);
  EXPECT_EQ(first.checked_bytes, 25u);
  EXPECT_EQ(CheckRequestHead(bad, kMax, first.checked_bytes).state,
            RequestHeadCheck::kBad);
}

TEST(RequestHeadTest, OurAnswersAreWellFormedAndSayWhatTheBodyIs) {
  for (const absl::string_view answer :
       {absl::string_view(kBadRequestResponse),
        absl::string_view(kHeadTooLargeResponse)}) {
    const size_t end = answer.find("\r\n\r\n");
    ASSERT_NE(end, absl::string_view::npos);
    const absl::string_view body = answer.substr(end + 4);
    EXPECT_THAT(std::string(answer),
                ::testing::HasSubstr(
                    "Content-Length: " + std::to_string(body.size()) + "\r\n"));
  }
}

}  // namespace
}  // namespace canary::exporter
