// status_macros.h: RETURN_IF_ERROR and ASSIGN_OR_RETURN, which Abseil 20220623
// does not ship.
//
//   absl::StatusOr<Config> Load(...) {
//     ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     RETURN_IF_ERROR(Validate(text));
//     ...
//   }
#ifndef CANARY_BASE_STATUS_MACROS_H_
#define CANARY_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CANARY_STATUS_CONCAT_INNER_(a, b) a##b
#define CANARY_STATUS_CONCAT_(a, b) CANARY_STATUS_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR(expr): returns the status of `expr` from the enclosing
// function when it is not OK.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    const ::absl::Status canary_status_ = (expr);    \
    if (!canary_status_.ok()) return canary_status_; \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr): evaluates the StatusOr `expr`; returns its
// status when not OK, otherwise moves its value into `lhs` (which may be a
// declaration).
#define ASSIGN_OR_RETURN(lhs, expr)                                         \
  ASSIGN_OR_RETURN_IMPL_(CANARY_STATUS_CONCAT_(canary_statusor_, __LINE__), \
                         lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#endif  // CANARY_BASE_STATUS_MACROS_H_
