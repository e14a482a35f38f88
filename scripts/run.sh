#!/usr/bin/env bash
# One command from a fresh Debian 12 machine: installs what is missing, builds, and starts the
# exporter on its embedded default config (listening on :9427). Extra arguments go to the exporter,
# e.g. scripts/run.sh --config.file=my.toml --log.level=debug
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DCANARY_BUILD_TESTS=OFF
exec build/canary_exporter "$@"
