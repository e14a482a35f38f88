// config_store.h: the current configuration, swapped atomically on reload.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ConfigStore> store,
//                    ConfigStore::ForFile(flags.config_file, &metrics));
//   std::shared_ptr<const config::Config> c = store->Get();  // pin for a probe
//   absl::Status s = store->Reload();  // on SIGHUP or POST /-/reload
//
// A reader keeps the Config it got alive for as long as it holds the
// shared_ptr, so a reload never pulls a module out from under a burst.
// Thread-safety: every method is thread-safe; reloads are serialized.
// Errors: whatever the loader returns (InvalidArgument `file:line:col: ...`,
// NotFound, PermissionDenied); on a failed Reload() the old config stays.
#ifndef CANARY_EXPORTER_SERVICE_CONFIG_STORE_H_
#define CANARY_EXPORTER_SERVICE_CONFIG_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/sync.h"
#include "config/config.h"
#include "exporter/service/self_metrics.h"

namespace canary::exporter {

class ConfigStore {
 public:
  using Loader = std::function<absl::StatusOr<config::Config>()>;

  // Loads `path` with config::LoadConfigFile, or the embedded default config
  // when `path` is empty. Fails when the first load fails. `metrics` (may be
  // null) records every load's outcome.
  static absl::StatusOr<std::unique_ptr<ConfigStore>> ForFile(
      const std::string& path, SelfMetrics* metrics);

  // As ForFile, with any loader; `source` names it in Source().
  static absl::StatusOr<std::unique_ptr<ConfigStore>> Create(
      Loader loader, std::string source, SelfMetrics* metrics);

  std::shared_ptr<const config::Config> Get() const;

  // Runs the loader again; on success the new config replaces the old one.
  absl::Status Reload();

  // The config's file name, or "embedded default".
  const std::string& Source() const { return source_; }

 private:
  ConfigStore(Loader loader, std::string source, SelfMetrics* metrics);

  const Loader loader_;
  const std::string source_;
  SelfMetrics* const metrics_;
  canary::Mutex reload_mu_;  // one load at a time, without blocking Get()
  mutable canary::Mutex mu_;
  std::shared_ptr<const config::Config> config_ ABSL_GUARDED_BY(mu_);
};

}  // namespace canary::exporter

#endif  // CANARY_EXPORTER_SERVICE_CONFIG_STORE_H_
