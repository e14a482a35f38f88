// scoped_env.h: sets an environment variable for the life of one object
// and restores the previous value (or its absence) after.
//
//   ScopedEnv env("CANARY_CONFIG_FILE", "/etc/canary_exporter/config.toml");
//
// Thread-safety: none; the environment is process-wide, so use it only in
// tests that start no threads while it lives.
#ifndef CANARY_TESTS_TESTING_SCOPED_ENV_H_
#define CANARY_TESTS_TESTING_SCOPED_ENV_H_

#include <cstdlib>
#include <optional>
#include <string>

namespace canary::testing {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_.has_value()) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace canary::testing

#endif  // CANARY_TESTS_TESTING_SCOPED_ENV_H_
