// canary_exporter: wires flags, config, prober and HTTP server; signals
// drive reload (SIGHUP) and shutdown (SIGTERM, SIGINT: drain, then stop;
// exit 0, or 1 when --shutdown.drain-timeout abandoned requests).
#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "config/default_config.h"
#include "config/loader.h"
#include "exporter/cli/cli.h"
#include "exporter/cli/convert.h"
#include "exporter/cli/healthcheck.h"
#include "exporter/process/flags.h"
#include "exporter/process/log.h"
#include "exporter/process/version.h"
#include "exporter/service/admission.h"
#include "exporter/service/config_store.h"
#include "exporter/service/self_metrics.h"
#include "exporter/service/server.h"
#include "probes/prober.h"
#include "probes/target.h"

namespace canary::exporter {
namespace {

int CheckConfig(const Flags& flags) {
  absl::StatusOr<config::Config> config =
      flags.config_file.empty() ? config::LoadDefaultConfig()
                                : config::LoadConfigFile(flags.config_file);
  if (!config.ok()) {
    std::cerr << "config error: " << config.status().message() << "\n";
    return 1;
  }
  std::vector<std::string> names;
  for (const auto& [name, module] : config->modules) names.push_back(name);
  std::cout << "config OK: "
            << (flags.config_file.empty() ? "embedded default"
                                          : flags.config_file)
            << ": " << names.size() << " module"
            << (names.size() == 1 ? "" : "s") << " ("
            << absl::StrJoin(names, ", ") << ")\n";
  return 0;
}

// Graceful shutdown: /-/ready and new probes answer 503 at once; requests in
// progress (bursts run to their budgets) get their answers. Returns false
// when `timeout` passed, or a second SIGTERM/SIGINT came, with requests
// still in flight.
bool Drain(Server& server, const sigset_t& signals, absl::Duration timeout,
           Logger& log) {
  server.BeginShutdown();
  const absl::Time deadline = absl::Now() + timeout;
  int waiting = server.InFlight();
  if (waiting > 0) {
    log.Info("waiting for requests in flight",
             {{"requests", absl::StrCat(waiting)}});
  }
  while ((waiting = server.InFlight()) > 0) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      log.Error("drain timeout passed; abandoning requests in flight",
                {{"requests", absl::StrCat(waiting)},
                 {"drain_timeout", absl::FormatDuration(timeout)}});
      return false;
    }
    // Polls the count; a second SIGTERM/SIGINT means "now".
    const timespec step =
        absl::ToTimespec(std::min(left, absl::Milliseconds(20)));
    const int sig = sigtimedwait(&signals, nullptr, &step);
    if (sig == SIGTERM || sig == SIGINT) {
      log.Error("second signal; abandoning requests in flight",
                {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"},
                 {"requests", absl::StrCat(server.InFlight())}});
      return false;
    }
  }
  return true;
}

int Run(int argc, char** argv) {
  // A subcommand comes first, before the server's flags.
  if (argc > 1 && absl::string_view(argv[1]) == "probe") {
    return RunProbeCommand(argc - 1, argv + 1, std::cout, std::cerr);
  }
  if (argc > 1 && absl::string_view(argv[1]) == "healthcheck") {
    return RunHealthcheckCommand(argc - 1, argv + 1, std::cout, std::cerr);
  }
  absl::StatusOr<Flags> flags = ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::cerr << "canary_exporter: " << flags.status().message() << "\n\n"
              << Usage();
    return 2;
  }
  if (flags->help) {
    std::cout << Usage();
    return 0;
  }
  if (flags->version) {
    std::cout << "canary_exporter, version " << Version() << " (revision "
              << Revision() << ")\n";
    return 0;
  }
  if (!flags->convert_file.empty()) {
    return RunConvertCommand(flags->convert_file, std::cout, std::cerr);
  }
  if (flags->dump_default) {
    std::cout << config::DefaultConfigToml();
    return 0;
  }
  Logger& log = GlobalLogger();
  log.Configure(flags->log_level, flags->log_format);
  // A burst keeps one result per request (~200 bytes): a fast target fills
  // vectors of tens of MiB. glibc's default raises its mmap threshold after
  // the first such block is freed, so later ones come from the worker
  // threads' arenas and stay resident (+47 MiB per 5 s burst at 55k
  // requests/s, measured). A fixed threshold keeps every large block in
  // its own mapping, returned to the system when the burst is freed.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);

  if (absl::Status s = probes::GlobalInit(); !s.ok()) {
    log.Error("initializing libcurl failed",
              {{"err", std::string(s.message())}});
    return 1;
  }
  if (flags->config_check) return CheckConfig(*flags);

  // Blocked before any thread exists so every thread inherits the mask and
  // only sigwait below sees these signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  log.Info("starting canary_exporter",
           {{"version", Version()}, {"revision", Revision()}});
  SelfMetrics metrics;
  absl::StatusOr<std::unique_ptr<ConfigStore>> store =
      ConfigStore::ForFile(flags->config_file, &metrics);
  if (!store.ok()) {
    log.Error("loading config failed",
              {{"file", flags->config_file},
               {"err", std::string(store.status().message())}});
    return 1;
  }
  log.Info("loaded config", {{"source", (*store)->Source()}});

  std::unique_ptr<probes::Prober> prober = probes::NewHttpProber();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start({.listen_address = flags->listen_address,
                     .timeout_offset = flags->timeout_offset,
                     .history_limit = flags->history_limit},
                    prober.get(), store->get(), &metrics);
  if (!server.ok()) {
    log.Error("starting HTTP server failed",
              {{"err", std::string(server.status().message())}});
    return 1;
  }
  log.Info("listening", {{"address", (*server)->address()}});
  if (std::optional<std::string> w =
          WorkerPoolWarning(*(*store)->Get(), (*server)->num_threads())) {
    log.Warn("worker pool too small", {{"msg", *w}});
  }

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      if (absl::Status s = (*store)->Reload(); s.ok()) {
        log.Info("config reloaded", {{"source", (*store)->Source()}});
        if (std::optional<std::string> w =
                WorkerPoolWarning(*(*store)->Get(), (*server)->num_threads())) {
          log.Warn("worker pool too small", {{"msg", *w}});
        }
      } else {
        log.Error("reloading config failed",
                  {{"source", (*store)->Source()},
                   {"err", std::string(s.message())}});
      }
      continue;
    }
    log.Info("shutting down",
             {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"},
              {"drain_timeout", absl::FormatDuration(flags->drain_timeout)}});
    break;
  }
  if (!Drain(**server, signals, flags->drain_timeout, log)) {
    // The workers still run bursts: stopping CivetWeb would join them, so
    // the process ends here instead.
    std::_Exit(1);
  }
  (*server)->Stop();
  log.Info("stopped");
  return 0;
}

}  // namespace
}  // namespace canary::exporter

int main(int argc, char** argv) { return canary::exporter::Run(argc, argv); }
