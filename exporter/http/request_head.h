// request_head.h: the check the edge listener (edge_listener.h) applies to
// the bytes a client has sent so far, before any of them reaches CivetWeb.
// A head is the request line and the header lines up to the empty line.
//
//   RequestHeadCheck c = CheckRequestHead(buffered, kMaxRequestHeadBytes);
//   if (c.state == RequestHeadCheck::kComplete) Relay(buffered);
//   if (c.state == RequestHeadCheck::kBad) Send(kBadRequestResponse);
//
// What is accepted: `METHOD SP TARGET SP HTTP/1.0|HTTP/1.1`, the method a
// token, the target visible ASCII only and in origin form (`/path?query`);
// header lines `name: value` with a token name and a value free of control
// bytes but HTAB; lines end in LF or CRLF. Everything else is bad, as soon as
// the line that shows it is complete: a bare HTTP/0.9 `GET /x` line is refused
// at its end instead of waiting for headers that never come, and nothing
// malformed reaches CivetWeb, which would copy bytes of it into its own 400
// status line. Folded header lines (obs-fold) and bytes before the request line
// are bad too (RFC 9112 lets a server refuse them).
//
// Thread-safety: a pure function.
#ifndef CANARY_EXPORTER_HTTP_REQUEST_HEAD_H_
#define CANARY_EXPORTER_HTTP_REQUEST_HEAD_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace canary::exporter {

// The default bound on request line plus headers.
inline constexpr size_t kMaxRequestHeadBytes = 16 * 1024;

struct RequestHeadCheck {
  enum State {
    kIncomplete,  // valid so far; wait for more bytes
    kComplete,    // a whole valid head of `head_bytes` bytes
    kBad,         // malformed: answer kBadRequestResponse and close
    kTooLarge,    // no end of head within the bound: kHeadTooLargeResponse
  };
  State state = kIncomplete;
  size_t head_bytes = 0;  // kComplete: bytes up to and including the blank line
  // kIncomplete: the whole lines checked so far; pass it as `from` when
  // more bytes arrive, so a head sent a byte at a time is scanned once.
  size_t checked_bytes = 0;
};

// Checks the first bytes a client sent. `max_head_bytes` bounds the head;
// bytes after a complete head (a body) are not looked at. `from` is a
// previous kIncomplete result's checked_bytes (0 the first time).
RequestHeadCheck CheckRequestHead(absl::string_view buffered,
                                  size_t max_head_bytes, size_t from = 0);

// Our own fixed answers: they never echo a byte the client sent.
inline constexpr char kBadRequestResponse[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
    "Content-Length: 12\r\nConnection: close\r\n\r\nbad request\n";
inline constexpr char kHeadTooLargeResponse[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\n"
    "Content-Type: text/plain\r\nContent-Length: 23\r\nConnection: close\r\n"
    "\r\nrequest head too large\n";

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_HTTP_REQUEST_HEAD_H_
