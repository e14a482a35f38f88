#include "exporter/service/config_store.h"

#include <utility>

#include "absl/time/clock.h"
#include "base/status_macros.h"
#include "config/loader.h"

namespace canary::exporter {

absl::StatusOr<std::unique_ptr<ConfigStore>> ConfigStore::ForFile(
    const std::string& path, SelfMetrics* metrics) {
  if (path.empty()) {
    return Create([] { return config::LoadDefaultConfig(); },
                  "embedded default", metrics);
  }
  return Create([path] { return config::LoadConfigFile(path); }, path, metrics);
}

absl::StatusOr<std::unique_ptr<ConfigStore>> ConfigStore::Create(
    Loader loader, std::string source, SelfMetrics* metrics) {
  std::unique_ptr<ConfigStore> store(
      new ConfigStore(std::move(loader), std::move(source), metrics));
  RETURN_IF_ERROR(store->Reload());
  return store;
}

ConfigStore::ConfigStore(Loader loader, std::string source,
                         SelfMetrics* metrics)
    : loader_(std::move(loader)),
      source_(std::move(source)),
      metrics_(metrics) {}

std::shared_ptr<const config::Config> ConfigStore::Get() const {
  canary::MutexLock lock(&mu_);
  return config_;
}

absl::Status ConfigStore::Reload() {
  canary::MutexLock reload_lock(&reload_mu_);
  absl::StatusOr<config::Config> loaded = loader_();
  if (metrics_ != nullptr) metrics_->ConfigLoaded(loaded.ok(), absl::Now());
  if (!loaded.ok()) return loaded.status();
  auto fresh = std::make_shared<const config::Config>(*std::move(loaded));
  canary::MutexLock lock(&mu_);
  config_ = std::move(fresh);
  return absl::OkStatus();
}

}  // namespace canary::exporter
