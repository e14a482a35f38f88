// scenario.h: the pure parts of running a scenario (config::Module::steps):
// expanding a step's templates with the VU's variables into the RequestSpec
// the transport sends, and extracting variables from a step's response.
// The burst engine (probes/burst.h) drives the steps.
//
//   Variables vars(module.variables.size());
//   absl::Status s = BuildRequest(module, step, vars, &spec);
//   ... the transport completes it as `c` ...
//   s = ExtractAll(step, c, &vars);  // fails the step when a value is missing
//
// Errors name the step, the variable and what failed, never a variable's
// value (it may be a credential taken from a login answer).
// Thread-safety: pure functions of their arguments.
#ifndef CANARY_PROBES_SCENARIO_H_
#define CANARY_PROBES_SCENARIO_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/config.h"
#include "probes/transport.h"

namespace canary::probes {

// One VU's variables in one iteration, indexed like Module::variables;
// nullopt until a step extracts the value.
using Variables = std::vector<std::optional<std::string>>;

// Expands `t`. FailedPrecondition naming the variable when one is unset (an
// optional step that defines it failed).
absl::StatusOr<std::string> Expand(const config::Template& t,
                                   const config::Module& module,
                                   const Variables& vars);

// Fills `spec` (reused between steps of a slot) for `step`.
// FailedPrecondition when a variable is unset or a header value would carry
// a line break or NUL.
absl::Status BuildRequest(const config::Module& module,
                          const config::Step& step, const Variables& vars,
                          RequestSpec* spec);

// Runs every extraction of `step` over the response `c`, in order, setting
// `vars`. NotFound naming the first that finds nothing (the step fails).
absl::Status ExtractAll(const config::Step& step, const Completion& c,
                        Variables* vars);

// The value at RFC 6901 `pointer` in the JSON text `json`: a string's
// decoded text, or a number, true, false or null as written. NotFound when
// there is nothing there, InvalidArgument for malformed JSON or when the
// value is an object or array. Bounded: one pass, nesting at most 64 deep.
absl::StatusOr<std::string> JsonPointerLookup(absl::string_view json,
                                              absl::string_view pointer);

}  // namespace canary::probes

#endif  // CANARY_PROBES_SCENARIO_H_
